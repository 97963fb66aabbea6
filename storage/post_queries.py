"""Reading posts back, and the re-check cycle: which posts to re-fetch, deletions, last checked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import RowMapping, select

from storage.models import post, post_media, post_metric, post_version

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "album_posts",
    "get_post",
    "get_post_by_key",
    "list_metrics",
    "list_post_media",
    "list_versions",
]


async def get_post(post_id: int, *, conn: AsyncConnection) -> RowMapping | None:
    """The post row (all columns) by surrogate id."""
    return (await conn.execute(select(post).where(post.c.id == post_id))).mappings().first()


async def get_post_by_key(
    channel_id: int, message_id: int, *, conn: AsyncConnection
) -> RowMapping | None:
    query = select(post).where(post.c.channel_id == channel_id, post.c.message_id == message_id)
    return (await conn.execute(query)).mappings().first()


async def album_posts(
    channel_id: int, grouped_id: int, *, conn: AsyncConnection
) -> list[RowMapping]:
    """Every message of an album, in message order (the first is usually the caption)."""
    query = (
        select(post)
        .where(post.c.channel_id == channel_id, post.c.grouped_id == grouped_id)
        .order_by(post.c.message_id)
    )
    return list((await conn.execute(query)).mappings())


async def list_versions(post_id: int, *, conn: AsyncConnection) -> list[RowMapping]:
    """Every distinct version of a post, oldest first."""
    query = (
        select(post_version)
        .where(post_version.c.post_id == post_id)
        .order_by(post_version.c.captured_at, post_version.c.id)
    )
    return list((await conn.execute(query)).mappings())


async def list_metrics(post_id: int, *, conn: AsyncConnection) -> list[RowMapping]:
    """Counter observations of a post, oldest first."""
    query = (
        select(post_metric)
        .where(post_metric.c.post_id == post_id)
        .order_by(post_metric.c.captured_at, post_metric.c.id)
    )
    return list((await conn.execute(query)).mappings())


async def list_post_media(post_id: int, *, conn: AsyncConnection) -> list[RowMapping]:
    query = (
        select(post_media).where(post_media.c.post_id == post_id).order_by(post_media.c.position)
    )
    return list((await conn.execute(query)).mappings())
