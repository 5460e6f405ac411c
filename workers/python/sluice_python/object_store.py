"""The S3 side of the artifact store, as the TypeScript side lays it out (activities/storage/object-store.ts)."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from typing import Any

import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.config import Config
from botocore.exceptions import ClientError

S3_URI = re.compile(r"^s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?$")


class S3Objects:
    """Objects under one `s3://bucket/prefix`, by keys relative to the prefix. Credentials, region and endpoint
    come from the standard AWS environment (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL for an S3-compatible server,
    addressed path-style unless SLUICE_S3_PATH_STYLE=false); errors name the object, never a key."""

    def __init__(self, uri: str, env: dict[str, str] | None = None) -> None:
        env = dict(os.environ) if env is None else env
        match = S3_URI.match(uri)
        if not match:
            raise ValueError(f"SLUICE_ARTIFACTS: {uri} is not an s3://bucket/prefix address")
        self.bucket = match.group(1)
        self.prefix = (match.group(2) or "").strip("/")
        if any(part in (".", "..") for part in self.prefix.split("/")):
            raise ValueError(f'SLUICE_ARTIFACTS: {uri} has a "." or ".." segment')
        self.location = f"s3://{self.bucket}" + (f"/{self.prefix}" if self.prefix else "")
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL") or None
        path_style = env.get("SLUICE_S3_PATH_STYLE", "true" if endpoint else "false") != "false"
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint,
            region_name=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            config=Config(s3={"addressing_style": "path" if path_style else "auto"}),
        )

    def key(self, relative: str) -> str:
        return f"{self.prefix}/{relative}" if self.prefix else relative

    def download(self, relative: str, path: Path) -> bool:
        """The object into `path` (written aside, then renamed); False when there is no such object."""
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.download-{secrets.token_hex(4)}")
        try:
            self.client.download_file(self.bucket, self.key(relative), str(partial))
            os.replace(partial, path)
            return True
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise self.failure("read", relative, err) from None
        finally:
            partial.unlink(missing_ok=True)

    def read_text(self, relative: str) -> str | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key(relative))["Body"].read().decode()
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self.failure("read", relative, err) from None

    def list(self, relative: str) -> list[str]:
        """The relative keys of every object under a relative folder."""
        found: list[str] = []
        start = len(self.key("")) if self.prefix else 0
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.key(relative).rstrip("/") + "/"):
                found += [o["Key"][start:] for o in page.get("Contents", [])]
        except ClientError as err:
            raise self.failure("list", relative, err) from None
        return found

    def upload(self, path: Path, relative: str) -> None:
        """Multipart above boto3's threshold (8 MiB)."""
        try:
            self.client.upload_file(str(path), self.bucket, self.key(relative))
        except (ClientError, S3UploadFailedError) as err:
            raise self.failure("write", relative, err) from None

    def remove(self, relative: str) -> None:
        """Deletes an object, or every object under a relative folder."""
        keys = [self.key(relative)]
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.key(relative) + "/"):
            keys += [o["Key"] for o in page.get("Contents", [])]
        for start in range(0, len(keys), 1000):
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in keys[start : start + 1000]], "Quiet": True})

    def failure(self, action: str, relative: str, err: Exception) -> OSError:
        reason = err.response.get("Error", {}).get("Code", str(err)) if isinstance(err, ClientError) else str(err)
        return OSError(f"cannot {action} {self.location}/{relative} ({reason})")
