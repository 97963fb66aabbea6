"""What an alert says, as a plain value: built when the outbox row is written, stored as its payload.

Snapshotting at enqueue time means a retry an hour later renders exactly what the first attempt
would have, and matched spans always index the text they were found in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = ["KINDS", "AlertMessage", "Span"]

KINDS = ("alert", "followup", "digest", "health")
_USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,64}$")


@dataclass(frozen=True, slots=True)
class Span:
    """A matched alias in the post text: ``text[start:end]`` (Python string indices)."""

    start: int
    end: int
    alias: str = ""
    rule: str = ""
    entity: str = ""  # the entity's display name

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "alias": self.alias,
            "rule": self.rule,
            "entity": self.entity,
        }


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """One alert about one post (``alert``/``followup``), or a ``digest`` of several in ``items``.

    Everything but ``entities`` (watchlist names, ours) is untrusted text from Telegram; the
    renderer escapes it per format.
    """

    kind: str
    route: str
    channel_id: int = 0
    message_id: int = 0
    grouped_id: int | None = None
    channel_title: str = ""
    channel_username: str | None = None
    entities: tuple[str, ...] = ()
    spans: tuple[Span, ...] = ()
    text: str = ""
    posted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    language: str | None = None
    photo_count: int = 0
    flag_ids: tuple[int, ...] = ()
    changes: tuple[str, ...] = ()  # follow-ups: what changed since the first alert
    items: tuple[AlertMessage, ...] = ()  # digests: the alerts it batches
    # Health alerts: the problem (private, banned, renamed, silent, failing) or "recovered";
    # ``text`` says what happened, ``posted_at`` when it was noticed.
    health: str = ""
    # The post's page on the review desk (MONITOR_WEB_URL set), and the SHA-256 of the photos
    # to attach (chosen per route when queued; read from the media store when sent).
    desk_link: str = ""
    attachments: tuple[str, ...] = ()
    # The post's photo was first posted by another post (storage.photo_appearances): its
    # channel ("@name" or title), posted_at and link; empty when not.
    photo_first_by: str = ""
    photo_first_at: datetime | None = None
    photo_first_link: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"alert kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.posted_at.tzinfo is None:
            raise ValueError("posted_at must be timezone-aware UTC")

    @property
    def link(self) -> str:
        """The public t.me link; ``t.me/c/<id>/<msg>`` (members only) when there is no username."""
        if self.kind == "digest":
            return ""
        if self.kind == "health":
            ok = self.channel_username and _USERNAME_RE.match(self.channel_username)
            return f"https://t.me/{self.channel_username}" if ok else ""
        if self.channel_username and _USERNAME_RE.match(self.channel_username):
            return f"https://t.me/{self.channel_username}/{self.message_id}"
        return f"https://t.me/c/{self.channel_id}/{self.message_id}"

    @classmethod
    def digest(cls, route: str, items: list[AlertMessage]) -> AlertMessage:
        """One message batching ``items`` (in order); entities and flag ids are their union."""
        entities = list(dict.fromkeys(name for item in items for name in item.entities))
        flag_ids = list(dict.fromkeys(fid for item in items for fid in item.flag_ids))
        latest = max((item.posted_at for item in items), default=datetime.now(UTC))
        return cls(
            kind="digest",
            route=route,
            entities=tuple(entities),
            flag_ids=tuple(flag_ids),
            posted_at=latest,
            items=tuple(items),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the outbox payload and the JSON-lines sink's ``message``)."""
        return {
            "kind": self.kind,
            "route": self.route,
            "channel_id": self.channel_id,
            "message_id": self.message_id,
            "grouped_id": self.grouped_id,
            "channel_title": self.channel_title,
            "channel_username": self.channel_username,
            "entities": list(self.entities),
            "spans": [span.to_dict() for span in self.spans],
            "text": self.text,
            "posted_at": self.posted_at.astimezone(UTC).isoformat(),
            "language": self.language,
            "photo_count": self.photo_count,
            "flag_ids": list(self.flag_ids),
            "changes": list(self.changes),
            "items": [item.to_dict() for item in self.items],
            "link": self.link,
            **({"health": self.health} if self.kind == "health" else {}),
            **({"desk_link": self.desk_link} if self.desk_link else {}),
            **({"attachments": list(self.attachments)} if self.attachments else {}),
            **(
                {
                    "photo_first_by": self.photo_first_by,
                    "photo_first_at": self.photo_first_at.astimezone(UTC).isoformat(),
                    "photo_first_link": self.photo_first_link,
                }
                if self.photo_first_by and self.photo_first_at is not None
                else {}
            ),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AlertMessage:
        return cls(
            kind=data["kind"],
            route=data["route"],
            channel_id=int(data.get("channel_id") or 0),
            message_id=int(data.get("message_id") or 0),
            grouped_id=data.get("grouped_id"),
            channel_title=data.get("channel_title") or "",
            channel_username=data.get("channel_username"),
            entities=tuple(data.get("entities") or ()),
            spans=tuple(Span(**span) for span in data.get("spans") or ()),
            text=data.get("text") or "",
            posted_at=datetime.fromisoformat(data["posted_at"]).astimezone(UTC),
            language=data.get("language"),
            photo_count=int(data.get("photo_count") or 0),
            flag_ids=tuple(int(f) for f in data.get("flag_ids") or ()),
            changes=tuple(data.get("changes") or ()),
            items=tuple(cls.from_dict(item) for item in data.get("items") or ()),
            health=data.get("health") or "",
            desk_link=data.get("desk_link") or "",
            attachments=tuple(data.get("attachments") or ()),
            photo_first_by=data.get("photo_first_by") or "",
            photo_first_at=(
                datetime.fromisoformat(data["photo_first_at"]).astimezone(UTC)
                if data.get("photo_first_at")
                else None
            ),
            photo_first_link=data.get("photo_first_link") or "",
        )
