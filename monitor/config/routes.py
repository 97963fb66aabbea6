"""Alert routes: where flags go (Apprise URLs), for which entities and channels, and how often."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    model_validator,
)

from monitor.config.handles import (
    ROUTE_NAME_MAX,
    canonical_handle,
    check_length,
    format_duration,
    parse_duration,
)

if TYPE_CHECKING:
    from monitor.config.models import ChannelSpec, EntitySpec

__all__ = ["STATUS_ORDER", "RouteSpec", "mask_route_url"]

Status = Literal["new", "confirmed", "escalated"]
#: Flag statuses in escalating order; a route with ``min_status`` gets that status and later ones.
STATUS_ORDER: tuple[str, ...] = ("new", "confirmed", "escalated")

_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://\S*", re.IGNORECASE)
#: Built-in sinks whose URLs hold no secret (a file path, the console): shown in full.
PUBLIC_SCHEMES = frozenset({"jsonl", "console", "memory"})
_HOSTNAME = re.compile(r"(localhost|[\w-]+(\.[\w-]+)+|\[[0-9a-f:]+\])", re.IGNORECASE)


def _selector(value: Any) -> Any:
    """``all``, one id/tag, or a list of them."""
    if isinstance(value, str):
        value = value.strip()
        return "all" if value == "all" else (value,)
    if isinstance(value, list | tuple):
        return tuple(value)
    raise ValueError("must be `all` or a list of names, e.g. [militia, qais-al-khazali]")


def _url(value: SecretStr) -> SecretStr:
    # Never echo the value: it usually carries a token.
    if not _SCHEME.fullmatch(value.get_secret_value().strip()):
        raise ValueError(
            "route url is not an Apprise URL (scheme://...); write e.g. json://host/path or "
            'take it from the environment: url: "${DESK_WEBHOOK_URL}"'
        )
    return value


Selector = Annotated[Literal["all"] | tuple[str, ...], BeforeValidator(_selector)]


class RouteSpec(BaseModel):
    """One alert route. ``urls`` are secrets: shown only through :meth:`masked_urls`."""

    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)

    name: Annotated[str, AfterValidator(_route_name)]
    urls: tuple[Annotated[SecretStr, AfterValidator(_url)], ...] = Field(min_length=1)
    entities: Selector = "all"
    channels: Selector = "all"
    min_status: Status = "new"
    digest: Annotated[timedelta, BeforeValidator(parse_duration)] | None = None
    #: Also send channel health alerts (private, banned, renamed, silent, failing; recovered).
    health: bool = False
    #: Attach the flagged post's photos (an album: all of them), largest first, at most
    #: ``attach_max`` of them and ``attach_max_mb`` megabytes together.
    attach_photos: bool = False
    attach_max: int = Field(4, ge=1, le=10)
    attach_max_mb: float = Field(10, ge=0.1, le=100)

    @model_validator(mode="before")
    @classmethod
    def _fold_url(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "url" in data and "urls" in data:
            raise ValueError("both `url:` and `urls:`; keep one of them")
        if "url" in data:
            data = {**data, "urls": [data["url"]]}
            del data["url"]
        elif "urls" not in data:
            raise ValueError('no `url:`; add url: "${DESK_WEBHOOK_URL}" (an Apprise URL)')
        elif isinstance(data["urls"], str):
            data = {**data, "urls": [data["urls"]]}
        return data

    def wants(self, entity: EntitySpec, channel: ChannelSpec | None) -> bool:
        """Whether a flag of ``entity`` in ``channel`` goes along this route (status aside).

        A name in ``entities`` matches an entity id or any of its tags; a name in ``channels``
        matches a channel handle (any accepted form) or any of its tags. A channel not in the
        watchlist (``None``) is wanted only by routes with ``channels: all``.
        """
        if self.entities != "all":
            names = set(self.entities)
            if entity.id not in names and not names.intersection(entity.tags):
                return False
        if self.channels == "all":
            return True
        if channel is None:
            return False
        names = set(self.channels)
        return channel.key in self.channel_keys() or bool(names.intersection(channel.tags))

    def accepts_status(self, status: str) -> bool:
        """``True`` if a flag with ``status`` reaches ``min_status`` (``dismissed`` never does)."""
        if status not in STATUS_ORDER:
            return False
        return STATUS_ORDER.index(status) >= STATUS_ORDER.index(self.min_status)

    def channel_keys(self) -> frozenset[str]:
        """Canonical keys of the channel handles named in ``channels`` (tags left out)."""
        if self.channels == "all":
            return frozenset()
        keys = set()
        for name in self.channels:
            try:
                keys.add(canonical_handle(name))
            except ValueError:
                continue
        return frozenset(keys)

    def masked_urls(self) -> list[str]:
        return [mask_route_url(url.get_secret_value()) for url in self.urls]

    def describe(self) -> str:
        """One line for summaries, URLs masked."""
        entities = "all" if self.entities == "all" else ", ".join(self.entities)
        channels = "all" if self.channels == "all" else ", ".join(self.channels)
        digest = f", digest {format_duration(self.digest)}" if self.digest else ""
        health = ", health alerts" if self.health else ""
        photos = (
            f", photos attached (at most {self.attach_max}, {self.attach_max_mb:g} MB)"
            if self.attach_photos
            else ""
        )
        return (
            f"{self.name} -> {' '.join(self.masked_urls())} (entities: {entities}; channels: "
            f"{channels}; min_status {self.min_status}{digest}{health}{photos})"
        )


def _route_name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("empty route name; write a name like `desk`")
    if ":" in value:
        raise ValueError(f"bad route name '{value}'; a name cannot contain ':'")
    return check_length(value, ROUTE_NAME_MAX, "route name")


def mask_route_url(url: str) -> str:
    """Scheme and host only: ``json://hooks.example.org/T0/abc`` -> ``json://hooks.example.org/…``.

    Apprise puts tokens where a host would be for many services (``tgram://TOKEN/CHAT``), so a
    host is shown only when it looks like a host name; otherwise the URL is ``scheme://***``.
    Built-in sinks without secrets (``jsonl://path``, ``console://``) are shown in full.
    """
    scheme, sep, _ = url.strip().partition("://")
    if not sep:
        return "***"
    if scheme.lower() in PUBLIC_SCHEMES:
        return url.strip()
    try:
        host = urlsplit(url.strip()).hostname or ""
    except ValueError:
        host = ""
    if host and _HOSTNAME.fullmatch(host):
        return f"{scheme}://{host}/…"
    return f"{scheme}://***"
