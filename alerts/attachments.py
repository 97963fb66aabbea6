"""The photos an alert carries: chosen per route when the alert is queued (largest first, within
the route's caps in count and total size), read from the media store by SHA-256 when sent."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select

from alerts.routes import Route
from storage.errors import StorageError
from storage.media import MediaStore
from storage.models import media, post, post_media

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["choose_photos", "photo_files", "read_photos"]

log = structlog.get_logger(__name__)


def choose_photos(files: Iterable[tuple[str, int]], route: Route) -> tuple[str, ...]:
    """SHA-256 of the photos ``route`` attaches: largest first, at most ``attach_max`` of them,
    together at most ``attach_max_bytes`` (a photo that would pass the total is left out, a
    smaller one after it may still fit). None without ``attach_photos``."""
    if not route.attach_photos:
        return ()
    chosen: list[str] = []
    total = 0
    for sha256, size in sorted(set(files), key=lambda f: (-f[1], f[0])):
        if len(chosen) >= route.attach_max:
            break
        if total + size > route.attach_max_bytes:
            continue
        chosen.append(sha256)
        total += size
    return tuple(chosen)


async def photo_files(
    conn: AsyncConnection, rows: Sequence[Any]
) -> dict[int, list[tuple[str, int]]]:
    """``{post id: [(sha256, size), ...]}``: the stored photos of each post's unit (the post, or
    every message of its album); photos Telegram did not give us are left out."""
    out: dict[int, list[tuple[str, int]]] = {}
    for row in rows:
        members = select(post.c.id).where(post.c.id == row.id)
        if row.grouped_id is not None:
            members = select(post.c.id).where(
                post.c.channel_id == row.channel_id, post.c.grouped_id == row.grouped_id
            )
        query = (
            select(media.c.sha256, media.c.size)
            .select_from(post_media)
            .join(media, media.c.sha256 == post_media.c.sha256)
            .where(post_media.c.post_id.in_(members), post_media.c.kind == "photo")
        )
        out[row.id] = [(sha, int(size)) for sha, size in await conn.execute(query)]
    return out


async def read_photos(
    conn: AsyncConnection, store: MediaStore | None, sha256s: Sequence[str]
) -> tuple[tuple[str, bytes], ...]:
    """``(file name, bytes)`` of each photo in ``sha256s`` (in that order), read from the media
    store; one missing there, or whose bytes no longer hash to its SHA-256, is left out."""
    if store is None or not sha256s:
        return ()
    rows = await conn.execute(
        select(media.c.sha256, media.c.path).where(media.c.sha256.in_(list(sha256s)))
    )
    paths = {row.sha256: row.path for row in rows}
    out = []
    for sha in sha256s:
        if sha not in paths:
            continue
        try:
            data = await asyncio.to_thread(store.read, paths[sha])
        except (OSError, StorageError) as exc:
            log.warning("alert_photo_unreadable", sha256=sha, error=str(exc))
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            log.warning("alert_photo_altered", sha256=sha)
            continue
        out.append((PurePosixPath(paths[sha]).name, data))
    return tuple(out)
