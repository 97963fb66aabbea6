"""Everything the archive holds about one post (or album), for an evidence bundle.

Plain dicts and lists come back, so the bundle (``monitor.evidence``) is built without a
database. A post is found by channel and message id; an album is all its messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from storage.errors import StorageError
from storage.models import (
    audit_event,
    capture_log,
    channel,
    channel_snapshot,
    entity,
    flag,
    media,
    post,
    post_media,
    post_metric,
    post_version,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["Evidence", "find_post", "flagged_posts", "load_evidence"]


@dataclass
class Evidence:
    """One post or album as archived. ``messages`` are in message order, each a dict with
    ``post`` (the row), ``versions`` (oldest first, numbered from 1), ``metrics`` and ``media``
    (post_media joined with the media row: ``path``, ``first_seen_at``)."""

    channel: dict[str, Any]
    snapshot: dict[str, Any] | None  # the channel as it was when the post was captured
    messages: list[dict[str, Any]]
    flags: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)  # status changes and notes
    entries: dict[tuple[str, Any], dict[str, Any]] = field(default_factory=dict)

    @property
    def lead(self) -> dict[str, Any]:
        """The message the post is known by (an album's first message)."""
        return self.messages[0]["post"]


def _shown(channel_ref: str | int) -> str:
    if isinstance(channel_ref, int) or str(channel_ref).lstrip("-").isdigit():
        return str(channel_ref)
    return "@" + str(channel_ref).lstrip("@")


async def find_post(channel_ref: str | int, message_id: int, *, conn: AsyncConnection) -> int:
    """The post id of ``message_id`` in ``channel_ref`` (id, ``-100``-prefixed id or username).

    Raises :class:`StorageError` saying so when the archive does not hold it.
    """
    if isinstance(channel_ref, int) or str(channel_ref).lstrip("-").isdigit():
        number = int(channel_ref)  # a "-100" prefix is the Bot API's form of a channel id
        where = channel.c.id == (int(str(-number).removeprefix("100")) if number < 0 else number)
    else:
        where = func.lower(channel.c.username) == str(channel_ref).lstrip("@").lower()
    query = (
        select(post.c.id)
        .join(channel, channel.c.id == post.c.channel_id)
        .where(where, post.c.message_id == message_id)
    )
    found = (await conn.execute(query)).scalars().first()
    if found is None:
        raise StorageError(
            f"no post {_shown(channel_ref)}/{message_id} in the archive",
            hint="only posts the collector stored can be exported; check the channel and id "
            "(monitor flags list shows links of flagged posts)",
        )
    return int(found)


async def flagged_posts(
    *,
    conn: AsyncConnection,
    flag_id: int | None = None,
    status: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[int]:
    """Post ids (album leads) with flags matching the filters, oldest flag first, once each."""
    query = select(flag.c.post_id, func.min(flag.c.created_at).label("first")).group_by(
        flag.c.post_id
    )
    if flag_id is not None:
        query = query.where(flag.c.id == flag_id)
    if status is not None:
        query = query.where(flag.c.status == status)
    if since is not None:
        query = query.where(flag.c.created_at >= since)
    if until is not None:
        query = query.where(flag.c.created_at <= until)
    rows = await conn.execute(query.order_by("first", flag.c.post_id))
    return [row.post_id for row in rows]


async def load_evidence(post_id: int, *, conn: AsyncConnection) -> Evidence:
    """Everything about the post ``post_id`` and, when it belongs to an album, its album."""
    row = (await conn.execute(select(post).where(post.c.id == post_id))).mappings().first()
    if row is None:
        raise StorageError(f"no post with id {post_id} in the archive")
    posts = [dict(row)]
    if row["grouped_id"] is not None:
        query = (
            select(post)
            .where(post.c.channel_id == row["channel_id"], post.c.grouped_id == row["grouped_id"])
            .order_by(post.c.message_id)
        )
        posts = [dict(r) for r in (await conn.execute(query)).mappings()]
    ids = [p["id"] for p in posts]
    chan = (
        (await conn.execute(select(channel).where(channel.c.id == row["channel_id"])))
        .mappings()
        .one()
    )
    messages = []
    for item in posts:
        messages.append(
            {
                "post": item,
                "versions": await _versions(item["id"], conn),
                "metrics": await _rows(
                    select(post_metric)
                    .where(post_metric.c.post_id == item["id"])
                    .order_by(post_metric.c.captured_at, post_metric.c.id),
                    conn,
                ),
                "media": await _rows(
                    select(post_media, media.c.path, media.c.first_seen_at)
                    .outerjoin(media, media.c.sha256 == post_media.c.sha256)
                    .where(post_media.c.post_id == item["id"])
                    .order_by(post_media.c.position),
                    conn,
                ),
            }
        )
    evidence = Evidence(
        channel=dict(chan),
        snapshot=await _snapshot(
            row["channel_id"], min(p["first_captured_at"] for p in posts), conn
        ),
        messages=messages,
    )
    evidence.flags = await _rows(
        select(flag, entity.c.name.label("entity_name"))
        .join(entity, entity.c.id == flag.c.entity_id)
        .where(flag.c.post_id.in_(ids))
        .order_by(flag.c.id),
        conn,
    )
    flag_ids = [str(f["id"]) for f in evidence.flags]
    if flag_ids:
        evidence.audit = await _rows(
            select(audit_event)
            .where(audit_event.c.subject_type == "flag", audit_event.c.subject_id.in_(flag_ids))
            .order_by(audit_event.c.at, audit_event.c.id),
            conn,
        )
    evidence.entries = await _entries(evidence, conn)
    return evidence


async def _rows(query: Any, conn: AsyncConnection) -> list[dict[str, Any]]:
    return [dict(r) for r in (await conn.execute(query)).mappings()]


async def _versions(post_id: int, conn: AsyncConnection) -> list[dict[str, Any]]:
    query = (
        select(post_version)
        .where(post_version.c.post_id == post_id)
        .order_by(post_version.c.captured_at, post_version.c.id)
    )
    rows = await _rows(query, conn)
    for number, version in enumerate(rows, start=1):
        version["number"] = number
    return rows


async def _snapshot(
    channel_id: int, captured_at: datetime, conn: AsyncConnection
) -> dict[str, Any] | None:
    """The last snapshot taken at or before the capture, else the first one after it."""
    base = select(channel_snapshot).where(channel_snapshot.c.channel_id == channel_id)
    before = base.where(channel_snapshot.c.captured_at <= captured_at).order_by(
        channel_snapshot.c.captured_at.desc(), channel_snapshot.c.id.desc()
    )
    found = (await conn.execute(before.limit(1))).mappings().first()
    if found is None:
        after = base.order_by(channel_snapshot.c.captured_at, channel_snapshot.c.id)
        found = (await conn.execute(after.limit(1))).mappings().first()
    return dict(found) if found is not None else None


async def _entries(evidence: Evidence, conn: AsyncConnection) -> dict[tuple[str, Any], dict]:
    version_ids = [v["id"] for m in evidence.messages for v in m["versions"]]
    shas = sorted({f["sha256"] for m in evidence.messages for f in m["media"] if f["sha256"]})
    found: dict[tuple[str, Any], dict[str, Any]] = {}
    for column, keys, kind in (
        (capture_log.c.version_id, version_ids, "version"),
        (capture_log.c.media_sha256, shas, "media"),
    ):
        if keys:
            for entry in await _rows(select(capture_log).where(column.in_(keys)), conn):
                found[
                    (kind, entry["version_id"] if kind == "version" else entry["media_sha256"])
                ] = entry
    return found
