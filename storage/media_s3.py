"""Content-addressed media in S3-compatible object storage (``s3://bucket/prefix``).

The same names as the directory store (``<prefix>/ab/cd/<sha256>.<ext>``), written once per
SHA-256: an object already there with the same size is not written again. S3 writes are atomic
(an object appears whole or not at all), so there are no partial files to clean up. The
endpoint, region and credentials come from the usual AWS variables (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``, ...), read by boto3, never by us.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from storage.errors import StorageError
from storage.media import MediaStore, StoredFile

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["S3MediaStore", "parse_s3_url"]


def parse_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` -> ("bucket", "some/prefix"), with an error naming the URL."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise StorageError(
            f"media URL {url!r} is not an S3 URL", hint="write it as s3://bucket/prefix"
        )
    return parts.netloc, parts.path.strip("/")


class S3MediaStore(MediaStore):
    """:class:`MediaStore` on a bucket. Files are read with :meth:`read` (no local paths)."""

    def __init__(self, url: str, *, client: Any = None) -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.url = url
        super().__init__(Path(self.prefix or "."))
        if client is None:
            import boto3

            client = boto3.client("s3")
        self.client = client

    def _key(self, relpath: str) -> str:
        self.path_of(relpath)  # refuses a path escaping the store
        return f"{self.prefix}/{relpath}" if self.prefix else relpath

    def _size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"media store {self.url}: {exc}") from None
        return int(head["ContentLength"])

    def put(self, data: bytes, *, ext: str) -> StoredFile:
        """Store ``data`` once: an object with these bytes' name and size is left alone. The
        server checks the bytes against their SHA-256 before keeping them."""
        digest = hashlib.sha256(data)
        sha256 = digest.hexdigest()
        relpath = self.relpath_for(sha256, ext)
        key = self._key(relpath)
        if self._size(key) != len(data):
            self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
            )
        return StoredFile(sha256, relpath, len(data))

    def remove_partial_files(self, *, older_than: float | None = None) -> list[Path]:
        return []  # an S3 object is written whole or not at all

    def keys(self, sha256: str) -> Iterator[str]:
        folder = f"{sha256[:2]}/{sha256[2:4]}/{sha256}."
        prefix = f"{self.prefix}/{folder}" if self.prefix else folder
        answer = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        for item in answer.get("Contents", []):
            yield str(item["Key"])

    def find(self, sha256: str) -> Path | None:
        """The stored object's name (relative to the bucket) for ``sha256``, or None."""
        found = sorted(self.keys(sha256))
        return Path(found[0]) if found else None

    def _get(self, key: str) -> Any | None:
        """The object's streaming body, or None when the bucket has no such key."""
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise StorageError(f"media store {self.url}: {exc}") from None

    def read(self, relpath: str) -> bytes:
        """The bytes of a stored file (``relpath`` as in the media table); FileNotFoundError
        when the bucket has no such object."""
        body = self._get(self._key(relpath))
        if body is None:
            raise FileNotFoundError(f"no object {self.describe(relpath)}")
        with body:
            return bytes(body.read())

    def digest(self, relpath: str) -> str | None:
        """The SHA-256 of the object's bytes as the server returns them now (streamed), or
        None when the bucket has no such object."""
        body = self._get(self._key(relpath))
        if body is None:
            return None
        digest = hashlib.sha256()
        with body:
            for block in body.iter_chunks(1 << 20):
                digest.update(block)
        return digest.hexdigest()

    def local_path(self, relpath: str) -> Path | None:
        self._key(relpath)  # refuses a path escaping the store
        return None  # objects have no local file: read() them

    def describe(self, relpath: str) -> str:
        return f"s3://{self.bucket}/{self._key(relpath)}"

    @property
    def location(self) -> str:
        return self.url

    def verify(self, sha256: str) -> bool:
        found = sorted(self.keys(sha256))
        if not found:
            return False
        relpath = found[0].removeprefix(f"{self.prefix}/") if self.prefix else found[0]
        return self.digest(relpath) == sha256
