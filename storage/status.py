"""The per-channel view behind ``monitor status``: cursor, schedule, errors, newest post."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from storage.models import account_peer, channel, collector_state, post

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["ChannelStatus", "channel_status"]


@dataclass(frozen=True, slots=True)
class ChannelStatus:
    account: str
    channel_id: int
    handle: str | None
    username: str | None
    title: str | None
    posts: int
    last_post_at: datetime | None
    last_message_id: int
    last_poll_at: datetime | None
    flood_wait_until: datetime | None
    consecutive_errors: int
    last_error: str | None


async def channel_status(*, conn: AsyncConnection) -> list[ChannelStatus]:
    """One row per (account, channel) the collector has state for, ordered by handle."""
    stats = (
        select(
            post.c.channel_id,
            func.count().label("posts"),
            func.max(post.c.posted_at).label("last_post_at"),
        )
        .group_by(post.c.channel_id)
        .subquery()
    )
    query = (
        select(
            collector_state.c.account,
            collector_state.c.channel_id,
            account_peer.c.handle,
            channel.c.username,
            channel.c.title,
            func.coalesce(stats.c.posts, 0).label("posts"),
            stats.c.last_post_at,
            collector_state.c.last_message_id,
            collector_state.c.last_poll_at,
            collector_state.c.flood_wait_until,
            collector_state.c.consecutive_errors,
            collector_state.c.last_error,
        )
        .select_from(collector_state)
        .outerjoin(channel, channel.c.id == collector_state.c.channel_id)
        .outerjoin(
            account_peer,
            (account_peer.c.account == collector_state.c.account)
            & (account_peer.c.channel_id == collector_state.c.channel_id),
        )
        .outerjoin(stats, stats.c.channel_id == collector_state.c.channel_id)
        .order_by(account_peer.c.handle, collector_state.c.channel_id)
    )
    rows = (await conn.execute(query)).mappings()
    return [ChannelStatus(**row) for row in rows]
