"""The artifact store, as the TypeScript side lays it out: content-addressed folders published by rename."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any, Callable

SCHEME = "artifact:"
MANIFEST = "_manifest.json"


class ArtifactStore:
    """Step outputs under one root: `<root>/<kind>/<fingerprint>/`, each with a `_manifest.json`."""

    def __init__(self, root: str) -> None:
        self.root = Path(os.path.abspath(root))

    def path_of(self, uri: str) -> Path:
        """The local path of an `artifact:` URI; refuses URIs that would escape the root."""
        if not uri.startswith(SCHEME):
            raise ValueError(f"not an artifact URI: {uri}")
        full = Path(os.path.normpath(self.root / uri[len(SCHEME):]))
        if self.root not in full.parents:
            raise ValueError(f"artifact URI escapes the artifact root: {uri}")
        return full

    def reuse_or_build(self, kind: str, fingerprint: str, build: Callable[[Path, Callable[[str], str]], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        """The stored output for `fingerprint`, or `build(staging_dir, uri_of)` published in one rename."""
        final = self.root / kind / fingerprint
        existing = read_manifest(final)
        if existing is not None:
            return existing, True
        staging = final.with_name(f"{fingerprint}.staging-{secrets.token_hex(6)}")
        staging.mkdir(parents=True)
        try:
            value = build(staging, lambda name: f"{SCHEME}{kind}/{fingerprint}/{name}")
            (staging / MANIFEST).write_text(json.dumps(value, indent=2))
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
