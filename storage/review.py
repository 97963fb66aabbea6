"""The review desk's view of flags: each flag joined with its post, channel and entity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.models import channel as channel_table
from storage.models import entity, flag, post

__all__ = ["flag_views", "flag_views_query", "post_link"]


def post_link(username: str | None, channel_id: int, message_id: int) -> str:
    """The t.me link of a post: public username if known, else the private-link form."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    return f"https://t.me/c/{channel_id}/{message_id}"


def _query() -> Select[Any]:
    return (
        select(
            flag,
            entity.c.name.label("entity_name"),
            post.c.message_id,
            post.c.posted_at,
            post.c.text,
            post.c.deleted_at,
            channel_table.c.username,
            channel_table.c.title.label("channel_title"),
        )
        .join(post, post.c.id == flag.c.post_id)
        .join(channel_table, channel_table.c.id == flag.c.channel_id)
        .join(entity, entity.c.id == flag.c.entity_id)
    )


def flag_views_query(
    *,
    flag_id: int | None = None,
    status: str | Sequence[str] | None = None,
    entity_id: str | None = None,
    channel: str | int | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> Select[Any]:
    """The query behind :func:`flag_views` (newest first; migration 0002 indexes each filter
    in this order, so a page is an index range scan at any archive size)."""
    query = _query().order_by(flag.c.created_at.desc(), flag.c.id.desc())
    if flag_id is not None:
        query = query.where(flag.c.id == flag_id)
    if status is not None:
        query = query.where(flag.c.status.in_([status] if isinstance(status, str) else status))
    if entity_id is not None:
        query = query.where(flag.c.entity_id == entity_id)
    if isinstance(channel, int) or (isinstance(channel, str) and channel.isdigit()):
        query = query.where(flag.c.channel_id == int(channel))
    elif channel is not None:
        query = query.where(func.lower(channel_table.c.username) == channel.lstrip("@").lower())
    if since is not None:
        query = query.where(flag.c.created_at >= since)
    return query.limit(limit)


async def flag_views(
    *,
    conn: AsyncConnection,
    flag_id: int | None = None,
    status: str | Sequence[str] | None = None,
    entity_id: str | None = None,
    channel: str | int | None = None,
    since: datetime | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Flags newest first, as plain dicts with ``message_id``, ``link`` and the post text.

    ``channel`` is a channel id or a username (with or without ``@``).
    """
    query = flag_views_query(
        flag_id=flag_id,
        status=status,
        entity_id=entity_id,
        channel=channel,
        since=since,
        limit=limit,
    )
    rows = (await conn.execute(query)).mappings()
    views = []
    for row in rows:
        view = dict(row)
        view["link"] = post_link(row["username"], row["channel_id"], row["message_id"])
        views.append(view)
    return views
