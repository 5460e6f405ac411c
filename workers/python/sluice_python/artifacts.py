"""The artifact store, as the TypeScript side lays it out: content-addressed folders published by rename."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Callable

from .object_store import S3Objects

SCHEME = "artifact:"
MANIFEST = "_manifest.json"


class ArtifactStore:
    """Step outputs under one root: `<root>/<kind>/<fingerprint>/`, each with a `_manifest.json`. With `remote`
    (SLUICE_ARTIFACTS=s3://bucket/prefix) the S3 location is the store and `root` this worker's cache of it:
    files are uploaded first and the manifest last, and read through the cache."""

    def __init__(self, root: str, remote: S3Objects | None = None) -> None:
        self.root = Path(os.path.abspath(root))
        self.remote = remote

    @property
    def location(self) -> str:
        return self.remote.location if self.remote else str(self.root)

    def path_of(self, uri: str) -> Path:
        """The local path of an `artifact:` URI (in the cache, for a remote store); refuses URIs that would escape the root."""
        if not uri.startswith(SCHEME):
            raise ValueError(f"not an artifact URI: {uri}")
        full = Path(os.path.normpath(self.root / uri[len(SCHEME):]))
        if self.root not in full.parents:
            raise ValueError(f"artifact URI escapes the artifact root: {uri}")
        return full

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def fetch_if_present(self, uri: str) -> Path | None:
        """The local file of an artifact, downloaded first when the store is remote and this worker lacks it."""
        path = self.path_of(uri)
        if path.exists():
            return path
        if self.remote and self.remote.download(self.relative(path), path):
            return path
        return None

    def fetch(self, uri: str) -> Path:
        path = self.fetch_if_present(uri)
        if path is None:
            raise FileNotFoundError(f"artifact {uri} is not in the artifact store at {self.location}")
        return path

    def fetch_folder(self, uri: str) -> Path:
        """The local folder of an artifact folder (a run's staged scores), its files downloaded first from a remote store."""
        folder = self.path_of(uri)
        if self.remote:
            for relative in self.remote.list(self.relative(folder)):
                path = self.root / relative
                if not path.exists():
                    self.remote.download(relative, path)
        return folder

    def save(self, path: Path) -> None:
        """Copies a file written locally under the root (a checkpoint) to the remote store."""
        if self.remote:
            self.remote.upload(path, self.relative(path))

    def discard(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        if self.remote:
            self.remote.remove(self.relative(path))

    def reuse_or_build(self, kind: str, fingerprint: str, build: Callable[[Path, Callable[[str], str]], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """The stored output for `fingerprint`, or `build(staging_dir, uri_of)` published in one rename (and, for
        a remote store, uploaded files first, manifest last: a reader that finds the manifest finds the files)."""
        final = self.root / kind / fingerprint
        existing = read_manifest(final)
        if existing is None and self.remote:
            text = self.remote.read_text(f"{kind}/{fingerprint}/{MANIFEST}")
            if text is not None:
                write_atomically(final / MANIFEST, text.encode())
                existing = json.loads(text)
        if existing is not None:
            return existing, True
        staging = final.with_name(f"{fingerprint}.staging-{secrets.token_hex(6)}")
        staging.mkdir(parents=True)
        try:
            value = build(staging, lambda name: f"{SCHEME}{kind}/{fingerprint}/{name}")
            (staging / MANIFEST).write_text(json.dumps(value, indent=2))
            if self.remote:
                files = sorted((p for p in staging.rglob("*") if p.is_file()), key=lambda p: p.name.startswith("_"))
                for path in files:
                    self.remote.upload(path, f"{kind}/{fingerprint}/{path.relative_to(staging).as_posix()}")
            try:
                os.rename(staging, final)
            except OSError:
                theirs = read_manifest(final)  # another attempt published the same content first
                if theirs is None:
                    raise
                return theirs, True
            return value, False
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def open_store(env: dict[str, str] | None = None) -> ArtifactStore:
    """The store SLUICE_ARTIFACTS names: a folder, or an S3 location cached in SLUICE_CACHE (default .sluice/cache)."""
    env = dict(os.environ) if env is None else env
    artifacts = env.get("SLUICE_ARTIFACTS", ".sluice/artifacts")
    if artifacts.startswith("s3://"):
        return ArtifactStore(env.get("SLUICE_CACHE", ".sluice/cache"), S3Objects(artifacts, env))
    if "://" in artifacts:
        raise ValueError(f"SLUICE_ARTIFACTS={artifacts}: artifact stores are a folder or an s3://bucket/prefix address")
    return ArtifactStore(artifacts)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def fingerprint_of(*parts: str | int) -> str:
    """SHA-256 over length-prefixed parts, like the TypeScript side's `fingerprintOf`."""
    digest = hashlib.sha256()
    for part in parts:
        text = str(part).encode()
        digest.update(f"{len(text)}:".encode())
        digest.update(text)
    return digest.hexdigest()[:32]


def write_atomically(path: Path, data: bytes) -> None:
    """Writes aside and renames into place: the file on disk is always whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
