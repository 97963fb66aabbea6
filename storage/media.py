"""Content-addressed media files (``ab/cd/<sha256>.<ext>``, written atomically) and media rows."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from storage import capture_log
from storage.batching import chunked
from storage.engine import dialect_insert
from storage.errors import StorageError
from storage.files import private_dir, process_started
from storage.models import media, post_media
from storage.records import MediaRecord, PostRecord

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["MediaStore", "StoredFile", "link_post_media", "record_media"]


# What put() names its temporary files: mkstemp's ".tmp-<random>" plus ".<sha256[:8]>".
_PARTIAL = re.compile(r"\.tmp-[A-Za-z0-9_]+\.[0-9a-f]{8}")
# A write lives for one write() and fsync: a partial file from before this process started,
# less this margin for a writer in another process finishing, has no writer any more.
PARTIAL_GRACE = 60.0


@dataclass(frozen=True, slots=True)
class StoredFile:
    sha256: str
    relpath: str  # "ab/cd/<sha256>.<ext>", always with forward slashes
    size: int


class MediaStore:
    """Files named by the SHA-256 of their bytes under ``root``; the same bytes are stored once.

    Writes go to a temporary file in the target directory, are fsynced and then renamed into
    place, so a reader never sees a partial file and a crash leaves no truncated media.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @staticmethod
    def relpath_for(sha256: str, ext: str) -> str:
        ext = ext.lower().lstrip(".")
        if not ext.isalnum():
            raise StorageError(f"bad media file extension {ext!r}; expected e.g. 'jpg'")
        return f"{sha256[:2]}/{sha256[2:4]}/{sha256}.{ext}"

    def put(self, data: bytes, *, ext: str) -> StoredFile:
        """Store ``data`` (no rewrite when the same bytes are already there)."""
        sha256 = hashlib.sha256(data).hexdigest()
        relpath = self.relpath_for(sha256, ext)
        target = self.path_of(relpath)
        if target.is_file() and target.stat().st_size == len(data):
            return StoredFile(sha256, relpath, len(data))
        private_dir(target.parent)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=f".{sha256[:8]}")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return StoredFile(sha256, relpath, len(data))

    def remove_partial_files(self, *, older_than: float | None = None) -> list[Path]:
        """Delete the temporary files of writes that never finished (a process killed between
        writing and renaming), last modified before ``older_than`` (epoch seconds; default this
        process's start less :data:`PARTIAL_GRACE`); returns them.

        Only our own names (``ab/cd/.tmp-*.<8 hex>``) are touched, never a stored file; a newer
        partial file may belong to a writer still running in another process and is left alone.
        """
        if older_than is None:
            older_than = (process_started() or time.time()) - PARTIAL_GRACE
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        for path in self.root.glob("[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/.tmp-*"):
            if not _PARTIAL.fullmatch(path.name) or not path.is_file():
                continue
            try:
                if path.stat().st_mtime < older_than:
                    path.unlink()
                    removed.append(path)
            except FileNotFoundError:
                continue  # its writer finished or another process cleaned it
        return removed

    def path_of(self, relpath: str) -> Path:
        """The absolute path of a stored file; refuses paths that escape the store."""
        parts = PurePosixPath(relpath).parts
        if not parts or PurePosixPath(relpath).is_absolute() or ".." in parts:
            raise StorageError(f"media path {relpath!r} is not inside the media store")
        return self.root.joinpath(*parts)

    def read(self, relpath: str) -> bytes:
        """The bytes of a stored file (the same call on every store, S3 included); raises
        FileNotFoundError when the store has no such file."""
        return self.path_of(relpath).read_bytes()

    def digest(self, relpath: str) -> str | None:
        """The SHA-256 of the stored file's bytes as they are now (read in blocks), or None
        when the store has no such file; how ``monitor verify`` checks every store."""
        path = self.path_of(relpath)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError):
            return None
        digest = hashlib.sha256()
        with handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()

    def local_path(self, relpath: str) -> Path | None:
        """The stored file on this machine's file system (for serving it as a file), or None:
        not there, or a store without local files (S3)."""
        path = self.path_of(relpath)
        return path if path.is_file() else None

    def describe(self, relpath: str) -> str:
        """Where a stored file lives, for messages: a path, or an ``s3://`` URL."""
        return str(self.path_of(relpath))

    @property
    def location(self) -> str:
        """The store itself, for messages: its folder, or its ``s3://bucket/prefix``."""
        return str(self.root)

    def find(self, sha256: str) -> Path | None:
        """The stored file for ``sha256`` whatever its extension, or None."""
        folder = self.root / sha256[:2] / sha256[2:4]
        matches = sorted(folder.glob(f"{sha256}.*")) if folder.is_dir() else []
        return matches[0] if matches else None

    def verify(self, sha256: str) -> bool:
        """True when the file for ``sha256`` exists and its bytes still hash to it."""
        path = self.find(sha256)
        if path is None:
            return False
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest() == sha256


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


async def record_media(
    item: MediaRecord, *, conn: AsyncConnection, seen_at: datetime | None = None
) -> None:
    """Insert a ``media`` row for stored bytes (once per SHA-256; later calls change nothing)."""
    if not item.sha256 or not item.path or item.size is None:
        raise StorageError(
            f"media at position {item.position} has no sha256/path/size; "
            "store it with MediaStore.put() first"
        )
    insert = dialect_insert(conn)(media).values(_media_row(item, seen_at or datetime.now(UTC)))
    await conn.execute(insert.on_conflict_do_nothing(index_elements=["sha256"]))
    await capture_log.log_media([item.sha256], conn=conn)


_FILE_FIELDS = ("sha256", "mime", "size", "width", "height")


async def link_post_media(
    posts: Sequence[tuple[int, PostRecord]],
    *,
    conn: AsyncConnection,
    seen_at: datetime,
    fresh: bool = False,
) -> None:
    """Replace the ``post_media`` rows of these ``(post_id, record)`` pairs with the records'
    media, recording stored files in ``media`` first.

    An item without ``sha256`` (a re-check that did not download) keeps the file link of the
    stored item with the same position, kind and Telegram id. ``fresh``: the posts were just
    inserted, so they have no rows to replace (no lookup).
    """
    files: dict[str, dict[str, Any]] = {}
    for _, record in posts:
        for item in record.media:
            if item.sha256:
                if not item.path or item.size is None:
                    raise StorageError(
                        f"media {item.sha256} of message {record.channel_id}/{record.message_id} "
                        "has no path or size; store the bytes with MediaStore.put() first"
                    )
                files[item.sha256] = _media_row(item, seen_at)
    if files:
        insert = dialect_insert(conn)(media).on_conflict_do_nothing(index_elements=["sha256"])
        await conn.execute(insert, list(files.values()))
        await capture_log.log_media(files, conn=conn)

    post_ids = [post_id for post_id, _ in posts]
    previous: dict[tuple[int, int], Any] = {}
    for ids in () if fresh else chunked(post_ids):
        rows = await conn.execute(select(post_media).where(post_media.c.post_id.in_(ids)))
        previous.update({(row.post_id, row.position): row for row in rows})
    if previous:
        for ids in chunked(post_ids):
            await conn.execute(delete(post_media).where(post_media.c.post_id.in_(ids)))

    links: list[dict[str, Any]] = []
    for post_id, record in posts:
        for item in record.media:
            link = {
                "post_id": post_id,
                "position": item.position,
                "kind": item.kind,
                "telegram_id": item.telegram_id,
                **{name: getattr(item, name) for name in _FILE_FIELDS},
            }
            old = previous.get((post_id, item.position))
            if (
                item.sha256 is None
                and old is not None
                and old.sha256 is not None
                and (old.kind, old.telegram_id) == (item.kind, item.telegram_id)
            ):
                link.update({name: getattr(old, name) for name in _FILE_FIELDS})
            links.append(link)
    if links:
        await conn.execute(post_media.insert(), links)


def _media_row(item: MediaRecord, seen_at: datetime) -> dict[str, Any]:
    return {
        "sha256": item.sha256,
        "mime": item.mime,
        "size": item.size,
        "width": item.width,
        "height": item.height,
        "path": item.path,
        "first_seen_at": seen_at,
    }
