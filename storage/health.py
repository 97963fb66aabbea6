"""Channel health as stored: what is wrong with a channel now, since when, and its error streak.

One row per watched channel (canonical handle) that ever had a problem or a failed poll. The
monitor's health tracker reads them all at start (so an open problem is not alerted twice after
a restart) and writes a row only when something changes: a problem opens or closes, an error
streak starts or ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.engine import dialect_insert
from storage.models import channel_health, post

__all__ = [
    "ChannelHealth",
    "close_problem",
    "load_health",
    "newest_post_at",
    "open_problem",
    "set_failing_since",
]


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    handle: str
    channel_id: int | None
    problem: str | None  # None: healthy
    detail: str | None
    since: datetime | None
    episode: int
    failing_since: datetime | None
    updated_at: datetime


async def load_health(*, conn: AsyncConnection) -> dict[str, ChannelHealth]:
    """Every stored row, by handle."""
    rows = await conn.execute(select(channel_health))
    return {row.handle: ChannelHealth(**row._mapping) for row in rows}


async def _upsert(conn: AsyncConnection, handle: str, values: dict[str, Any]) -> ChannelHealth:
    insert = dialect_insert(conn)(channel_health).values(handle=handle, **values)
    statement = insert.on_conflict_do_update(index_elements=["handle"], set_=values).returning(
        *channel_health.c
    )
    row = (await conn.execute(statement)).one()
    return ChannelHealth(**row._mapping)


async def set_failing_since(
    handle: str,
    channel_id: int | None,
    failing_since: datetime | None,
    *,
    conn: AsyncConnection,
    at: datetime,
) -> ChannelHealth:
    """Start (a time) or end (``None``) the channel's error streak."""
    values: dict[str, Any] = {"failing_since": failing_since, "updated_at": at}
    if channel_id is not None:
        values["channel_id"] = channel_id
    return await _upsert(conn, handle, values)


async def open_problem(
    handle: str,
    channel_id: int | None,
    problem: str,
    detail: str,
    *,
    conn: AsyncConnection,
    at: datetime,
    new_episode: bool,
) -> ChannelHealth:
    """Record ``problem``; ``new_episode`` when the channel was healthy (the count goes up,
    ``since`` is now), else the problem of the current episode changes (``since`` kept)."""
    values: dict[str, Any] = {"problem": problem, "detail": detail, "updated_at": at}
    if channel_id is not None:
        values["channel_id"] = channel_id
    if not new_episode:
        return await _upsert(conn, handle, values)
    insert = dialect_insert(conn)(channel_health).values(
        handle=handle, since=at, episode=1, **values
    )
    statement = insert.on_conflict_do_update(
        index_elements=["handle"],
        set_={**values, "since": at, "episode": channel_health.c.episode + 1},
    ).returning(*channel_health.c)
    row = (await conn.execute(statement)).one()
    return ChannelHealth(**row._mapping)


async def close_problem(handle: str, *, conn: AsyncConnection, at: datetime) -> ChannelHealth:
    """The channel is healthy again (the episode count stays)."""
    statement = (
        update(channel_health)
        .where(channel_health.c.handle == handle)
        .values(problem=None, detail=None, since=None, updated_at=at)
        .returning(*channel_health.c)
    )
    row = (await conn.execute(statement)).one()
    return ChannelHealth(**row._mapping)


async def newest_post_at(channel_id: int, *, conn: AsyncConnection) -> datetime | None:
    """When the channel's newest stored post was posted (Telegram's date), or None."""
    query = select(func.max(post.c.posted_at)).where(post.c.channel_id == channel_id)
    return (await conn.execute(query)).scalar()
