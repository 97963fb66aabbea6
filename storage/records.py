"""Plain values that cross into storage: what the collector produces and repositories accept.

No database access here. All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from json.encoder import encode_basestring  # what json.dumps(ensure_ascii=False) writes
from typing import Any


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """A Telegram channel as last seen."""

    channel_id: int  # Telegram's bare channel id (positive, without the -100 prefix)
    username: str | None
    title: str
    about: str | None = None
    subscribers: int | None = None


@dataclass(frozen=True, slots=True)
class ForwardedFrom:
    channel_id: int | None = None
    message_id: int | None = None
    date: datetime | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class MediaRecord:
    """One media item attached to a message.

    ``sha256`` is set when the bytes were downloaded and stored; other media types may be recorded
    with metadata only.
    """

    position: int
    kind: str  # "photo", "video", "document", ...
    telegram_id: int | None = None
    sha256: str | None = None
    mime: str | None = None
    size: int | None = None
    width: int | None = None
    height: int | None = None
    path: str | None = None  # relative to the media root: "ab/cd/<sha256>.jpg"
    phash: int | None = None  # a photo's perceptual hash (storage.photo_hashes), when computed


@dataclass(frozen=True, slots=True)
class PostRecord:
    """One Telegram message as collected (an album is several records sharing ``grouped_id``)."""

    channel_id: int
    message_id: int
    posted_at: datetime
    text: str = ""
    edited_at: datetime | None = None
    grouped_id: int | None = None
    views: int | None = None
    forwards: int | None = None
    replies: int | None = None
    reactions: dict[str, int] = field(default_factory=dict)
    forwarded_from: ForwardedFrom | None = None
    reply_to_message_id: int | None = None
    language: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    media: tuple[MediaRecord, ...] = ()
    # content_hash, computed once (not an init field: replace() recomputes it for the copy)
    _hash: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def content_hash(self) -> str:
        """SHA-256 over what makes a version: text, edit date and which media are attached.

        Media count by Telegram id, not by bytes, so a re-check that does not download photos
        yields the same hash as the original capture.
        """
        if self._hash is None:
            object.__setattr__(self, "_hash", self._content_hash())
        assert self._hash is not None
        return self._hash

    def _content_hash(self) -> str:
        if self.edited_at is None and not self.media:
            # Most posts: the bytes json.dumps gives for the material below, without its
            # encoder's set-up per call (a collected batch hashes every record).
            encoded = f'{{"edited_at": null, "media": [], "text": {encode_basestring(self.text)}}}'
            return hashlib.sha256(encoded.encode()).hexdigest()
        material = {
            "text": self.text,
            "edited_at": self.edited_at.isoformat() if self.edited_at else None,
            "media": [f"{m.kind}:{m.telegram_id}" for m in self.media],
        }
        encoded = json.dumps(material, ensure_ascii=False, sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()
