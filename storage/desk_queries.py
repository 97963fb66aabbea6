"""What the review desk's pages read: the queue with its filters and counts, one post with its
album, versions, metrics and flags, and the figures behind ``/metrics`` and ``/healthz``.

The queue reuses :mod:`storage.review`'s flag view (flag joined with post, channel, entity), so
the desk and ``monitor flags list`` show the same rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import RowMapping, func, select, text

from storage.models import FLAG_STATUSES, alert_outbox, collector_state, entity, flag, media, post
from storage.models import channel as channel_table
from storage.post_queries import album_posts, list_metrics, list_post_media, list_versions
from storage.review import _filtered, _query, _view, album_flags

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "archive_figures",
    "database_alive",
    "media_path",
    "post_page",
    "queue_counts",
    "queue_views",
]


async def _entity_ids_tagged(tag: str, *, conn: AsyncConnection) -> list[str]:
    """Entities carrying ``tag`` (the table is small: the watchlist's entities)."""
    rows = await conn.execute(select(entity.c.id, entity.c.tags))
    wanted = tag.strip().lower()
    return [row.id for row in rows if wanted in [str(t).lower() for t in row.tags or []]]


async def _narrowed(
    query: Any,
    *,
    conn: AsyncConnection,
    tag: str | None,
    language: str | None,
    after_id: int | None,
) -> Any:
    if tag:
        query = query.where(flag.c.entity_id.in_(await _entity_ids_tagged(tag, conn=conn)))
    if language:
        query = query.where(flag.c.language == language)
    if after_id is not None:
        query = query.where(flag.c.id > after_id)
    return query


async def queue_views(
    *,
    conn: AsyncConnection,
    status: str | Sequence[str] | None = None,
    tag: str | None = None,
    language: str | None = None,
    after_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
    **filters: Any,
) -> list[dict[str, Any]]:
    """Flags for the queue, newest first (or, with ``after_id``, the ones after it oldest first,
    for the live feed), as :func:`storage.review.flag_views` dicts plus ``entity_tags``.

    ``filters`` are those of :func:`storage.review.flag_views` (``entity_id``, ``channel``,
    ``posted_since``, ``posted_until``); ``tag`` keeps entities with that tag.
    """
    query = _filtered(
        _query().add_columns(entity.c.tags.label("entity_tags")), status=status, **filters
    )
    query = await _narrowed(query, conn=conn, tag=tag, language=language, after_id=after_id)
    if after_id is not None:
        query = query.order_by(flag.c.id)
    else:
        query = query.order_by(flag.c.created_at.desc(), flag.c.id.desc())
    rows = (await conn.execute(query.limit(limit).offset(offset))).mappings()
    return [_view(row) for row in rows]


async def queue_counts(
    *,
    conn: AsyncConnection,
    tag: str | None = None,
    language: str | None = None,
    **filters: Any,
) -> dict[str, int]:
    """How many flags pass ``filters`` in each status (every status present, 0 when none)."""
    query = _filtered(
        select(flag.c.status, func.count()).select_from(flag).group_by(flag.c.status), **filters
    )
    query = await _narrowed(query, conn=conn, tag=tag, language=language, after_id=None)
    counts = dict.fromkeys(FLAG_STATUSES, 0)
    counts.update({status: int(n) for status, n in await conn.execute(query)})
    return counts


async def media_path(sha256: str, *, conn: AsyncConnection) -> str | None:
    """The stored file's path (relative to the media root) for ``sha256``, if archived."""
    query = select(media.c.path).where(media.c.sha256 == sha256.lower())
    return (await conn.execute(query)).scalar_one_or_none()


async def post_page(channel_id: int, message_id: int, *, conn: AsyncConnection) -> dict[str, Any]:
    """Everything the post page shows. Raises :class:`StorageError` when the post is unknown.

    ``post`` is the message carrying the text (an album's caption), ``album`` every message of the
    album in order (or just this one), ``photos`` each stored photo with its message and media row,
    ``versions`` the caption's versions oldest first, ``metrics`` its counters over time,
    ``flags`` the flags of the post or its album.
    """
    target, flags = await album_flags(channel_id, message_id, conn=conn)
    row = (await conn.execute(select(post).where(post.c.id == target["id"]))).mappings().one()
    album: list[RowMapping] = [row]
    if row["grouped_id"] is not None:
        album = await album_posts(row["channel_id"], row["grouped_id"], conn=conn)
    flagged = {f["post_id"] for f in flags}
    caption = next(
        (p for p in album if p["id"] in flagged),
        next((p for p in album if p["text"]), row),
    )
    photos: list[dict[str, Any]] = []
    for member in album:
        for item in await list_post_media(member["id"], conn=conn):
            photos.append({**dict(item), "message_id": member["message_id"]})
    shas = [p["sha256"] for p in photos if p["sha256"]]
    stored = {}
    if shas:
        found = await conn.execute(select(media).where(media.c.sha256.in_(shas)))
        stored = {m.sha256: dict(m._mapping) for m in found}
    for photo in photos:
        photo["media"] = stored.get(photo["sha256"])
    channel_row = (
        (await conn.execute(select(channel_table).where(channel_table.c.id == row["channel_id"])))
        .mappings()
        .one()
    )
    return {
        "target": target,
        "post": dict(caption),
        "channel": dict(channel_row),
        "album": [dict(p) for p in album],
        "photos": photos,
        "versions": [dict(v) for v in await list_versions(caption["id"], conn=conn)],
        "metrics": [dict(m) for m in await list_metrics(caption["id"], conn=conn)],
        "flags": flags,
    }


async def database_alive(*, conn: AsyncConnection) -> datetime | None:
    """Runs a query (raises when the database does not answer) and returns the newest poll time
    of any channel: the collector daemon's last sign of life, None before its first poll."""
    await conn.execute(text("SELECT 1"))
    return (await conn.execute(select(func.max(collector_state.c.last_poll_at)))).scalar()


async def archive_figures(*, conn: AsyncConnection) -> dict[str, Any]:
    """Counts for ``/metrics``: posts per channel, flags per status, alerts per status, and each
    channel's collector state (last and next poll, flood wait, consecutive errors)."""
    posts = await conn.execute(
        select(post.c.channel_id, channel_table.c.username, func.count())
        .join(channel_table, channel_table.c.id == post.c.channel_id)
        .group_by(post.c.channel_id, channel_table.c.username)
    )
    flags = await conn.execute(select(flag.c.status, func.count()).group_by(flag.c.status))
    alerts = await conn.execute(
        select(alert_outbox.c.status, func.count()).group_by(alert_outbox.c.status)
    )
    states = await conn.execute(
        select(
            collector_state.c.account,
            collector_state.c.channel_id,
            channel_table.c.username,
            collector_state.c.last_poll_at,
            collector_state.c.next_poll_at,
            collector_state.c.flood_wait_until,
            collector_state.c.consecutive_errors,
        ).outerjoin(channel_table, channel_table.c.id == collector_state.c.channel_id)
    )
    return {
        "posts": [(cid, name, int(n)) for cid, name, n in posts],
        "flags": {status: int(n) for status, n in flags},
        "alerts": {status: int(n) for status, n in alerts},
        "channels": [dict(row._mapping) for row in states],
    }
