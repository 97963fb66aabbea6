"""Parse and validate a scenario YAML file into plain channel and event values.

The format is documented at the top of ``scenarios/seed.yaml``. This module does no simulation:
it resolves every event's time (absolute, or an offset from when live play starts), expands
``generate:`` blocks into posts, and reports mistakes as :class:`ScenarioError` naming the file,
the event's index and line, and the problem. :mod:`monitor.simulator.scenario` plays the result.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.errors import ConfigError
from monitor.simulator.scenario_filler import (
    GENERATE_KEYS,
    expand_filler,
    parse_duration,
    parse_time,
)

__all__ = [
    "ChannelSpec",
    "EventSpec",
    "PhotoSpec",
    "ScenarioError",
    "ScenarioSpec",
    "parse_duration",
    "parse_scenario",
]

EVENT_KINDS = (
    "post",
    "album",
    "edit",
    "delete",
    "bump",
    "pin",
    "unpin",
    "rename",
    "expire_file_reference",
    "generate",
)
_TIME_KEYS = ("at", "after", "in")
_COMMON = {"at", "after", "in"}
_EVENT_KEYS: dict[str, set[str]] = {
    "post": _COMMON
    | {
        "ref",
        "text",
        "photo",
        "reply_to",
        "forward",
        "views",
        "forwards",
        "replies",
        "reactions",
        "pinned",
    },
    "album": _COMMON
    | {"ref", "caption", "photos", "views", "forwards", "replies", "reactions", "pinned"},
    "edit": _COMMON | {"text"},
    "delete": _COMMON,
    "bump": _COMMON | {"views", "forwards", "reactions"},
    "pin": _COMMON,
    "unpin": _COMMON,
    "rename": _COMMON | {"username", "title"},
    "expire_file_reference": _COMMON,
    "generate": set(GENERATE_KEYS),
}
_TOP_KEYS = {"synthetic", "notice", "seed", "channels", "timeline"}
_CHANNEL_KEYS = {
    "key",
    "username",
    "title",
    "about",
    "participants",
    "id",
    "access_hash",
    "created",
    "photo",
    "joined",
}


class ScenarioError(ConfigError):
    """A scenario file is malformed; the message names the file, the event and the problem."""


@dataclass(frozen=True)
class PhotoSpec:
    """A photo generated from a seed (``label``, and any poster ``text``, drawn on it), read
    from a file, or derived from an earlier generated photo (``source``: re-encoded at
    ``quality``, cropped by ``crop`` of each side, scaled by ``resize``)."""

    seed: int | None = None
    label: str = ""
    width: int = 1280
    height: int = 960
    file: str | None = None
    text: str = ""
    source: PhotoSpec | None = None
    resize: float = 1.0
    crop: float = 0.0
    quality: int = 85


@dataclass(frozen=True)
class ChannelSpec:
    key: str
    username: str | None
    title: str
    about: str = ""
    participants: int = 0
    id: int | None = None
    access_hash: int | None = None
    created: datetime | None = None
    photo: PhotoSpec | None = None
    joined: bool = False  # the default account joined it (dialog list, pushed updates)


@dataclass
class EventSpec:
    """One timeline event. Exactly one of ``at`` (absolute) and ``live`` (offset from the start
    of live play) is set once parsing is done."""

    index: int
    where: str  # "timeline[12] (post, line 130)" for error messages
    kind: str
    channel: str | None = None  # channel key: post, album, rename
    target: str | None = None  # ref acted on: edit, delete, bump, pin, unpin, ...
    ref: str | None = None  # name given to the new post or album
    at: datetime | None = None
    live: timedelta | None = None
    text: str = ""
    photos: list[PhotoSpec] = field(default_factory=list)
    reply_to: str | None = None
    forward: str | None = None
    counters: dict[str, Any] = field(default_factory=dict)  # views, forwards, replies, reactions
    rename: dict[str, Any] = field(default_factory=dict)  # username and/or title
    pinned: bool = False  # post, album: pinned as soon as it is posted


@dataclass
class ScenarioSpec:
    source: str
    seed: int
    notice: str
    channels: dict[str, ChannelSpec]
    events: list[EventSpec]


def parse_scenario(data: Any, source: str) -> ScenarioSpec:
    """Validate a loaded YAML document (ruamel round-trip, for line numbers)."""
    parser = _Parser(source)
    return parser.scenario(data)


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.generated: dict[int, PhotoSpec] = {}  # seed -> first generated photo (derive:)

    def fail(self, where: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {where}: {problem}")

    def check_keys(self, node: Any, allowed: set[str], where: str) -> None:
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise self.fail(where, f"unknown key '{key}'{hint}")

    # -- top level -------------------------------------------------------------------------------

    def scenario(self, data: Any) -> ScenarioSpec:
        if not isinstance(data, dict):
            raise self.fail("top level", "a scenario is a mapping with 'channels:' and 'timeline:'")
        self.check_keys(data, _TOP_KEYS, "top level")
        if data.get("synthetic") is not True:
            raise self.fail(
                "top level",
                "scenario files must declare 'synthetic: true' (they hold made-up data only)",
            )
        seed = data.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise self.fail("seed", f"must be an integer, not {seed!r}")
        channels_node = data.get("channels")
        if not isinstance(channels_node, list) or not channels_node:
            raise self.fail("channels", "needs a non-empty list of channels")
        channels: dict[str, ChannelSpec] = {}
        for i, node in enumerate(channels_node):
            channel = self.channel(node, f"channels[{i}]{_at(node)}")
            if channel.key in channels:
                raise self.fail(f"channels[{i}]", f"duplicate channel key '{channel.key}'")
            channels[channel.key] = channel
        timeline = data.get("timeline") or []
        if not isinstance(timeline, list):
            raise self.fail("timeline", "must be a list of events")
        events = self.timeline(timeline, seed, channels)
        return ScenarioSpec(self.source, seed, str(data.get("notice") or ""), channels, events)

    def channel(self, node: Any, where: str) -> ChannelSpec:
        if not isinstance(node, dict):
            raise self.fail(where, "a channel is a mapping with key, username and title")
        self.check_keys(node, _CHANNEL_KEYS, where)
        for required in ("key", "title"):
            if not node.get(required):
                raise self.fail(where, f"missing '{required}'")
        username = node.get("username")
        if username is not None and not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,31}", str(username)):
            raise self.fail(where, f"username {username!r} is not a valid Telegram username")
        ints = {}
        for name in ("participants", "id", "access_hash"):
            value = node.get(name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
                raise self.fail(where, f"'{name}' must be an integer, not {value!r}")
            ints[name] = value
        created = self.time(node["created"], where, "created") if "created" in node else None
        photo = self.photo(node["photo"], where) if node.get("photo") is not None else None
        joined = node.get("joined", False)
        if not isinstance(joined, bool):
            raise self.fail(where, f"'joined' must be true or false, not {joined!r}")
        return ChannelSpec(
            key=str(node["key"]),
            username=str(username) if username else None,
            title=str(node["title"]),
            about=str(node.get("about") or ""),
            participants=ints["participants"] or 0,
            id=ints["id"],
            access_hash=ints["access_hash"],
            created=created,
            photo=photo,
            joined=joined,
        )

    # -- timeline --------------------------------------------------------------------------------

    def timeline(
        self, nodes: list[Any], seed: int, channels: dict[str, ChannelSpec]
    ) -> list[EventSpec]:
        events: list[EventSpec] = []
        previous: EventSpec | None = None
        for index, node in enumerate(nodes):
            if not isinstance(node, dict):
                raise self.fail(f"timeline[{index}]{_at(node)}", "an event is a mapping")
            kinds = [k for k in EVENT_KINDS if k in node]
            if len(kinds) != 1:
                raise self.fail(
                    f"timeline[{index}]{_at(node)}",
                    f"name exactly one event type ({', '.join(EVENT_KINDS)}); found {kinds or 'none'}",
                )
            kind = kinds[0]
            line = _line(node)
            where = (
                f"timeline[{index}] ({kind}, line {line})"
                if line
                else f"timeline[{index}] ({kind})"
            )
            self.check_keys(node, _EVENT_KEYS[kind] | {kind}, where)
            if kind == "generate":
                generated = self.generate(node, index, where, seed, channels)
                events.extend(generated)
                previous = generated[-1] if generated else previous
                continue
            event = EventSpec(index=index, where=where, kind=kind)
            self.timing(event, node, previous)
            self.body(event, node, channels)
            events.append(event)
            previous = event
        self.check_refs(events)
        return events

    def timing(self, event: EventSpec, node: Any, previous: EventSpec | None) -> None:
        given = [k for k in _TIME_KEYS if k in node]
        if len(given) != 1:
            raise self.fail(event.where, "give exactly one of 'at:' (absolute), 'after:' or 'in:'")
        key = given[0]
        if key == "at":
            event.at = self.time(node["at"], event.where, "at")
            return
        try:
            delta = parse_duration(node[key])
        except ValueError as exc:
            raise self.fail(event.where, f"'{key}': {exc}") from None
        if delta < timedelta(0):
            raise self.fail(event.where, f"'{key}' must not be negative")
        if key == "in":
            event.live = delta
        elif previous is None:
            raise self.fail(event.where, "'after:' needs a previous event to count from")
        elif previous.live is not None:
            event.live = previous.live + delta
        else:
            assert previous.at is not None
            event.at = previous.at + delta

    def body(self, event: EventSpec, node: Any, channels: dict[str, ChannelSpec]) -> None:
        value = node[event.kind]
        if event.kind in ("post", "album", "rename"):
            if value not in channels:
                raise self.fail(
                    event.where, f"unknown channel '{value}' (known: {', '.join(channels)})"
                )
            event.channel = str(value)
        elif not isinstance(value, str) or not value:
            raise self.fail(event.where, f"'{event.kind}:' names the ref of an earlier post")
        else:
            event.target = value
        event.ref = self.optional_str(node, "ref", event.where)
        event.reply_to = self.optional_str(node, "reply_to", event.where)
        event.forward = self.optional_str(node, "forward", event.where)
        event.text = str(node.get("caption" if event.kind == "album" else "text") or "")
        if event.kind == "edit" and "text" not in node:
            raise self.fail(event.where, "an edit needs the new 'text:'")
        if event.kind == "post" and node.get("photo") is not None:
            event.photos = [self.photo(node["photo"], event.where)]
        if event.kind == "album":
            photos = node.get("photos")
            if not isinstance(photos, list) or len(photos) < 2:
                raise self.fail(event.where, "an album needs 'photos:' with at least two photos")
            event.photos = [
                self.photo(p, f"{event.where} photos[{i}]") for i, p in enumerate(photos)
            ]
        pinned = node.get("pinned", False)
        if not isinstance(pinned, bool):
            raise self.fail(event.where, f"'pinned' must be true or false, not {pinned!r}")
        event.pinned = pinned
        if event.kind == "post" and not (event.text or event.photos or event.forward):
            raise self.fail(event.where, "a post needs 'text:', 'photo:' or 'forward:'")
        for name in ("views", "forwards", "replies"):
            if name in node:
                event.counters[name] = self.count(node[name], event.where, name)
        if "reactions" in node:
            reactions = node["reactions"]
            if not isinstance(reactions, dict) or not all(
                isinstance(v, int) and v >= 0 for v in reactions.values()
            ):
                raise self.fail(
                    event.where, "'reactions' maps an emoji to a count, e.g. {'👍': 12}"
                )
            event.counters["reactions"] = {str(k): int(v) for k, v in reactions.items()}
        if event.kind == "rename":
            if "username" not in node and "title" not in node:
                raise self.fail(event.where, "a rename needs 'username:' and/or 'title:'")
            event.rename = {k: node[k] for k in ("username", "title") if k in node}

    def check_refs(self, events: list[EventSpec]) -> None:
        """Every ref is defined once; every use names a defined ref (order is checked on play)."""
        defined: dict[str, EventSpec] = {}
        for event in events:
            if event.ref:
                if event.ref in defined:
                    raise self.fail(
                        event.where,
                        f"ref '{event.ref}' is already used by {defined[event.ref].where}",
                    )
                defined[event.ref] = event
        for event in events:
            for used in (event.target, event.reply_to, event.forward):
                if used and used not in defined:
                    close = difflib.get_close_matches(used, list(defined), n=1)
                    hint = f" (did you mean '{close[0]}'?)" if close else ""
                    raise self.fail(event.where, f"unknown ref '{used}'{hint}")

    # -- generated filler ------------------------------------------------------------------------

    def generate(
        self, node: Any, index: int, where: str, seed: int, channels: dict[str, ChannelSpec]
    ) -> list[EventSpec]:
        channel = node["generate"]
        if channel not in channels:
            raise self.fail(where, f"unknown channel '{channel}' (known: {', '.join(channels)})")
        prefix = channels[channel].username or str(channel)
        try:
            posts = expand_filler(node, scenario_seed=seed, index=index, label_prefix=prefix)
        except ValueError as exc:
            raise self.fail(where, str(exc)) from None
        events = []
        for n, post in enumerate(posts, 1):
            event = EventSpec(index, f"{where} post {n} of {len(posts)}", "post", channel=channel)
            event.at, event.text, event.counters = post.at, post.text, dict(post.counters)
            if post.photo:
                photo_seed, label, width, height = post.photo
                event.photos = [PhotoSpec(photo_seed, label, width, height)]
            events.append(event)
        return events

    # -- small values ----------------------------------------------------------------------------

    def time(self, value: Any, where: str, key: str) -> datetime:
        try:
            return parse_time(value, key)
        except ValueError as exc:
            raise self.fail(where, str(exc)) from None

    def photo(self, node: Any, where: str) -> PhotoSpec:
        if (
            not isinstance(node, dict)
            or len(node) != 1
            or next(iter(node)) not in ("generate", "file", "derive")
        ):
            raise self.fail(
                where,
                "a photo is {generate: {seed, label, width, height, text}}, {file: path} or "
                "{derive: {from: seed, resize, crop, quality}}",
            )
        if "file" in node:
            return PhotoSpec(file=str(node["file"]))
        if "derive" in node:
            return self.derived(node["derive"], where)
        spec = node["generate"]
        if not isinstance(spec, dict):
            raise self.fail(where, "'generate:' needs seed and label")
        self.check_keys(spec, {"seed", "label", "width", "height", "text"}, f"{where} photo")
        if not isinstance(spec.get("seed"), int):
            raise self.fail(where, "a generated photo needs an integer 'seed'")
        photo = PhotoSpec(
            seed=spec["seed"],
            label=str(spec.get("label", "")),
            width=int(spec.get("width", 1280)),
            height=int(spec.get("height", 960)),
            text=str(spec.get("text") or ""),
        )
        self.generated.setdefault(spec["seed"], photo)
        return photo

    def derived(self, spec: Any, where: str) -> PhotoSpec:
        """``{derive: {from: <seed of a photo generated earlier in the file>, resize, crop,
        quality}}``: a repost of that photo."""
        if not isinstance(spec, dict):
            raise self.fail(where, "'derive:' needs 'from:' (the seed of an earlier photo)")
        self.check_keys(spec, {"from", "resize", "crop", "quality"}, f"{where} photo")
        source = self.generated.get(spec.get("from"))  # type: ignore[arg-type]
        if source is None:
            known = ", ".join(str(seed) for seed in self.generated) or "none yet"
            raise self.fail(
                where,
                f"'derive: from: {spec.get('from')!r}' names no photo generated earlier in the "
                f"file (seeds so far: {known})",
            )
        try:
            resize, crop = float(spec.get("resize", 1.0)), float(spec.get("crop", 0.0))
            quality = int(spec.get("quality", 85))
        except (TypeError, ValueError):
            raise self.fail(where, "'resize', 'crop' and 'quality' must be numbers") from None
        if not (0.1 <= resize <= 2.0 and 0.0 <= crop <= 0.4 and 1 <= quality <= 95):
            raise self.fail(
                where, "'derive:' wants resize 0.1-2, crop 0-0.4 (of each side), quality 1-95"
            )
        return PhotoSpec(source=source, resize=resize, crop=crop, quality=quality)

    def optional_str(self, node: Any, key: str, where: str) -> str | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.fail(where, f"'{key}' must be a name, not {value!r}")
        return value

    def count(self, value: Any, where: str, key: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise self.fail(where, f"'{key}' must be a non-negative integer, not {value!r}")
        return value


def _line(node: Any) -> int | None:
    """The 1-based line of a node from ruamel's round-trip loader, if known."""
    lc = getattr(node, "lc", None)
    return None if lc is None or lc.line is None else lc.line + 1


def _at(node: Any) -> str:
    line = _line(node)
    return f" (line {line})" if line else ""
