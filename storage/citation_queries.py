"""What a citation needs, read from the archive alone: the post, the cited version, the channel.

Returns plain dicts (``monitor.citations.CitationSource(**record)`` takes one as it is); nothing
here is guessed: a field the archive does not hold is ``None``.

Versions are numbered 1, 2, ... in the order they were captured (``captured_at``, then row id),
the order :func:`storage.post_queries.list_versions` returns. Without ``version`` the cited
version is the post's current one (the version whose content is the post's current content).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from storage.digests import version_digest
from storage.errors import StorageError
from storage.models import channel as channel_table
from storage.models import channel_snapshot, flag, post, post_version
from storage.photo_appearances import first_elsewhere
from storage.review import post_link

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "CITATION_FIELDS",
    "NotArchivedError",
    "flagged_post_ids",
    "load_citation_source",
    "load_citation_source_for_post",
]

#: The keys of a citation record, in the order of ``monitor.citations.CitationSource``'s fields.
CITATION_FIELDS = (
    "channel_id",
    "message_id",
    "channel_title",
    "username",
    "posted_at",
    "first_captured_at",
    "edited_at",
    "deleted_at",
    "version",
    "version_count",
    "version_captured_at",
    "version_edited_at",
    "version_sha256",
    "text",
    "language",
    "permalink",
    "version_provenance",
    "version_source",
    "photo_first_by",
    "photo_first_at",
    "photo_first_link",
)


class NotArchivedError(StorageError):
    """The post (or the version, or the flag) asked for is not in the archive."""


def _shown(channel_ref: str | int) -> str:
    if isinstance(channel_ref, int) or channel_ref.isdigit():
        return str(channel_ref)
    return "@" + channel_ref.lstrip("@")


async def load_citation_source(
    conn: AsyncConnection, ref: tuple[str | int, int], *, version: int | None = None
) -> dict[str, Any]:
    """The citation record of post ``ref`` = (channel username or id, message id).

    ``version`` is 1-based (see the module docstring); ``None`` cites the current version.
    Raises :class:`NotArchivedError` saying which post or version the archive does not hold.
    """
    channel_ref, message_id = ref
    if isinstance(channel_ref, int) or channel_ref.isdigit():
        where = post.c.channel_id == int(channel_ref)
    else:
        named = func.lower(channel_table.c.username) == channel_ref.lstrip("@").lower()
        where = post.c.channel_id.in_(select(channel_table.c.id).where(named))
    found = (
        await conn.execute(select(post.c.id).where(where, post.c.message_id == int(message_id)))
    ).first()
    if found is None:
        raise NotArchivedError(
            f"post {_shown(channel_ref)}/{message_id} was never archived: "
            "nothing to cite (a citation is made only from what the archive holds)",
            hint="check the link; `monitor flags list` shows flagged posts with their links",
        )
    return await load_citation_source_for_post(conn, found.id, version=version)


async def load_citation_source_for_post(
    conn: AsyncConnection, post_id: int, *, version: int | None = None
) -> dict[str, Any]:
    """As :func:`load_citation_source`, for the post with row id ``post_id``."""
    row = (
        (
            await conn.execute(
                select(
                    post.c.id,
                    post.c.channel_id,
                    post.c.message_id,
                    post.c.posted_at,
                    post.c.first_captured_at,
                    post.c.edited_at,
                    post.c.deleted_at,
                    post.c.language,
                    post.c.content_hash,
                    channel_table.c.username,
                    channel_table.c.title,
                )
                .join(channel_table, channel_table.c.id == post.c.channel_id)
                .where(post.c.id == post_id)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotArchivedError(f"no post with row id {post_id} in the archive")
    versions = list(
        (
            await conn.execute(
                select(post_version)
                .where(post_version.c.post_id == post_id)
                .order_by(post_version.c.captured_at, post_version.c.id)
            )
        ).mappings()
    )
    link = post_link(row["username"], row["channel_id"], row["message_id"])
    if not versions:  # every stored post has its first version; an archive damaged otherwise
        raise NotArchivedError(f"post {link} has no stored version to cite")
    if version is None:
        current = [n for n, v in enumerate(versions) if v["content_hash"] == row["content_hash"]]
        index = current[-1] if current else len(versions) - 1
    elif 1 <= version <= len(versions):
        index = version - 1
    else:
        raise NotArchivedError(
            f"post {link} has {len(versions)} archived version(s); there is no version {version}",
            hint=f"give --version 1 to {len(versions)}",
        )
    cited = versions[index]
    title = await _title_at(conn, row["channel_id"], cited["captured_at"]) or row["title"]
    return {
        "channel_id": row["channel_id"],
        "message_id": row["message_id"],
        "channel_title": title,
        "username": row["username"],
        "posted_at": row["posted_at"],
        "first_captured_at": row["first_captured_at"],
        "edited_at": row["edited_at"],
        "deleted_at": row["deleted_at"],
        "version": index + 1,
        "version_count": len(versions),
        "version_captured_at": cited["captured_at"],
        "version_provenance": cited["provenance"] or "collected",
        "version_source": cited["source"],
        "version_edited_at": cited["edited_at"],
        "version_sha256": version_digest(
            channel_id=row["channel_id"],
            message_id=row["message_id"],
            text=cited["text"],
            edited_at=cited["edited_at"],
        ),
        "text": cited["text"],
        "language": row["language"],
        "permalink": link,
        **await _photo_first(conn, post_id),
    }


async def _photo_first(conn: AsyncConnection, post_id: int) -> dict[str, Any]:
    """Where the post's photo (or a near copy) was first posted, when that is another post."""
    first = (await first_elsewhere([post_id], conn=conn)).get(post_id)
    if first is None:
        return {"photo_first_by": None, "photo_first_at": None, "photo_first_link": None}
    return {
        "photo_first_by": first.channel_name,
        "photo_first_at": first.posted_at,
        "photo_first_link": first.link,
    }


async def _title_at(conn: AsyncConnection, channel_id: int, at: datetime) -> str | None:
    """The channel's title as last seen at or before ``at`` (its snapshot then), if recorded."""
    query = (
        select(channel_snapshot.c.title)
        .where(channel_snapshot.c.channel_id == channel_id, channel_snapshot.c.captured_at <= at)
        .order_by(channel_snapshot.c.captured_at.desc(), channel_snapshot.c.id.desc())
        .limit(1)
    )
    return (await conn.execute(query)).scalar()


async def flagged_post_ids(
    conn: AsyncConnection,
    *,
    flag_id: int | None = None,
    status: str | Sequence[str] | None = None,
    flagged_since: datetime | None = None,
    entity_id: str | None = None,
    channel: str | int | None = None,
    limit: int = 1000,
) -> list[int]:
    """Row ids of the posts whose flags pass the filters, oldest post first (footnote order).

    An album's flags sit on its lead (caption) message, so an album counts once.
    Raises :class:`NotArchivedError` when ``flag_id`` names no flag.
    """
    query = select(flag.c.post_id).join(post, post.c.id == flag.c.post_id)
    if flag_id is not None:
        query = query.where(flag.c.id == flag_id)
    if status is not None:
        query = query.where(flag.c.status.in_([status] if isinstance(status, str) else status))
    if flagged_since is not None:
        query = query.where(flag.c.created_at >= flagged_since)
    if entity_id is not None:
        query = query.where(flag.c.entity_id == entity_id)
    if isinstance(channel, int) or (isinstance(channel, str) and channel.isdigit()):
        query = query.where(flag.c.channel_id == int(channel))
    elif channel is not None:
        named = func.lower(channel_table.c.username) == channel.lstrip("@").lower()
        query = query.where(flag.c.channel_id.in_(select(channel_table.c.id).where(named)))
    query = (
        query.group_by(flag.c.post_id, post.c.posted_at, post.c.message_id)
        .order_by(post.c.posted_at, post.c.message_id)
        .limit(limit)
    )
    ids = list((await conn.execute(query)).scalars())
    if flag_id is not None and not ids:
        raise NotArchivedError(f"no flag with id {flag_id}", hint="see `monitor flags list`")
    return ids
