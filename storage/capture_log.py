"""The tamper-evident capture log: a hash chain over every stored post version and media file.

Entry n holds ``entry_hash = sha256(entry_hash[n-1] || content_sha256 || captured_at)``: the
previous entry's hash and the content's SHA-256 as 32 raw bytes each, the capture time as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (UTF-8); the first entry follows :data:`GENESIS`. The content
SHA-256 of a post version is :func:`storage.digests.version_digest` (channel id, message id,
text and edit date: what a citation quotes); of a media file, the SHA-256 of its bytes.

Entries are appended in the transaction that stores the version or media row, never updated.
On PostgreSQL writers append under one transaction-scoped advisory lock (so the chain stays
linear with several collectors); on SQLite the transaction already holds the database's write
lock. Each entry's ``seq`` is the one after the entry it chains to (read in the same
transaction), so the primary key makes a fork impossible whatever happens: two entries chained
after the same one would share a ``seq``. (Until migration 0015 the hashes themselves were
unique keys; two indexes of random keys made every append touch pages all over them, and a first
pass on SQLite grew slower as the log grew.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, text

from storage.batching import chunked
from storage.digests import version_digest  # the one definition, shared with citations
from storage.models import capture_log, media, post, post_version

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "GENESIS",
    "entry_hash",
    "log_media",
    "log_versions",
    "timestamp",
]

GENESIS = "0" * 64
# The lock's key: a constant in the high half, the capture_log table's oid in the low half, so
# archives in different schemas of one database never wait for each other.
_LOCK_SQL = text(
    "SELECT pg_advisory_xact_lock((1130::bigint << 32) + 'capture_log'::regclass::oid::bigint)"
)


def timestamp(value: datetime) -> str:
    """A capture time as hashed: UTC, always with microseconds (``2024-05-13T09:12:00.000000Z``)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} in the capture log; pass UTC")
    # isoformat: the characters of strftime("%Y-%m-%dT%H:%M:%S.%fZ") (years from 1000 on), at a
    # quarter of its cost.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat("T", "microseconds") + "Z"


def entry_hash(prev_hash: str, content_sha256: str, captured_at: datetime) -> str:
    """``sha256(prev || content || captured_at)`` (see the module docstring)."""
    return _entry_hash(prev_hash, content_sha256, timestamp(captured_at).encode())


def _entry_hash(prev_hash: str, content_sha256: str, stamp: bytes) -> str:
    material = bytes.fromhex(prev_hash) + bytes.fromhex(content_sha256)
    return hashlib.sha256(material + stamp).hexdigest()


def chain(
    prev_hash: str, items: Iterable[dict[str, Any]], *, after_seq: int | None = None
) -> list[dict[str, Any]]:
    """Rows for ``items`` (dicts with kind, version_id, media_sha256, channel_id, message_id,
    content_sha256, captured_at) chained after ``prev_hash``, in order; numbered from
    ``after_seq + 1`` when given (the seq of the entry ``prev_hash`` is, 0 for none)."""
    rows = []
    stamps: dict[datetime, bytes] = {}  # a batch's entries share one capture time
    for item in items:
        at = item["captured_at"]
        if (stamp := stamps.get(at)) is None:
            stamp = stamps[at] = timestamp(at).encode()
        digest = _entry_hash(prev_hash, item["content_sha256"], stamp)
        rows.append({**item, "prev_hash": prev_hash, "entry_hash": digest})
        prev_hash = digest
    if after_seq is not None:
        for seq, row in enumerate(rows, after_seq + 1):
            row["seq"] = seq
    return rows


async def _tail(conn: AsyncConnection) -> tuple[int, str]:
    """The log's last entry: (seq, entry hash), or (0, :data:`GENESIS`) while it is empty."""
    query = (
        select(capture_log.c.seq, capture_log.c.entry_hash)
        .order_by(capture_log.c.seq.desc())
        .limit(1)
    )
    last = (await conn.execute(query)).first()
    return (last.seq, last.entry_hash) if last is not None else (0, GENESIS)


async def _append(conn: AsyncConnection, find: Any, *, probe: bool) -> int:
    """Chain ``await find()`` (the unlogged items, in capture order) after the log's last entry.

    On PostgreSQL the lookup runs under the lock (another writer may be logging the same rows);
    ``probe``: look first without it, so the common case of nothing new takes no lock. SQLite
    needs no lock: this transaction already wrote, so it holds the database's write lock.
    """
    if conn.dialect.name == "postgresql":
        if probe and not await find():
            return 0
        await conn.execute(_LOCK_SQL)
    items = await find()
    if items:
        seq, prev_hash = await _tail(conn)
        await conn.execute(capture_log.insert(), chain(prev_hash, items, after_seq=seq))
    return len(items)


async def log_versions(
    post_ids: Iterable[int], *, conn: AsyncConnection, created: Iterable[dict[str, Any]] = ()
) -> int:
    """Append every version of these posts that is not in the log yet; returns how many.

    ``created``: the entry fields (:func:`version_item`) of the versions of posts created in
    this transaction, logged as given instead of read back: such a post has no other version,
    and no other writer sees it before this transaction commits. A first pass logs its posts
    without a query.
    """
    ids = sorted(set(post_ids))  # called after inserting versions: there is usually news
    known = list(created)
    if not ids and not known:
        return 0

    async def find() -> list[dict[str, Any]]:
        found = await _unlogged_versions(ids, conn) if ids else []
        return sorted([*found, *known], key=_capture_order) if known else found

    return await _append(conn, find, probe=False)


async def log_media(sha256s: Iterable[str | None], *, conn: AsyncConnection) -> int:
    """Append every media row among ``sha256s`` that is not in the log yet; returns how many."""
    keys = sorted({sha for sha in sha256s if sha})
    if not keys:
        return 0
    return await _append(conn, lambda: _unlogged_media(keys, conn), probe=True)


def _capture_order(item: dict[str, Any]) -> tuple[datetime, int]:
    return item["captured_at"], item["version_id"]


async def _unlogged_versions(post_ids: Sequence[int], conn: AsyncConnection) -> list[dict]:
    found: list[dict[str, Any]] = []
    for ids in chunked(post_ids):
        query = (
            select(
                post_version.c.id,
                post_version.c.text,
                post_version.c.edited_at,
                post_version.c.captured_at,
                post.c.channel_id,
                post.c.message_id,
            )
            .join(post, post.c.id == post_version.c.post_id)
            .outerjoin(capture_log, capture_log.c.version_id == post_version.c.id)
            .where(post_version.c.post_id.in_(ids), capture_log.c.seq.is_(None))
        )
        found.extend(version_item(row) for row in await conn.execute(query))
    return sorted(found, key=_capture_order)


def version_item(row: Any) -> dict[str, Any]:
    """The log entry fields (before chaining) of a post_version row joined with its post."""
    return {
        "kind": "version",
        "version_id": row.id,
        "media_sha256": None,
        "channel_id": row.channel_id,
        "message_id": row.message_id,
        "content_sha256": version_digest(
            channel_id=row.channel_id,
            message_id=row.message_id,
            text=row.text,
            edited_at=row.edited_at,
        ),
        "captured_at": row.captured_at,
    }


def media_item(sha256: str, first_seen_at: datetime) -> dict[str, Any]:
    """The log entry fields (before chaining) of a media row."""
    return {
        "kind": "media",
        "version_id": None,
        "media_sha256": sha256,
        "channel_id": None,
        "message_id": None,
        "content_sha256": sha256,
        "captured_at": first_seen_at,
    }


async def _unlogged_media(sha256s: Sequence[str], conn: AsyncConnection) -> list[dict]:
    found: list[dict[str, Any]] = []
    for shas in chunked(sha256s):
        query = (
            select(media.c.sha256, media.c.first_seen_at)
            .outerjoin(capture_log, capture_log.c.media_sha256 == media.c.sha256)
            .where(media.c.sha256.in_(shas), capture_log.c.seq.is_(None))
        )
        found.extend(media_item(row.sha256, row.first_seen_at) for row in await conn.execute(query))
    return sorted(found, key=lambda item: (item["captured_at"], item["media_sha256"]))
