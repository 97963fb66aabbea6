"""The media store, directory and S3 alike: written once per SHA-256, read back, verified.

The S3 leg talks to moto's S3 server on loopback (a real HTTP server started by the test)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from storage.errors import StorageError
from storage.media import MediaStore
from tests.s3_server import s3_client, s3_endpoint_fixture  # noqa: F401 - a fixture

BUCKET = "monitor-media"


@pytest.fixture(params=["directory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MediaStore:
    if request.param == "directory":
        return MediaStore(tmp_path / "media")
    from storage.media_s3 import S3MediaStore

    endpoint = request.getfixturevalue("s3_endpoint")
    client = s3_client(endpoint)
    bucket = f"{BUCKET}-{hashlib.sha1(str(tmp_path).encode()).hexdigest()[:8]}"  # noqa: S324
    client.create_bucket(Bucket=bucket)
    return S3MediaStore(f"s3://{bucket}/archive/media", client=client)


def _objects(store: MediaStore) -> list[str]:
    from storage.media_s3 import S3MediaStore

    if isinstance(store, S3MediaStore):
        answer = store.client.list_objects_v2(Bucket=store.bucket)
        return sorted(item["Key"] for item in answer.get("Contents", []))
    return sorted(
        p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file()
    )


def test_same_bytes_stored_once_under_their_sha256(store: MediaStore) -> None:
    data = b"\xff\xd8 a photo " * 100
    sha = hashlib.sha256(data).hexdigest()

    first = store.put(data, ext="jpg")
    again = store.put(data, ext="jpg")
    other = store.put(b"another photo", ext="jpg")

    assert first == again and first.sha256 == sha and first.size == len(data)
    assert first.relpath == f"{sha[:2]}/{sha[2:4]}/{sha}.jpg"
    assert len(_objects(store)) == 2 and other.sha256 != sha
    assert store.read(first.relpath) == data
    assert store.verify(sha) and store.find(sha) is not None
    assert not store.verify("0" * 64) and store.find("0" * 64) is None


def test_s3_objects_sit_under_the_url_prefix(store: MediaStore) -> None:
    stored = store.put(b"bytes", ext="png")
    names = _objects(store)
    from storage.media_s3 import S3MediaStore

    if isinstance(store, S3MediaStore):
        assert names == [f"archive/media/{stored.relpath}"]
    else:
        assert names == [stored.relpath]


def test_a_changed_object_fails_verification(store: MediaStore) -> None:
    from storage.media_s3 import S3MediaStore

    stored = store.put(b"original bytes", ext="jpg")
    if isinstance(store, S3MediaStore):
        store.client.put_object(
            Bucket=store.bucket, Key=f"{store.prefix}/{stored.relpath}", Body=b"tampered"
        )
    else:
        store.path_of(stored.relpath).write_bytes(b"tampered")
    assert not store.verify(stored.sha256)


def test_a_path_escaping_the_store_is_refused(store: MediaStore) -> None:
    with pytest.raises(StorageError, match="not inside the media store"):
        store.read("../../etc/passwd")


def test_bad_s3_url_names_the_url() -> None:
    from storage.media_s3 import parse_s3_url

    assert parse_s3_url("s3://bucket/a/b/") == ("bucket", "a/b")
    with pytest.raises(StorageError, match="'s3:/bucket' is not an S3 URL"):
        parse_s3_url("s3:/bucket")


def test_missing_and_changed_files_as_every_reader_sees_them(store: MediaStore) -> None:
    stored = store.put(b"as captured", ext="jpg")
    assert store.digest(stored.relpath) == stored.sha256
    from storage.media_s3 import S3MediaStore

    if isinstance(store, S3MediaStore):
        key = f"{store.prefix}/{stored.relpath}"
        store.client.put_object(Bucket=store.bucket, Key=key, Body=b"changed")
        assert store.describe(stored.relpath) == f"s3://{store.bucket}/{key}"
        assert store.local_path(stored.relpath) is None  # never a local file for an object
    else:
        store.path_of(stored.relpath).write_bytes(b"changed")
        assert store.local_path(stored.relpath) == store.path_of(stored.relpath)
    assert store.digest(stored.relpath) == hashlib.sha256(b"changed").hexdigest()
    assert store.read(stored.relpath) == b"changed"

    never = store.relpath_for("f" * 64, "jpg")
    assert store.digest(never) is None
    with pytest.raises(FileNotFoundError):
        store.read(never)
