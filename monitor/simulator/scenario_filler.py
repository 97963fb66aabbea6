"""Scenario values and ``generate:`` filler: durations, times, and posts made from templates.

Pure functions; problems are raised as ``ValueError`` with the message only, and
:mod:`monitor.simulator.scenario_file` adds the file and event to it. Filler is deterministic:
the same block in the same file (same scenario seed, same position) gives the same posts.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

__all__ = [
    "GENERATE_KEYS",
    "FillerPost",
    "expand_filler",
    "int_range",
    "parse_duration",
    "parse_time",
]

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_SLOT = re.compile(r"\{(\w+)\}")
_BUILTIN_SLOTS = {"n", "date", "year"}
#: The keys a ``generate:`` block may have besides ``generate`` itself.
GENERATE_KEYS = frozenset(
    {"count", "between", "seed", "templates", "slots", "photos", "photo_size", "views", "forwards"}
)


@dataclass(frozen=True)
class FillerPost:
    at: datetime
    text: str
    counters: dict[str, int] = field(default_factory=dict)
    photo: tuple[int, str, int, int] | None = None  # seed, label, width, height


def parse_duration(value: object) -> timedelta:
    """``30s``, ``2m``, ``1h30m``, ``2d``, ``1w`` or a number of seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    text = str(value).strip()
    parts = _DURATION.findall(text)
    if not parts or _DURATION.sub("", text).strip():
        raise ValueError(f"{value!r} is not a duration (examples: 30s, 2m, 1h30m, 2d)")
    return timedelta(seconds=sum(float(n) * _UNITS[unit] for n, unit in parts))


def parse_time(value: Any, key: str) -> datetime:
    """An aware UTC datetime from a YAML timestamp or an ISO 8601 string with a timezone."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        raise ValueError(f"'{key}' {value} needs a time of day, e.g. {value}T09:00:00Z")
    else:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"'{key}' {value!r} is not a time like 2024-05-13T09:12:00Z") from None
    offset = parsed.utcoffset()
    if offset is None:
        raise ValueError(f"'{key}' {value} needs a timezone (end it with Z for UTC)")
    # ruamel's TimeStamp is a datetime subclass: rebuild a plain, aware UTC datetime.
    return datetime(*parsed.timetuple()[:6], parsed.microsecond, tzinfo=UTC) - offset


def int_range(value: Any, key: str) -> tuple[int, int]:
    """A count ``5`` or a range ``[low, high]`` of non-negative integers."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return (value, value)
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        low, high = value
        if 0 <= low <= high:
            return (low, high)
    raise ValueError(f"'{key}' is a count or a [low, high] range")


def expand_filler(
    node: Mapping[str, Any], *, scenario_seed: int, index: int, label_prefix: str
) -> list[FillerPost]:
    """The posts a ``generate:`` block describes, in time order."""
    count = node.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 < count <= 10_000:
        raise ValueError("'count' must be an integer from 1 to 10000")
    between = node.get("between")
    if not isinstance(between, list) or len(between) != 2:
        raise ValueError("'between' is [start, end], two absolute times")
    start, end = (parse_time(t, "between") for t in between)
    if end <= start:
        raise ValueError("'between' must end after it starts")
    templates = node.get("templates")
    if not isinstance(templates, list) or not templates:
        raise ValueError("'templates' needs a non-empty list of texts")
    slots = node.get("slots") or {}
    if not isinstance(slots, Mapping) or not all(isinstance(v, list) and v for v in slots.values()):
        raise ValueError("'slots' maps a name to a non-empty list of values")
    for template in templates:
        for name in _SLOT.findall(str(template)):
            if name not in slots and name not in _BUILTIN_SLOTS:
                raise ValueError(f"template uses '{{{name}}}' but 'slots' has no '{name}'")
    share = node.get("photos", 0)
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share <= 1:
        raise ValueError("'photos' is the share of posts with a photo, from 0 to 1")
    size = node.get("photo_size", [800, 600])
    if not (isinstance(size, list) and len(size) == 2 and all(isinstance(v, int) for v in size)):
        raise ValueError("'photo_size' is [width, height]")
    ranges = {name: int_range(node.get(name, 0), name) for name in ("views", "forwards")}

    material = f"{scenario_seed}:generate:{index}:{node.get('seed', index)}".encode()
    rng = random.Random(int.from_bytes(hashlib.sha256(material).digest()[:8], "big"))
    span = int((end - start).total_seconds())
    times = sorted(start + timedelta(seconds=rng.randrange(span)) for _ in range(count))
    posts = []
    for n, when in enumerate(times, 1):
        values = {name: str(rng.choice(options)) for name, options in slots.items()}
        values.update(n=str(n), date=when.date().isoformat(), year=str(when.year))
        text = _fill(str(rng.choice(templates)), values)
        counters = {name: rng.randint(*bounds) for name, bounds in ranges.items()}
        photo = None
        if rng.random() < share:
            label = f"{label_prefix} {when:%Y-%m-%d} #{n}"
            photo = (rng.randrange(1 << 31), label, size[0], size[1])
        posts.append(FillerPost(when, text, counters, photo))
    return posts


def _fill(template: str, values: dict[str, str]) -> str:
    """``{slot}`` placeholders replaced; other braces are left alone."""
    return _SLOT.sub(lambda m: values[m.group(1)], template)
