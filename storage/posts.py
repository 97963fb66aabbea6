"""Posts: bulk idempotent upserts with versions, metric observations and media links.

Each call costs a handful of statements whatever the batch size (executemany / multi-row
``INSERT ... RETURNING``), never one round trip per post.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import and_, bindparam, select, text, update

from storage import capture_log
from storage.batching import chunked, id_runs
from storage.engine import dialect_insert
from storage.errors import StorageError
from storage.media import link_post_media
from storage.models import channel, post, post_metric, post_version
from storage.provenance import Provenance, imported_record, known_versions
from storage.records import PostRecord
from storage.search_index import IndexText, index_versions

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "PostKey",
    "UpsertResult",
    "content_hashes",
    "mark_deleted",
    "posts_to_recheck",
    "touch_checked",
    "upsert_posts",
]


class PostKey(NamedTuple):
    channel_id: int
    message_id: int
    post_id: int


@dataclass
class UpsertResult:
    """What :func:`upsert_posts` did, per message, in input order within each list."""

    new: list[PostKey] = field(default_factory=list)
    changed: list[PostKey] = field(default_factory=list)  # a new version was recorded
    unchanged: list[PostKey] = field(default_factory=list)

    @property
    def post_ids(self) -> dict[tuple[int, int], int]:
        """``(channel_id, message_id) -> post.id`` for every stored message."""
        return {(k.channel_id, k.message_id): k.post_id for k in self.all}

    @property
    def all(self) -> list[PostKey]:
        return [*self.new, *self.changed, *self.unchanged]


def _metrics(record: PostRecord, stored: Any = None) -> tuple[Any, Any, Any, Any]:
    """(views, forwards, replies, reactions); a value the record lacks (None) keeps the stored one."""
    old = stored or (None, None, None, None)
    return (
        record.views if record.views is not None else old[0],
        record.forwards if record.forwards is not None else old[1],
        record.replies if record.replies is not None else old[2],
        dict(record.reactions) if record.reactions else (old[3] or {}),
    )


def _post_row(record: PostRecord, captured_at: datetime) -> dict[str, Any]:
    fwd = record.forwarded_from
    views, forwards, replies, reactions = _metrics(record)
    return {
        "channel_id": record.channel_id,
        "message_id": record.message_id,
        "grouped_id": record.grouped_id,
        "posted_at": record.posted_at,
        "edited_at": record.edited_at,
        "first_captured_at": captured_at,
        "last_checked_at": captured_at,
        "text": record.text,
        "language": record.language,
        "views": views,
        "forwards": forwards,
        "replies": replies,
        "reactions": reactions,
        "fwd_from_channel_id": fwd.channel_id if fwd else None,
        "fwd_from_message_id": fwd.message_id if fwd else None,
        "fwd_from_date": fwd.date if fwd else None,
        "fwd_from_name": fwd.name if fwd else None,
        "reply_to_message_id": record.reply_to_message_id,
        "raw": record.raw or None,
        "content_hash": record.content_hash,
    }


def _version_row(post_id: int, record: PostRecord, captured_at: datetime) -> dict[str, Any]:
    return {
        "post_id": post_id,
        "text": record.text,
        "edited_at": record.edited_at,
        "captured_at": captured_at,
        "content_hash": record.content_hash,
    }


def _metric_row(post_id: int, values: tuple[Any, ...], captured_at: datetime) -> dict[str, Any]:
    views, forwards, replies, reactions = values
    return {
        "post_id": post_id,
        "captured_at": captured_at,
        "views": views,
        "forwards": forwards,
        "replies": replies,
        "reactions": reactions,
    }


async def upsert_posts(
    records: Sequence[PostRecord],
    *,
    conn: AsyncConnection,
    captured_at: datetime,
    expect_new: bool = False,
    provenance: Provenance | None = None,
    index_text: IndexText | None = None,
) -> UpsertResult:
    """Store collected messages idempotently.

    A new message gets a post row, its first post_version and (when it has counters) a
    post_metric. A known message whose text/edit date/media changed gets a new post_version
    (earlier ones are kept) and its current fields updated, unless it predates the stored edit
    (a copy fetched before the edit, stored late): then it is only kept as a version and counts as
    unchanged, so the post never rolls back. A post_metric row is added whenever
    views/forwards/replies/reactions differ from the last seen values. Media with a ``sha256``
    are recorded in ``media`` (the file must already be in the media store).

    ``expect_new``: the caller expects the messages to be new (ids above the channel's cursor,
    as on a first pass): they are inserted without looking them up first, and only those the
    insert found already stored (a repeated batch, another account's pass) are looked up. The
    outcome is the same either way; only the number of statements differs.

    ``provenance``: where the records come from (default: our own capture). Imported records
    (see :mod:`storage.provenance`) never change a post that holds a captured version: they add
    only the versions (text and edit date) it lacks, and count as ``changed`` when they do.

    ``index_text``: the search index's normalisation of a text (see
    :mod:`storage.search_index`); without it new versions are queued to be indexed later.

    The channel rows must exist (see :func:`storage.channels.upsert_channel`).
    """
    result = UpsertResult()
    imported = provenance is not None and provenance.imported
    if imported:
        records = [imported_record(r) for r in records]
    latest: dict[tuple[int, int], PostRecord] = {}
    for record in records:
        latest[(record.channel_id, record.message_id)] = record
    if not latest:
        return result
    await _require_channels({key[0] for key in latest}, conn)

    if expect_new:
        existing: dict[tuple[int, int], Any] = {}
        fresh = list(latest.values())
    else:
        existing = await _existing(latest.keys(), conn)
        fresh = [rec for key, rec in latest.items() if key not in existing]
    inserted: dict[tuple[int, int], int] = {}
    if fresh:
        inserted = await _insert_posts(fresh, conn, captured_at)
        lost = [
            (rec.channel_id, rec.message_id)
            for rec in fresh
            if (rec.channel_id, rec.message_id) not in inserted
        ]
        if lost:  # already stored (or inserted concurrently by another writer): existing
            existing.update(await _existing(lost, conn))

    versions: list[dict[str, Any]] = []
    metrics: list[dict[str, Any]] = []
    content_updates: list[dict[str, Any]] = []
    metric_updates: list[dict[str, Any]] = []
    media_posts: list[tuple[int, PostRecord]] = []
    new_media: list[tuple[int, PostRecord]] = []  # posts inserted here: nothing linked yet
    checked: list[int] = []
    known = await known_versions([r.id for r in existing.values()], conn=conn) if imported else {}
    for key, record in latest.items():
        if key in inserted:
            post_id = inserted[key]
            result.new.append(PostKey(*key, post_id))
            versions.append(_version_row(post_id, record, captured_at))
            values = _metrics(record)
            if any(v is not None for v in values[:3]) or values[3]:
                metrics.append(_metric_row(post_id, values, captured_at))
            if record.media:
                new_media.append((post_id, record))
            continue
        row = existing[key]
        post_id = row.id
        if post_id in known and known[post_id].collected:
            if (record.text, record.edited_at) in known[post_id].contents:
                result.unchanged.append(PostKey(*key, post_id))
            else:
                versions.append(_version_row(post_id, record, captured_at))
                result.changed.append(PostKey(*key, post_id))
            continue
        if not imported:
            checked.append(post_id)
        if record.content_hash != row.content_hash and _older(record.edited_at, row.edited_at):
            # A copy fetched before the stored edit arrived late: its text is kept as a version;
            # the post's current fields (and counters, older too) stay as they are.
            versions.append(_version_row(post_id, record, captured_at))
            result.unchanged.append(PostKey(*key, post_id))
            continue
        stored = (row.views, row.forwards, row.replies, row.reactions or {})
        values = _metrics(record, stored)
        metrics_changed = values != stored
        if metrics_changed:
            metrics.append(_metric_row(post_id, values, captured_at))
        counters = dict(zip(("views", "forwards", "replies", "reactions"), values, strict=True))
        if record.content_hash == row.content_hash and any(m.sha256 for m in record.media):
            media_posts.append((post_id, record))  # a download that failed before, now done
        if record.content_hash != row.content_hash:
            result.changed.append(PostKey(*key, post_id))
            versions.append(_version_row(post_id, record, captured_at))
            media_posts.append((post_id, record))
            content_updates.append(
                {
                    "pid": post_id,
                    "text": record.text,
                    "edited_at": record.edited_at,
                    "content_hash": record.content_hash,
                    "raw": record.raw or None,
                    "language": record.language if record.language is not None else row.language,
                    **counters,
                }
            )
        else:
            result.unchanged.append(PostKey(*key, post_id))
            if metrics_changed:
                metric_updates.append({"pid": post_id, **counters})

    if versions and provenance is not None:
        versions = [{**row, **provenance.columns()} for row in versions]
    if versions:
        insert = dialect_insert(conn)(post_version).on_conflict_do_nothing(
            index_elements=["post_id", "content_hash"]
        )
        kept = (await conn.execute(insert.returning(*_INDEXED), versions)).all()
        # Posts created here: their posted time and their one version are known, not read back.
        created = {post_id: latest[key] for key, post_id in inserted.items()}
        posted = {post_id: record.posted_at for post_id, record in created.items()}
        await index_versions(kept, index_text, conn=conn, posted=posted)  # same transaction
        await capture_log.log_versions(
            {row["post_id"] for row in versions if row["post_id"] not in created},
            conn=conn,
            created=[
                _log_item(row, created[row.post_id], captured_at)
                for row in kept
                if row.post_id in created
            ],
        )
    if metrics:
        await conn.execute(post_metric.insert(), metrics)
    for rows in (content_updates, metric_updates):
        if rows:
            await conn.execute(update(post).where(post.c.id == bindparam("pid")), rows)
    for ids in chunked(checked):
        await conn.execute(
            update(post).where(post.c.id.in_(ids)).values(last_checked_at=captured_at)
        )
    if new_media:
        await link_post_media(new_media, conn=conn, seen_at=captured_at, fresh=True)
    if media_posts:
        await link_post_media(media_posts, conn=conn, seen_at=captured_at)
    return result


_INDEXED = (post_version.c.id, post_version.c.post_id, post_version.c.text)


def _log_item(row: Any, record: PostRecord, captured_at: datetime) -> dict[str, Any]:
    """The capture log's entry for the version ``row`` (just inserted) of ``record``'s post,
    as :func:`storage.capture_log.version_item` makes it from the stored rows."""
    return capture_log.version_item(
        SimpleNamespace(
            id=row.id,
            text=row.text,
            edited_at=record.edited_at,
            captured_at=captured_at,
            channel_id=record.channel_id,
            message_id=record.message_id,
        )
    )


def _older(edited_at: datetime | None, stored: datetime | None) -> bool:
    """Whether a message with ``edited_at`` predates the stored edit."""
    return stored is not None and (edited_at is None or edited_at < stored)


async def _require_channels(channel_ids: Iterable[int], conn: AsyncConnection) -> None:
    wanted = set(channel_ids)
    found = set(
        (await conn.execute(select(channel.c.id).where(channel.c.id.in_(wanted)))).scalars()
    )
    missing = sorted(wanted - found)
    if missing:
        raise StorageError(
            f"channel {', '.join(map(str, missing))} is not stored yet; "
            "call upsert_channel() before upsert_posts()"
        )


async def _custom_plans(conn: AsyncConnection) -> None:
    """On PostgreSQL, plan this transaction's statements for their actual parameters and the
    table as it is now.

    asyncpg (and SQLAlchemy's asyncpg dialect) keep prepared statements per connection, and
    PostgreSQL switches a prepared statement to a generic plan after five executions and keeps
    it: a lookup by ``message_id IN (...)`` prepared while the channel had a hundred posts keeps
    scanning ``ix_post_channel_id_posted_at`` and filtering once it has a million (313 ms instead
    of 0.3 ms a batch), whatever the query's shape, until the next ANALYZE. A custom plan costs
    a fraction of a millisecond and always finds ``uq_post_channel_id_message_id``.
    """
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


def _message_ids_in(ids: Sequence[int]) -> Any:
    """``post.message_id IN ids`` for one run of :func:`~storage.batching.id_runs`, with the
    run's range spelled out: with a bound on both columns of ``uq_post_channel_id_message_id``
    PostgreSQL plans an index range scan of that key whatever it believes of the table. With
    ``IN`` alone, on a table not analyzed since it was small (a first pass into a new archive),
    it scans every post of the channel through ``ix_post_channel_id_grouped_id`` and filters:
    93 ms a batch at 200,000 posts instead of 0.07 ms, growing with the archive."""
    return and_(post.c.message_id.between(ids[0], ids[-1]), post.c.message_id.in_(ids))


async def _existing(
    keys: Iterable[tuple[int, int]], conn: AsyncConnection
) -> dict[tuple[int, int], Any]:
    await _custom_plans(conn)
    by_channel: dict[int, list[int]] = {}
    for channel_id, message_id in keys:
        by_channel.setdefault(channel_id, []).append(message_id)
    cols = (
        post.c.id,
        post.c.channel_id,
        post.c.message_id,
        post.c.content_hash,
        post.c.edited_at,
        post.c.language,
        post.c.views,
        post.c.forwards,
        post.c.replies,
        post.c.reactions,
    )
    found: dict[tuple[int, int], Any] = {}
    for channel_id, message_ids in by_channel.items():
        for ids in id_runs(message_ids):
            rows = await conn.execute(
                select(*cols).where(post.c.channel_id == channel_id, _message_ids_in(ids))
            )
            for row in rows:
                found[(row.channel_id, row.message_id)] = row
    return found


async def _insert_posts(
    records: Sequence[PostRecord], conn: AsyncConnection, captured_at: datetime
) -> dict[tuple[int, int], int]:
    insert = (
        dialect_insert(conn)(post)
        .on_conflict_do_nothing(index_elements=["channel_id", "message_id"])
        .returning(post.c.id, post.c.channel_id, post.c.message_id)
    )
    rows = await conn.execute(insert, [_post_row(rec, captured_at) for rec in records])
    return {(row.channel_id, row.message_id): row.id for row in rows}


async def content_hashes(
    channel_id: int, message_ids: Sequence[int], *, conn: AsyncConnection
) -> dict[int, str]:
    """``message_id -> content_hash`` of the stored current version (missing ids are absent)."""
    await _custom_plans(conn)
    found: dict[int, str] = {}
    for ids in id_runs(message_ids):
        rows = await conn.execute(
            select(post.c.message_id, post.c.content_hash).where(
                post.c.channel_id == channel_id, _message_ids_in(ids)
            )
        )
        found.update({row.message_id: row.content_hash for row in rows})
    return found


async def posts_to_recheck(
    channel_id: int, *, conn: AsyncConnection, since: datetime, limit: int | None = None
) -> list[int]:
    """Message ids posted at or after ``since`` and not known to be deleted, ascending."""
    query = (
        select(post.c.message_id)
        .where(
            post.c.channel_id == channel_id,
            post.c.posted_at >= since,
            post.c.deleted_at.is_(None),
        )
        .order_by(post.c.message_id)
    )
    if limit is not None:
        query = query.limit(limit)
    return list((await conn.execute(query)).scalars())


async def mark_deleted(
    channel_id: int, message_ids: Sequence[int], *, conn: AsyncConnection, at: datetime
) -> int:
    """Record that messages disappeared (first time only). Returns how many were newly marked."""
    count = 0
    for ids in id_runs(message_ids):
        result = await conn.execute(
            update(post)
            .where(
                post.c.channel_id == channel_id,
                _message_ids_in(ids),
                post.c.deleted_at.is_(None),
            )
            .values(deleted_at=at, last_checked_at=at)
        )
        count += result.rowcount
    return count


async def touch_checked(
    channel_id: int, message_ids: Sequence[int], *, conn: AsyncConnection, at: datetime
) -> None:
    """Set ``last_checked_at`` for messages that were re-fetched and found unchanged."""
    for ids in id_runs(message_ids):
        await conn.execute(
            update(post)
            .where(post.c.channel_id == channel_id, _message_ids_in(ids))
            .values(last_checked_at=at)
        )
