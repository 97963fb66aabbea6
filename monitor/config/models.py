"""The watchlist as typed, immutable values: channels, entities, alert routes.

Built by :mod:`monitor.config.loader` from channels.yaml; every model forbids unknown keys so a
typo is reported (with a "did you mean") instead of silently ignored.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
)

from monitor.config.accounts import AccountSpec
from monitor.config.handles import (
    ENTITY_ID_MAX,
    canonical_handle,
    check_length,
    display_handle,
    format_duration,
    parse_duration,
)
from monitor.config.routes import RouteSpec

__all__ = [
    "AlertsSpec",
    "ChannelEntry",
    "ChannelSpec",
    "Defaults",
    "EntityKind",
    "EntitySpec",
    "MediaKind",
    "RouteSpec",
    "Watchlist",
]

MediaKind = Literal["photo", "video", "document", "audio", "voice", "sticker", "animation"]
EntityKind = Literal["person", "organization", "place", "other"]

MIN_POLL = timedelta(seconds=10)
MIN_SILENT = timedelta(minutes=1)
_SLUG = re.compile(r"[a-z0-9-]+")


class FrozenModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True)


def _text(value: Any) -> Any:
    """Strip surrounding whitespace; refuse empty text."""
    if isinstance(value, str):
        value = value.strip()
        if not value:
            raise ValueError("empty value; write a value or remove the key")
    return value


def _handle(value: Any) -> str:
    canonical_handle(value)  # raises ValueError with the fix
    return str(value).strip()


def _min_poll(value: timedelta) -> timedelta:
    if value < MIN_POLL:
        raise ValueError(
            f"poll_every '{format_duration(value)}' is too short; the minimum is 10s "
            "(polling faster brings flood waits)"
        )
    return value


def _min_silent(value: timedelta) -> timedelta:
    if value < MIN_SILENT:
        raise ValueError(
            f"silent_after '{format_duration(value)}' is too short; the minimum is 1m "
            "(write how long the channel may go without a post, e.g. 2d)"
        )
    return value


def _slug(value: Any) -> Any:
    if isinstance(value, str) and not _SLUG.fullmatch(value):
        suggestion = re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "my-entity"
        raise ValueError(f"bad entity id '{value}'; use only a-z, 0-9 and '-', e.g. '{suggestion}'")
    if isinstance(value, str):
        check_length(value, ENTITY_ID_MAX, "entity id")
    return value


def _alias(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = value.strip()
    if not value:
        raise ValueError("empty alias; remove the item or write the alias")
    from monitor.matching import normalize  # lazy: the matcher is imported only when needed

    folded = normalize(value)
    if not folded:
        raise ValueError(
            f"alias {_visible(value)} normalises to nothing; it has only punctuation, tatweel "
            "or invisible characters, so it can never match: remove it or write letters or digits"
        )
    _long_enough("alias", value, folded)
    return value


def _long_enough(what: str, value: str, folded: str | None = None) -> None:
    """``folded``: ``normalize(value)`` if the caller has it (10,000 aliases load faster)."""
    from monitor.matching import normalize

    if len(normalize(value) if folded is None else folded) < 2:
        raise ValueError(
            f"{what} {_visible(value)} is too short to match safely (one character once "
            "normalised), it would flag any post with that letter as a word; write a longer form"
        )


def _name(value: Any) -> Any:
    value = _text(value)
    if isinstance(value, str):
        from monitor.matching import normalize

        if not normalize(value).strip():
            raise ValueError(
                f"name {_visible(value)} normalises to nothing; it can never match: "
                "write letters or digits"
            )
    return value


def _visible(text: str) -> str:
    """Quote text for a message, showing invisible characters as \\uXXXX escapes."""
    import unicodedata

    shown = "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cf", "Cc", "Zl", "Zp") else ch
        for ch in text
    )
    return f"'{shown}'"


Text = Annotated[str, BeforeValidator(_text)]
Tag = Annotated[str, BeforeValidator(_text)]
Handle = Annotated[str, BeforeValidator(_handle)]
PollEvery = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_min_poll)]
SilentAfter = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_min_silent)]
Alias = Annotated[str, BeforeValidator(_alias)]


def _ocr_language(value: Any) -> Any:
    """A Tesseract language code: ``ara``, ``fas``, ``eng``, ``chi_sim`` (ISO 639-2 letters)."""
    if isinstance(value, str):
        value = value.strip()
        if not re.fullmatch(r"[a-z]{3}(_[a-z]+)?", value):
            raise ValueError(
                f"'{value}' is not a Tesseract language code; write three lowercase letters "
                "such as ara, fas or eng"
            )
    return value


OcrLanguage = Annotated[str, BeforeValidator(_ocr_language)]


class Defaults(FrozenModel):
    """Values every channel gets unless it overrides them."""

    poll_every: PollEvery = timedelta(minutes=5)
    backfill: NonNegativeInt = 200
    media: tuple[MediaKind, ...] = ("photo",)


def _title_en(value: Any) -> Any:
    """The desk's English title of a channel, cited in brackets after the original title."""
    value = _text(value)
    if isinstance(value, str):
        if any(ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in value):
            raise ValueError(
                "title_en must be one line of plain text (no line breaks or control characters)"
            )
        if len(value) > TITLE_EN_MAX:
            raise ValueError(
                f"title_en is {len(value)} characters long; keep it to {TITLE_EN_MAX} at most"
            )
    return value


TITLE_EN_MAX = 200


class _ChannelBase(FrozenModel):
    handle: Handle
    label: Text | None = None
    #: English rendering of the channel's title, added in brackets to citations (`monitor cite`).
    title_en: Annotated[str, BeforeValidator(_title_en)] | None = None
    tags: tuple[Tag, ...] = ()
    enabled: bool = True
    #: A health alert when the newest post is older than this (``None``: never).
    silent_after: SilentAfter | None = None

    @property
    def key(self) -> str:
        """Canonical key: lowercase username without ``@``, or the bare numeric channel id."""
        return canonical_handle(self.handle)

    @property
    def display(self) -> str:
        """``@username`` or the numeric id, as people write it."""
        return display_handle(self.key)


class ChannelEntry(_ChannelBase):
    """A channel as written in channels.yaml: overrides are ``None`` when not given."""

    #: Read text in this channel's photos (OCR) with these Tesseract languages (default: off).
    ocr: tuple[OcrLanguage, ...] = ()

    poll_every: PollEvery | None = None
    backfill: NonNegativeInt | None = None
    media: tuple[MediaKind, ...] | None = None

    def effective(self, defaults: Defaults) -> ChannelSpec:
        """This channel with the defaults filled in."""
        return ChannelSpec(
            handle=self.handle,
            label=self.label,
            title_en=self.title_en,
            tags=self.tags,
            enabled=self.enabled,
            silent_after=self.silent_after,
            poll_every=self.poll_every if self.poll_every is not None else defaults.poll_every,
            backfill=self.backfill if self.backfill is not None else defaults.backfill,
            media=self.media if self.media is not None else defaults.media,
            ocr=self.ocr,
        )


class ChannelSpec(_ChannelBase):
    """A watched channel with every setting resolved (defaults applied)."""

    poll_every: timedelta
    backfill: NonNegativeInt
    media: tuple[MediaKind, ...]
    ocr: tuple[str, ...] = ()  # Tesseract languages for text in photos; empty: off


class EntitySpec(FrozenModel):
    """A watched person, organisation or place. The matcher also treats ``name`` as an alias."""

    id: Annotated[str, BeforeValidator(_slug)]
    name: Annotated[str, BeforeValidator(_name)]
    kind: EntityKind = "other"
    tags: tuple[Tag, ...] = ()
    aliases: tuple[Alias, ...] = ()
    #: Also match spellings nobody listed (Persian forms, Russian case endings, Latin
    #: transliteration variants); ``false`` matches only the aliases as written.
    infer: bool = True


def _timezone(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            import difflib

            guess = difflib.get_close_matches(value, sorted(zoneinfo.available_timezones()), n=1)
            hint = f"did you mean '{guess[0]}'?" if guess else "use an IANA name like Asia/Baghdad"
            raise ValueError(f"unknown time zone '{value}'; {hint}") from None
    return value


class AlertsSpec(FrozenModel):
    """``alerts:``: the desk time zone and the routes flags are sent along."""

    timezone: Annotated[str, BeforeValidator(_timezone)] | None = None
    routes: list[RouteSpec] = Field(default_factory=list)

    def route(self, name: str) -> RouteSpec:
        for route in self.routes:
            if route.name == name:
                return route
        raise KeyError(f"no alert route named '{name}' in the watchlist")


class Watchlist(FrozenModel):
    """Everything channels.yaml says, validated. ``channels`` have their defaults applied."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)

    defaults: Defaults = Field(default_factory=Defaults)
    channels: list[ChannelSpec] = Field(default_factory=list)
    entities: list[EntitySpec] = Field(default_factory=list)
    alerts: AlertsSpec = Field(default_factory=AlertsSpec)
    accounts: list[AccountSpec] = Field(default_factory=list)  # none: the settings' account
    source: Path = Path("channels.yaml")
    #: Every file read: the watchlist itself, then the included entity files.
    files: tuple[Path, ...] = ()

    def enabled_channels(self) -> list[ChannelSpec]:
        return [channel for channel in self.channels if channel.enabled]

    def channel(self, handle: str | int) -> ChannelSpec:
        """The channel with this handle in any accepted form; ``KeyError`` if not watched."""
        key = canonical_handle(handle)
        for channel in self.channels:
            if channel.key == key:
                return channel
        raise KeyError(f"no channel '{display_handle(key)}' in {self.source}")

    def entity(self, entity_id: str) -> EntitySpec:
        for entity in self.entities:
            if entity.id == entity_id:
                return entity
        raise KeyError(f"no entity '{entity_id}' in {self.source}")

    @property
    def routes(self) -> list[RouteSpec]:
        return self.alerts.routes

    def route_targets(
        self, route: RouteSpec
    ) -> tuple[frozenset[str] | None, frozenset[str] | None]:
        """The entity ids and channel keys a route wants, tags resolved; ``None`` means all.

        Channel keys are canonical (username or bare numeric id); mapping a username to its
        numeric Telegram id is up to the caller (storage knows it once the channel is resolved).
        """
        entity_ids = None
        if route.entities != "all":
            names = set(route.entities)
            entity_ids = frozenset(
                e.id for e in self.entities if e.id in names or names.intersection(e.tags)
            )
        channel_keys = None
        if route.channels != "all":
            names, keys = set(route.channels), route.channel_keys()
            channel_keys = frozenset(
                c.key for c in self.channels if c.key in keys or names.intersection(c.tags)
            )
        return entity_ids, channel_keys

    def alias_count(self) -> int:
        """Aliases written in the file (names not counted)."""
        return sum(len(entity.aliases) for entity in self.entities)

    def summary(self) -> dict[str, int]:
        return {
            "channels": len(self.channels),
            "enabled": len(self.enabled_channels()),
            "entities": len(self.entities),
            "aliases": self.alias_count(),
            "routes": len(self.routes),
        }
