"""What the desk's Channels and Entity pages read: per-channel health with posts per day and
renames, and one watched entity's mentions per day, top channels and latest flags."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from storage.models import channel, channel_snapshot, collector_state, entity, flag, post
from storage.status import channel_status

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["channel_health", "entity_overview", "list_watched_entities"]


def _days(stamps: list[datetime], last: date, days: int) -> list[tuple[date, int]]:
    """Counts per day for the ``days`` days ending with ``last`` (oldest first, zeros kept)."""
    counts = Counter(stamp.date() for stamp in stamps)
    first = last - timedelta(days=days - 1)
    return [
        (first + timedelta(days=i), counts.get(first + timedelta(days=i), 0)) for i in range(days)
    ]


async def channel_health(
    *, conn: AsyncConnection, now: datetime, days: int = 30
) -> list[dict[str, Any]]:
    """One dict per collected channel: :func:`storage.status.channel_status`'s fields plus
    ``next_poll_at``, ``posts_per_day`` (the ``days`` days up to ``now``) and ``renames``
    (each earlier username/title, oldest first)."""
    statuses = await channel_status(conn=conn)
    schedule = {
        (row.account, row.channel_id): row.next_poll_at
        for row in await conn.execute(
            select(
                collector_state.c.account,
                collector_state.c.channel_id,
                collector_state.c.next_poll_at,
            )
        )
    }
    since = now - timedelta(days=days)
    recent: dict[int, list[datetime]] = defaultdict(list)
    for channel_id, posted_at in await conn.execute(
        select(post.c.channel_id, post.c.posted_at).where(post.c.posted_at >= since)
    ):
        recent[channel_id].append(posted_at)
    snapshots: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (
        await conn.execute(
            select(channel_snapshot).order_by(
                channel_snapshot.c.channel_id, channel_snapshot.c.captured_at
            )
        )
    ).mappings():
        seen = snapshots[row["channel_id"]]
        if not seen or (seen[-1]["username"], seen[-1]["title"]) != (row["username"], row["title"]):
            seen.append(
                {
                    "captured_at": row["captured_at"],
                    "username": row["username"],
                    "title": row["title"],
                }
            )
    out = []
    for status in statuses:
        item = {name: getattr(status, name) for name in status.__slots__}
        item["next_poll_at"] = schedule.get((status.account, status.channel_id))
        item["posts_per_day"] = _days(recent.get(status.channel_id, []), now.date(), days)
        item["renames"] = snapshots.get(status.channel_id, [])[:-1]  # the last is the current name
        out.append(item)
    return out


async def list_watched_entities(*, conn: AsyncConnection) -> list[dict[str, Any]]:
    """Watched entities as last loaded from channels.yaml (removed ones last), with flag counts."""
    counts: dict[str, int] = {
        entity_id: int(n)
        for entity_id, n in await conn.execute(
            select(flag.c.entity_id, func.count()).group_by(flag.c.entity_id)
        )
    }
    rows = (
        await conn.execute(select(entity).order_by(entity.c.removed_at.is_not(None), entity.c.id))
    ).mappings()
    return [{**dict(row), "flags": int(counts.get(row["id"], 0))} for row in rows]


async def entity_overview(
    entity_id: str, *, conn: AsyncConnection, days: int = 60
) -> dict[str, Any] | None:
    """One entity: its row, flagged posts per day (by posting date, the ``days`` days up to its
    latest mention), flags per channel (most first) and how many flags in each status; None
    when no such entity."""
    row = (await conn.execute(select(entity).where(entity.c.id == entity_id))).mappings().first()
    if row is None:
        return None
    posted = [
        at
        for (at,) in await conn.execute(
            select(post.c.posted_at)
            .join_from(flag, post, post.c.id == flag.c.post_id)
            .where(flag.c.entity_id == entity_id)
        )
    ]
    by_channel = await conn.execute(
        select(channel.c.id, channel.c.username, channel.c.title, func.count().label("n"))
        .select_from(flag)
        .join(channel, channel.c.id == flag.c.channel_id)
        .where(flag.c.entity_id == entity_id)
        .group_by(channel.c.id, channel.c.username, channel.c.title)
        .order_by(func.count().desc(), channel.c.id)
        .limit(10)
    )
    statuses = await conn.execute(
        select(flag.c.status, func.count())
        .where(flag.c.entity_id == entity_id)
        .group_by(flag.c.status)
    )
    last = max(posted).date() if posted else None
    return {
        "entity": dict(row),
        "mentions": len(posted),
        "first": min(posted) if posted else None,
        "last": max(posted) if posted else None,
        "per_day": _days(posted, last, days) if last else [],
        "channels": [dict(r._mapping) for r in by_channel],
        "statuses": {status: int(n) for status, n in statuses},
    }
