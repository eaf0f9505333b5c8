"""Both media stores keep bytes by key, read ranges, delete and purge; S3 runs against moto's real server."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Iterator

import boto3
import pytest
from moto.server import ThreadedMotoServer

from supportdesk.media.store import (
    FileMediaStore,
    MediaNotFound,
    MediaStore,
    S3MediaStore,
    open_media_store,
    storage_key,
)

DATA = bytes(range(256)) * 40  # 10 240 bytes


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server on a free loopback port, for the whole module."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_environment(monkeypatch: pytest.MonkeyPatch, s3_endpoint: str) -> str:
    """Standard AWS_* settings pointing boto3 at the local server, and a fresh bucket."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": s3_endpoint,
    }.items():
        monkeypatch.setenv(name, value)
    bucket = f"media-{time.time_ns()}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStore:
    """Each test runs on the file store and on S3 (moto server) through `open_media_store`."""
    if request.param == "file":
        return open_media_store((tmp_path / "media").as_uri())
    bucket = request.getfixturevalue("s3_environment")
    return open_media_store(f"s3://{bucket}/media")


def test_put_size_read_delete(store: MediaStore) -> None:
    key = storage_key("5511987654321", "m_1", when=0)
    store.put(key, DATA, "image/jpeg")
    assert store.size(key) == len(DATA)
    assert store.read(key) == DATA
    assert store.read(key, 100) == DATA[100:]
    assert store.read(key, 0, 0) == DATA[:1]
    assert store.read(key, 10, 19) == DATA[10:20]
    store.delete(key)
    store.delete(key)  # already gone: no error
    with pytest.raises(MediaNotFound):
        store.size(key)
    with pytest.raises(MediaNotFound):
        store.read(key)


def test_purge_removes_only_older_objects(store: MediaStore) -> None:
    store.put("a/2026/01/old", b"old", "text/plain")
    cutoff = time.time() + 1  # everything stored so far is older
    assert store.purge_older_than(cutoff - 3600) == 0
    assert store.purge_older_than(cutoff) == 1
    with pytest.raises(MediaNotFound):
        store.size("a/2026/01/old")


def test_unsafe_keys_are_refused(store: MediaStore) -> None:
    for key in ("", "../x", "a//b", "a/./b", "/abs"):
        with pytest.raises(ValueError):
            store.put(key, b"x", "text/plain")


def test_layout_hashes_the_conversation() -> None:
    key = storage_key("5511987654321", "m_abc", when=1_764_288_000)  # 2025-11-28 UTC
    assert key == "029c7290f14c4516/2025/11/m_abc"  # the first 16 hex digits of SHA-256 of the id: no phone number


def test_the_s3_store_writes_the_object_under_its_prefix(s3_environment: str) -> None:
    store = open_media_store(f"s3://{s3_environment}/some/prefix/")
    assert isinstance(store, S3MediaStore)
    store.put("h/2026/11/m_1", b"bytes", "audio/ogg")
    answer = boto3.client("s3").get_object(Bucket=s3_environment, Key="some/prefix/h/2026/11/m_1")
    assert (answer["ContentType"], answer["Body"].read()) == ("audio/ogg", b"bytes")


def test_open_media_store_parses_the_url(tmp_path: Path) -> None:
    store = open_media_store((tmp_path / "a b").as_uri())
    assert isinstance(store, FileMediaStore) and store.root == tmp_path / "a b"
    with pytest.raises(ValueError):
        open_media_store("ftp://host/x")
