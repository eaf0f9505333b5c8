"""Where media bytes live: one store shared by every replica, chosen by `MEDIA_STORAGE_URL`.

`file:///path` keeps files in a folder (the embedded default is `var/media` under the project);
`s3://bucket/prefix` keeps objects in S3 or any S3-compatible service (MinIO, R2) through boto3,
which reads the standard `AWS_*` settings itself, `AWS_ENDPOINT_URL` included.

Layout (`storage_key`): `<conversation hash>/<yyyy>/<mm>/<media id>` under the store's root or
prefix. The conversation hash (16 hex digits of SHA-256) keeps phone numbers out of paths and
logs while keeping a customer's files together; year and month make retention sweeps cheap.
"""

from __future__ import annotations

import hashlib
import os
import time
import urllib.parse
from pathlib import Path
from typing import Any, Optional, Protocol


class MediaNotFound(LookupError):
    """No object is stored under that key."""


class MediaStore(Protocol):
    """Bytes by key; every replica sees the same keys."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key` (replacing any earlier object)."""

    def size(self, key: str) -> int:
        """The stored object's size in bytes; MediaNotFound when there is none."""

    def read(self, key: str, start: int = 0, end: Optional[int] = None) -> bytes:
        """Bytes `start..end` (end inclusive, as in HTTP ranges; None: to the last byte)."""

    def delete(self, key: str) -> None:
        """Remove the object; no error when it is already gone."""

    def purge_older_than(self, cutoff_epoch: float) -> int:
        """Remove every object stored before `cutoff_epoch`; returns how many went."""


def conversation_hash(conversation_id: str) -> str:
    """16 hex digits standing for the conversation in storage paths (no phone number in them)."""
    return hashlib.sha256(conversation_id.encode("utf-8")).hexdigest()[:16]


def storage_key(conversation_id: str, media_id: str, when: Optional[float] = None) -> str:
    """`<conversation hash>/<yyyy>/<mm>/<media id>`: the key a new file is stored under."""
    moment = time.gmtime(time.time() if when is None else when)
    return f"{conversation_hash(conversation_id)}/{moment.tm_year:04d}/{moment.tm_mon:02d}/{media_id}"


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or any(part in ("", ".", "..") for part in parts) or "\\" in key:
        raise ValueError(f"unsafe media key {key!r}")
    return key


class FileMediaStore:
    """Files under one folder (a shared volume when several replicas run)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"FileMediaStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / _check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write atomically: a temporary file renamed into place."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)

    def size(self, key: str) -> int:
        """The file's size in bytes."""
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise MediaNotFound(key) from None

    def read(self, key: str, start: int = 0, end: Optional[int] = None) -> bytes:
        """Bytes `start..end` inclusive of the file."""
        try:
            with self._path(key).open("rb") as handle:
                handle.seek(start)
                return handle.read() if end is None else handle.read(max(0, end - start + 1))
        except FileNotFoundError:
            raise MediaNotFound(key) from None

    def delete(self, key: str) -> None:
        """Remove the file if it is there."""
        self._path(key).unlink(missing_ok=True)

    def purge_older_than(self, cutoff_epoch: float) -> int:
        """Remove files last written before the cutoff."""
        removed = 0
        if not self.root.is_dir():
            return 0
        for path in self.root.rglob("*"):
            if path.is_file() and path.stat().st_mtime < cutoff_epoch:
                path.unlink(missing_ok=True)
                removed += 1
        return removed


class S3MediaStore:
    """Objects in one bucket under a prefix, through boto3 (credentials and endpoint from `AWS_*`)."""

    def __init__(self, bucket: str, prefix: str = "", client: Any = None) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client

    def __repr__(self) -> str:
        return f"S3MediaStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        _check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """One PutObject with the content type."""
        self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type)

    def size(self, key: str) -> int:
        """HeadObject's ContentLength."""
        try:
            return int(self._client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"])
        except self._client.exceptions.ClientError as error:
            raise self._missing(error, key) from None

    def read(self, key: str, start: int = 0, end: Optional[int] = None) -> bytes:
        """GetObject with an HTTP Range when only part is wanted."""
        arguments = {"Bucket": self.bucket, "Key": self._key(key)}
        if start or end is not None:
            if end is not None and end < start:
                return b""
            arguments["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            answer = self._client.get_object(**arguments)
        except self._client.exceptions.ClientError as error:
            raise self._missing(error, key) from None
        return answer["Body"].read()

    def delete(self, key: str) -> None:
        """DeleteObject (S3 answers success for a missing key too)."""
        self._client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def purge_older_than(self, cutoff_epoch: float) -> int:
        """List the prefix and delete objects last modified before the cutoff, a thousand per call."""
        paginator = self._client.get_paginator("list_objects_v2")
        listing = {"Bucket": self.bucket, **({"Prefix": self.prefix + "/"} if self.prefix else {})}
        removed = 0
        for page in paginator.paginate(**listing):
            old = [{"Key": item["Key"]} for item in page.get("Contents", []) if item["LastModified"].timestamp() < cutoff_epoch]
            for start in range(0, len(old), 1000):
                self._client.delete_objects(Bucket=self.bucket, Delete={"Objects": old[start : start + 1000], "Quiet": True})
            removed += len(old)
        return removed

    @staticmethod
    def _missing(error: Exception, key: str) -> Exception:
        code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("404", "NoSuchKey", "NotFound"):
            return MediaNotFound(key)
        return error


def open_media_store(url: str) -> MediaStore:
    """The store `MEDIA_STORAGE_URL` names: `file:///path` or `s3://bucket/prefix`."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return FileMediaStore(Path(urllib.parse.unquote(parsed.path)))
    if parsed.scheme == "s3" and parsed.netloc:
        return S3MediaStore(parsed.netloc, urllib.parse.unquote(parsed.path))
    raise ValueError("MEDIA_STORAGE_URL must start with file:/// or s3://<bucket>")
