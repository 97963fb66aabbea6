"""Text read from photos (OCR), stored once per media SHA-256 with the engine that read it.

The reading itself lives in ``monitor.photos`` (storage never runs an OCR engine): this module
only keeps what was read, so a photo reposted a hundred times is read once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import exists, func, select

from storage.batching import chunked
from storage.engine import dialect_insert
from storage.models import media, media_text, post, post_media

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "MediaText",
    "count_texts",
    "get_texts",
    "posts_with_media",
    "store_text",
    "unread_photos",
]


@dataclass(frozen=True, slots=True)
class MediaText:
    sha256: str
    text: str
    languages: str  # as the engine was asked: "ara+fas"
    engine: str  # "tesseract"
    engine_version: str  # "tesseract 5.3.0"
    created_at: datetime


async def store_text(found: MediaText, *, conn: AsyncConnection) -> bool:
    """Keep ``found`` unless the photo already has a text (the first reading stays).
    Returns True when it was stored."""
    row = {
        "sha256": found.sha256,
        "text": found.text,
        "languages": found.languages,
        "engine": found.engine,
        "engine_version": found.engine_version,
        "created_at": found.created_at.astimezone(UTC),
    }
    insert = dialect_insert(conn)(media_text).on_conflict_do_nothing(index_elements=["sha256"])
    result = await conn.execute(insert.returning(media_text.c.sha256), [row])
    return result.first() is not None


async def get_texts(sha256s: Iterable[str], *, conn: AsyncConnection) -> dict[str, MediaText]:
    """The stored texts of these photos (those read so far), by SHA-256."""
    out: dict[str, MediaText] = {}
    for chunk in chunked(sorted(set(sha256s))):
        rows = await conn.execute(select(media_text).where(media_text.c.sha256.in_(chunk)))
        out.update({row.sha256: MediaText(**row._mapping) for row in rows})
    return out


async def posts_with_media(sha256: str, *, conn: AsyncConnection) -> list[dict[str, int | None]]:
    """Every stored post that carries the photo: ``post_id``, ``channel_id``, ``grouped_id``."""
    query = (
        select(post.c.id.label("post_id"), post.c.channel_id, post.c.grouped_id)
        .join(post_media, post_media.c.post_id == post.c.id)
        .where(post_media.c.sha256 == sha256)
        .order_by(post.c.id)
    )
    return [dict(row) for row in (await conn.execute(query)).mappings()]


async def count_texts(*, conn: AsyncConnection) -> int:
    """How many photos have a stored text."""
    return int((await conn.execute(select(func.count()).select_from(media_text))).scalar_one())


async def unread_photos(
    channel_ids: Iterable[int], *, conn: AsyncConnection
) -> list[tuple[int, str, str]]:
    """Photos posted in these channels that have no stored text yet, oldest post first:
    ``(channel_id, sha256, path)``, one row per photo (at its first post among them)."""
    ids = sorted(set(channel_ids))
    if not ids:
        return []
    query = (
        select(post.c.channel_id, media.c.sha256, media.c.path, func.min(post.c.id).label("first"))
        .select_from(post_media)
        .join(post, post.c.id == post_media.c.post_id)
        .join(media, media.c.sha256 == post_media.c.sha256)
        .where(
            post.c.channel_id.in_(ids),
            post_media.c.kind == "photo",
            ~exists().where(media_text.c.sha256 == media.c.sha256),
        )
        .group_by(post.c.channel_id, media.c.sha256, media.c.path)
        .order_by("first")
    )
    seen: set[str] = set()
    out: list[tuple[int, str, str]] = []
    for row in await conn.execute(query):
        if row.sha256 not in seen:
            seen.add(row.sha256)
            out.append((int(row.channel_id), row.sha256, row.path))
    return out
