"""Routes as plain values: where alerts go and which flags each destination wants.

``monitor.config`` parses ``channels.yaml`` (tags, ``${ENV}`` secrets) and converts each route to a
:class:`Route` with entity ids and channel ids already resolved; ``alerts`` never sees the YAML.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from alerts.errors import AlertConfigError

__all__ = ["STATUS_RANK", "Route"]

# A flag reaches a route when its status ranks at least the route's ``min_status``.
# Dismissed flags never alert.
STATUS_RANK = {"new": 0, "confirmed": 1, "escalated": 2}


@dataclass(frozen=True, slots=True)
class Route:
    """One alert destination.

    ``entities`` are the entity ids the route wants; ``channels`` the channels, as bare Telegram
    channel ids (int) or usernames (str, any case, without ``@``); ``None`` means all. ``digest`` batches the route's alerts into one message per window.
    ``urls`` may hold secrets: never log them (sinks log scheme and host only).
    """

    name: str
    urls: tuple[str, ...]
    entities: frozenset[str] | None = None
    channels: frozenset[int | str] | None = None
    min_status: str = "new"
    digest: timedelta | None = None
    health: bool = False  # also gets channel health alerts (went private, silent, ...)
    # Attach the flagged post's photos (an album: all of them), largest first, within the caps.
    attach_photos: bool = False
    attach_max: int = 4
    attach_max_bytes: int = 10 * 1024 * 1024
    web_url: str | None = None  # the desk's address: alerts link to <web_url>/post/<ch>/<msg>

    def __post_init__(self) -> None:
        if not self.name or ":" in self.name:
            raise AlertConfigError(
                f"route name {self.name!r} is invalid", hint="use a non-empty name without ':'"
            )
        if self.min_status not in STATUS_RANK:
            raise AlertConfigError(
                f"route {self.name!r}: min_status {self.min_status!r} is not one of "
                f"{', '.join(STATUS_RANK)}"
            )
        if self.digest is not None and self.digest <= timedelta(0):
            raise AlertConfigError(f"route {self.name!r}: digest window must be positive")
        if self.attach_max < 1 or self.attach_max_bytes < 1:
            raise AlertConfigError(
                f"route {self.name!r}: attach_max and attach_max_mb must be positive"
            )

    def wants(
        self, entity_id: str, channel_id: int, status: str = "new", username: str | None = None
    ) -> bool:
        """Whether a flag on ``entity_id`` in the channel with ``status`` goes to this route."""
        if STATUS_RANK.get(status, -1) < STATUS_RANK[self.min_status]:
            return False
        if self.entities is not None and entity_id not in self.entities:
            return False
        return self.wants_channel(channel_id, username)

    def wants_channel(self, channel_id: int | None, username: str | None = None) -> bool:
        """Whether the route covers the channel (by id, or by username when the id is unknown)."""
        if self.channels is None or (channel_id is not None and channel_id in self.channels):
            return True
        return username is not None and username.lower() in self.channels

    @classmethod
    def of(
        cls,
        name: str,
        urls: Iterable[str],
        *,
        entities: Iterable[str] | None = None,
        channels: Iterable[int | str] | None = None,
        min_status: str = "new",
        digest: timedelta | None = None,
        health: bool = False,
        attach_photos: bool = False,
        attach_max: int = 4,
        attach_max_bytes: int = 10 * 1024 * 1024,
        web_url: str | None = None,
    ) -> Route:
        """Build a route from any iterables (what the monitor side converts from RouteSpec)."""
        return cls(
            name=name,
            urls=tuple(urls),
            entities=None if entities is None else frozenset(entities),
            channels=None if channels is None else frozenset(_channel(c) for c in channels),
            min_status=min_status,
            digest=digest,
            health=health,
            attach_photos=attach_photos,
            attach_max=attach_max,
            attach_max_bytes=attach_max_bytes,
            web_url=web_url.rstrip("/") if web_url else None,
        )


def _channel(value: int | str) -> int | str:
    """A channel id stays an int; a username is lowercased without ``@`` (``-100`` ids unwrapped)."""
    if isinstance(value, int):
        return value
    text = value.strip().lstrip("@")
    if text.lstrip("-").isdigit():
        number = int(text)
        return -number - 1_000_000_000_000 if number < -1_000_000_000_000 else number
    return text.lower()
