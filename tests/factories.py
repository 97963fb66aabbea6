"""Small factories for test values: ``make_post(text=..., **overrides)``."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.records import ChannelRecord, PostRecord

__all__ = ["BASE_TIME", "CHANNEL_ID", "edited", "make_channel", "make_post"]

CHANNEL_ID = 1_234_567_890
BASE_TIME = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
_message_ids = itertools.count(1)


def make_channel(**overrides: Any) -> ChannelRecord:
    values: dict[str, Any] = {
        "channel_id": CHANNEL_ID,
        "username": "some_channel",
        "title": "Some Channel",
        "about": "News as it happens",
        "subscribers": 1500,
    }
    values.update(overrides)
    return ChannelRecord(**values)


def make_post(text: str = "Breaking: nothing happened today.", **overrides: Any) -> PostRecord:
    """A post in :data:`CHANNEL_ID` with a fresh message id, posted at a fixed UTC time."""
    message_id = overrides.pop("message_id", None) or next(_message_ids)
    values: dict[str, Any] = {
        "channel_id": CHANNEL_ID,
        "message_id": message_id,
        "posted_at": BASE_TIME + timedelta(minutes=message_id),
        "text": text,
        "views": 100,
    }
    values.update(overrides)
    return PostRecord(**values)


def edited(post: PostRecord, text: str, *, at: datetime | None = None) -> PostRecord:
    """The same message after an edit."""
    return replace(post, text=text, edited_at=at or post.posted_at + timedelta(hours=1))
