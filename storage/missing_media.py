"""Missing media: photos Telegram refused to serve, retried with back-off for a period.

No column of its own: a post's ``first_captured_at`` starts the schedule and its
``last_checked_at`` (set whenever the message is fetched again) is the latest attempt. Attempts
fall due 10 min, 30 min, 70 min ... after capture (the gap doubling up to one day), until the
retry period after capture ends; the media is then given up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from storage.models import post, post_media

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "FIRST_RETRY",
    "LONGEST_RETRY",
    "ChannelMissingMedia",
    "MissingMedia",
    "list_missing_media",
    "media_retries_due",
    "missing_media_by_channel",
    "next_retry",
]

FIRST_RETRY = timedelta(minutes=10)
LONGEST_RETRY = timedelta(days=1)


def next_retry(
    captured_at: datetime, last_try: datetime, *, now: datetime, period: timedelta
) -> datetime | None:
    """The first scheduled attempt after ``last_try``; None (given up) once ``now`` or that
    attempt is past ``captured_at + period``."""
    end = captured_at + period
    due, gap = captured_at + FIRST_RETRY, FIRST_RETRY
    while due <= last_try:
        gap = min(gap * 2, LONGEST_RETRY)
        due += gap
    return due if due <= end and now <= end else None


@dataclass(frozen=True, slots=True)
class MissingMedia:
    """A message whose media of ``kind`` has no stored bytes."""

    channel_id: int
    message_id: int
    kind: str
    captured_at: datetime
    last_try: datetime
    next_retry: datetime | None  # None: given up

    @property
    def given_up(self) -> bool:
        return self.next_retry is None


@dataclass(frozen=True, slots=True)
class ChannelMissingMedia:
    """One channel's missing media, for ``monitor status``."""

    missing: int  # still retried
    given_up: int
    next_retry: datetime | None  # the earliest among those still retried


async def list_missing_media(
    *,
    conn: AsyncConnection,
    now: datetime,
    period: timedelta,
    kinds: Sequence[str] = ("photo",),
    channel_id: int | None = None,
) -> list[MissingMedia]:
    """Messages (not deleted) with media of ``kinds`` whose bytes are not stored, oldest first."""
    query = (
        select(
            post.c.channel_id,
            post.c.message_id,
            post_media.c.kind,
            post.c.first_captured_at,
            post.c.last_checked_at,
        )
        .join(post_media, post_media.c.post_id == post.c.id)
        .where(
            post_media.c.sha256.is_(None),
            post_media.c.kind.in_(list(kinds)),
            post.c.deleted_at.is_(None),
        )
        .order_by(post.c.channel_id, post.c.message_id)
    )
    if channel_id is not None:
        query = query.where(post.c.channel_id == channel_id)
    found: dict[tuple[int, int], MissingMedia] = {}
    for row in await conn.execute(query):
        last_try = max(row.first_captured_at, row.last_checked_at or row.first_captured_at)
        found.setdefault(
            (row.channel_id, row.message_id),
            MissingMedia(
                channel_id=row.channel_id,
                message_id=row.message_id,
                kind=row.kind,
                captured_at=row.first_captured_at,
                last_try=last_try,
                next_retry=next_retry(row.first_captured_at, last_try, now=now, period=period),
            ),
        )
    return list(found.values())


async def media_retries_due(
    channel_id: int,
    kinds: Sequence[str],
    *,
    conn: AsyncConnection,
    now: datetime,
    period: timedelta,
) -> list[int]:
    """Message ids of the channel whose missing media is due for another download attempt."""
    missing = await list_missing_media(
        conn=conn, now=now, period=period, kinds=kinds, channel_id=channel_id
    )
    return [m.message_id for m in missing if m.next_retry is not None and m.next_retry <= now]


async def missing_media_by_channel(
    *,
    conn: AsyncConnection,
    now: datetime,
    period: timedelta,
    kinds: Sequence[str] = ("photo",),
) -> dict[int, ChannelMissingMedia]:
    """Per channel id: how many media are still retried, how many given up, the next retry."""
    per_channel: dict[int, list[MissingMedia]] = {}
    for item in await list_missing_media(conn=conn, now=now, period=period, kinds=kinds):
        per_channel.setdefault(item.channel_id, []).append(item)
    summary = {}
    for channel_id, items in per_channel.items():
        pending = [m.next_retry for m in items if m.next_retry is not None]
        summary[channel_id] = ChannelMissingMedia(
            missing=len(pending),
            given_up=len(items) - len(pending),
            next_retry=min(pending, default=None),
        )
    return summary
