"""The review desk's view of flags: each flag joined with its post, channel and entity."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select

from storage.errors import StorageError
from storage.models import channel as channel_table
from storage.models import entity, flag, post

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "album_flags",
    "flag_views",
    "flag_views_query",
    "post_link",
    "post_views",
]


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


def _posted_at() -> Any:
    """The flag's post date looked up by primary key (a correlated subquery): filtering or
    sorting flags by it never joins, and so never hashes, the whole post table."""
    flagged = post.alias("flagged_post")
    return (
        select(flagged.c.posted_at)
        .where(flagged.c.id == flag.c.post_id)
        .correlate(flag)
        .scalar_subquery()
    )


def _filtered(
    query: Select[Any],
    *,
    flag_id: int | None = None,
    status: str | Sequence[str] | None = None,
    entity_id: str | None = None,
    channel: str | int | None = None,
    flagged_since: datetime | None = None,
    posted_since: datetime | None = None,
    posted_until: datetime | None = None,
) -> Select[Any]:
    """``query`` restricted by conditions on the flag table alone (no join needed)."""
    if flag_id is not None:
        query = query.where(flag.c.id == flag_id)
    if status is not None:
        query = query.where(flag.c.status.in_([status] if isinstance(status, str) else status))
    if entity_id is not None:
        query = query.where(flag.c.entity_id == entity_id)
    if isinstance(channel, int) or (isinstance(channel, str) and channel.isdigit()):
        query = query.where(flag.c.channel_id == int(channel))
    elif channel is not None:
        named = func.lower(channel_table.c.username) == channel.lstrip("@").lower()
        query = query.where(flag.c.channel_id.in_(select(channel_table.c.id).where(named)))
    if flagged_since is not None:
        query = query.where(flag.c.created_at >= flagged_since)
    if posted_since is not None:
        query = query.where(_posted_at() >= posted_since)
    if posted_until is not None:
        query = query.where(_posted_at() <= posted_until)
    return query


def flag_views_query(
    *,
    since: datetime | None = None,
    limit: int = 100,
    **filters: Any,
) -> Select[Any]:
    """The query behind :func:`flag_views`; filters as :func:`_filtered` takes them, ``since``
    meaning ``flagged_since``.

    Newest flag first (migration 0002 indexes each filter in this order, so a page is an index
    range scan at any archive size); one entity's flags newest post first, since a desk reading
    about a person reads the story in the order it happened: that page is chosen among the
    entity's flags alone, then joined.
    """
    if since is not None:
        filters.setdefault("flagged_since", since)
    if filters.get("entity_id") is None:
        newest = (flag.c.created_at.desc(), flag.c.id.desc())
        return _filtered(_query(), **filters).order_by(*newest).limit(limit)
    page = (
        _filtered(select(flag.c.id), **filters)
        .order_by(_posted_at().desc(), flag.c.id.desc())
        .limit(limit)
    )
    chosen = page.subquery("page")
    return (
        _query()
        .join(chosen, chosen.c.id == flag.c.id)
        .order_by(post.c.posted_at.desc(), flag.c.id.desc())
    )


def _view(row: Any) -> dict[str, Any]:
    view = dict(row)
    view["link"] = post_link(row["username"], row["channel_id"], row["message_id"])
    return view


async def flag_views(*, conn: AsyncConnection, **filters: Any) -> list[dict[str, Any]]:
    """Flags as plain dicts with ``message_id``, ``link`` and the post text, in the order of
    :func:`flag_views_query` (which takes the same keyword filters).

    ``channel`` is a channel id or a username (with or without ``@``).
    """
    rows = (await conn.execute(flag_views_query(**filters))).mappings()
    return [_view(row) for row in rows]


async def post_views(
    *, conn: AsyncConnection, limit: int = 100, **filters: Any
) -> list[dict[str, Any]]:
    """The flags that pass ``filters`` grouped by post (an album is one post): one dict per post
    with its ``flags`` (id, entity, status), ``link``, ``posted_at`` and a snippet; at most
    ``limit`` posts, ordered as :func:`flag_views_query` orders flags."""
    filters.setdefault("flagged_since", filters.pop("since", None))
    by_posted = filters.get("entity_id") is not None
    key = func.max(_posted_at() if by_posted else flag.c.created_at)
    page_query = (
        _filtered(select(flag.c.post_id, key.label("key")), **filters)
        .group_by(flag.c.post_id)
        .order_by(key.desc(), flag.c.post_id.desc())
        .limit(limit)
    )
    page = [row.post_id for row in await conn.execute(page_query)]
    if not page:
        return []
    rows = await conn.execute(
        _filtered(_query(), **filters)
        .where(flag.c.post_id.in_(page))
        .order_by(flag.c.created_at, flag.c.id)
    )
    posts: dict[int, dict[str, Any]] = {}
    for row in rows.mappings():
        view = _view(row)
        grouped = posts.setdefault(
            view["post_id"],
            {
                name: view[name]
                for name in (
                    "post_id",
                    "channel_id",
                    "username",
                    "channel_title",
                    "message_id",
                    "grouped_id",
                    "posted_at",
                    "link",
                    "snippet",
                    "aliases",
                )
            }
            | {"flags": []},
        )
        grouped["flags"].append(
            {"id": view["id"], "entity": view["entity_id"], "status": view["status"]}
        )
        for alias in view["aliases"]:
            if alias not in grouped["aliases"]:
                grouped["aliases"] = [*grouped["aliases"], alias]
    return [posts[post_id] for post_id in page]


async def album_flags(
    channel: str | int, message_id: int, *, conn: AsyncConnection
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The post ``message_id`` of ``channel`` (id or username) and every flag of it, or of its
    whole album when it is one message of an album (flags sit on the album's lead message).

    Raises :class:`StorageError` naming the post when it is not in the archive.
    """
    where = (
        channel_table.c.id == int(channel)
        if isinstance(channel, int) or channel.isdigit()
        else func.lower(channel_table.c.username) == channel.lstrip("@").lower()
    )
    found = (
        (
            await conn.execute(
                select(
                    post.c.id,
                    post.c.channel_id,
                    post.c.message_id,
                    post.c.grouped_id,
                    channel_table.c.username,
                )
                .join(channel_table, channel_table.c.id == post.c.channel_id)
                .where(where, post.c.message_id == message_id)
            )
        )
        .mappings()
        .first()
    )
    if found is None:
        shown = (
            channel if isinstance(channel, int) or channel.isdigit() else "@" + channel.lstrip("@")
        )
        raise StorageError(f"no post {shown}/{message_id} in the archive")
    target = dict(found)
    target["link"] = post_link(found["username"], found["channel_id"], found["message_id"])
    post_ids = select(post.c.id).where(post.c.id == found["id"])
    if found["grouped_id"] is not None:
        post_ids = select(post.c.id).where(
            post.c.channel_id == found["channel_id"], post.c.grouped_id == found["grouped_id"]
        )
    rows = await conn.execute(_query().where(flag.c.post_id.in_(post_ids)).order_by(flag.c.id))
    return target, [_view(row) for row in rows.mappings()]
