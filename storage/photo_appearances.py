"""Where a photo appeared: every archived post showing a file or one of its near duplicates,
in the order it was first posted (``posted_at``, then our capture time, then channel and
message id), and the first appearance of a flagged post's photos elsewhere.

Copies are found one hop from the photo asked about (files whose hash is within
``NEAR_DISTANCE`` bits of its hash), so a chain of slight edits is not followed indefinitely.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, select

from storage.batching import chunked
from storage.models import channel, photo_hash, post, post_media
from storage.photo_hashes import find_near, get_hashes
from storage.review import post_link

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "NEAR_DISTANCE",
    "Appearance",
    "appearances",
    "copies_of",
    "first_elsewhere",
    "linked_photo_hashes",
    "photo_appearances",
    "photos_of_posts",
    "post_id_for",
]

NEAR_DISTANCE = 6


@dataclass(frozen=True, slots=True)
class Appearance:
    """One archived post showing the photo (``sha256`` names the file it showed)."""

    post_id: int
    channel_id: int
    message_id: int
    grouped_id: int | None
    username: str | None
    channel_title: str
    posted_at: datetime
    first_captured_at: datetime
    deleted_at: datetime | None
    sha256: str

    @property
    def link(self) -> str:
        return post_link(self.username, self.channel_id, self.message_id)

    @property
    def channel_name(self) -> str:
        """``@username``, else the title, else the numeric id."""
        if self.username:
            return "@" + self.username
        return self.channel_title or str(self.channel_id)

    @property
    def order(self) -> tuple[datetime, datetime, int, int]:
        return (self.posted_at, self.first_captured_at, self.channel_id, self.message_id)


def _select() -> Any:
    return select(
        post.c.id,
        post.c.channel_id,
        post.c.message_id,
        post.c.grouped_id,
        channel.c.username,
        channel.c.title,
        post.c.posted_at,
        post.c.first_captured_at,
        post.c.deleted_at,
        post_media.c.sha256,
    ).select_from(
        post_media.join(post, post.c.id == post_media.c.post_id).join(
            channel, channel.c.id == post.c.channel_id
        )
    )


def _appearance(row: Any) -> Appearance:
    return Appearance(
        post_id=row.id,
        channel_id=row.channel_id,
        message_id=row.message_id,
        grouped_id=row.grouped_id,
        username=row.username,
        channel_title=row.title or "",
        posted_at=row.posted_at,
        first_captured_at=row.first_captured_at,
        deleted_at=row.deleted_at,
        sha256=row.sha256,
    )


async def appearances(sha256s: Iterable[str], *, conn: AsyncConnection) -> list[Appearance]:
    """Every post showing one of these files, one entry per post, first posted first."""
    by_post: dict[int, Appearance] = {}
    for part in chunked(sorted(set(sha256s))):
        for row in await conn.execute(_select().where(post_media.c.sha256.in_(part))):
            seen = _appearance(row)
            by_post.setdefault(seen.post_id, seen)
    return sorted(by_post.values(), key=lambda a: a.order)


async def copies_of(
    sha256: str, *, conn: AsyncConnection, distance: int = NEAR_DISTANCE
) -> dict[str, int]:
    """The file itself (distance 0) and every stored file whose hash is within ``distance``
    bits of its hash: ``{sha256: distance}``. Only the file itself when it has no hash."""
    found = {sha256: 0}
    value = (await get_hashes([sha256], conn=conn)).get(sha256)
    if value is not None:
        for near in await find_near(value, conn=conn, distance=distance):
            found.setdefault(near.sha256, near.distance)
    return found


async def photos_of_posts(
    post_ids: Sequence[int], *, conn: AsyncConnection
) -> dict[int, list[str]]:
    """The photo files each post shows, with its whole album's for an album's message."""
    rows: dict[int, Any] = {}
    for part in chunked(list(post_ids)):
        query = select(post.c.id, post.c.channel_id, post.c.grouped_id).where(post.c.id.in_(part))
        rows.update({row.id: row for row in await conn.execute(query)})
    found: dict[int, list[str]] = {}
    for post_id, row in rows.items():
        same = (
            and_(post.c.channel_id == row.channel_id, post.c.grouped_id == row.grouped_id)
            if row.grouped_id is not None
            else post.c.id == post_id
        )
        query = (
            select(post_media.c.sha256)
            .join(post, post.c.id == post_media.c.post_id)
            .where(same, post_media.c.kind == "photo", post_media.c.sha256.is_not(None))
            .order_by(post.c.message_id, post_media.c.position)
        )
        found[post_id] = list(dict.fromkeys((await conn.execute(query)).scalars()))
    return found


async def first_elsewhere(
    post_ids: Sequence[int], *, conn: AsyncConnection, distance: int = NEAR_DISTANCE
) -> dict[int, Appearance]:
    """For each post (or album) whose photo was posted earlier by another post: that earliest
    appearance (of any of its photos, exact or near copy). Posts without such a photo are left
    out. An album's own messages never count as "elsewhere"."""
    photos = await photos_of_posts(post_ids, conn=conn)
    found: dict[int, Appearance] = {}
    for post_id, files in photos.items():
        if not files:
            continue
        copies: set[str] = set()
        for sha256 in files:
            copies.update(await copies_of(sha256, conn=conn, distance=distance))
        seen = await appearances(copies, conn=conn)
        own = next((a for a in seen if a.post_id == post_id), None)
        if own is None:
            continue
        album = (own.channel_id, own.grouped_id) if own.grouped_id is not None else None
        others = [
            a
            for a in seen
            if a.post_id != post_id
            and (album is None or (a.channel_id, a.grouped_id) != album)
            and a.order < own.order
        ]
        if others:
            found[post_id] = others[0]
    return found


async def linked_photo_hashes(*, conn: AsyncConnection) -> dict[str, int]:
    """The hash of every hashed file some archived post shows as a photo."""
    query = (
        select(photo_hash.c.sha256, photo_hash.c.phash)
        .where(
            photo_hash.c.sha256.in_(
                select(post_media.c.sha256).where(post_media.c.sha256.is_not(None))
            )
        )
        .execution_options(yield_per=10_000)
    )
    result = await conn.stream(query)
    found: dict[str, int] = {}
    async for part in result.partitions():
        found.update({sha: value & ((1 << 64) - 1) for sha, value in part})
    return found


async def post_id_for(channel_ref: str | int, message_id: int, *, conn: AsyncConnection) -> int:
    """The row id of post ``channel_ref``/``message_id`` (username or numeric channel id);
    :class:`~storage.citation_queries.NotArchivedError` when the archive does not hold it."""
    from sqlalchemy import func

    from storage.citation_queries import NotArchivedError

    if isinstance(channel_ref, int) or channel_ref.isdigit():
        where = post.c.channel_id == int(channel_ref)
        shown = str(channel_ref)
    else:
        named = func.lower(channel.c.username) == channel_ref.lstrip("@").lower()
        where = post.c.channel_id.in_(select(channel.c.id).where(named))
        shown = "@" + channel_ref.lstrip("@")
    found = (
        await conn.execute(select(post.c.id).where(where, post.c.message_id == int(message_id)))
    ).scalar()
    if found is None:
        raise NotArchivedError(
            f"post {shown}/{message_id} was never archived",
            hint="check the link; `monitor search` finds archived posts",
        )
    return int(found)


async def photo_appearances(*, conn: AsyncConnection) -> list[Appearance]:
    """Every archived post showing a stored photo file (one entry per post and file)."""
    query = _select().where(post_media.c.kind == "photo", post_media.c.sha256.is_not(None))
    result = await conn.stream(query.execution_options(yield_per=10_000))
    found: list[Appearance] = []
    async for part in result.partitions():
        found.extend(_appearance(row) for row in part)
    return found
