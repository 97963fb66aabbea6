"""Channel handles and durations as written in channels.yaml, and their canonical forms.

A channel is named by ``@name``, a ``t.me`` link (``t.me/name``, ``t.me/s/name``, a post link,
``t.me/c/<id>/<msg>``) or a numeric id (``-1001234567890`` or ``1234567890``). Its canonical key is
the lowercase username without ``@``, or the bare channel id as a string (``-100`` stripped).
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["canonical_handle", "display_handle", "format_duration", "parse_duration"]

HANDLE_FIX = "use @name, a t.me link or a numeric id"
DURATION_FIX = "write a number with a unit, like 30s, 5m, 1h or 1h30m"

#: Lengths of the database columns these values are stored in (``storage.models``): checked at
#: load, so a long name is a located problem in channels.yaml, not a failing batch later.
ENTITY_ID_MAX = 128  # entity.id, flag.entity_id, audit_event.subject_id
ROUTE_NAME_MAX = 128  # alert_outbox.route
CHANNEL_ID_MAX = 2**63 - 1  # BIGINT


def check_length(value: str, limit: int, what: str) -> str:
    """``value`` unchanged, or ``ValueError`` when it is longer than its column holds."""
    if len(value) > limit:
        raise ValueError(
            f"{what} '{value[:20]}…' is {len(value):,} characters long, over the {limit} the "
            f"archive stores; shorten it to at most {limit} characters"
        )
    return value


_USERNAME = re.compile(r"[a-z][a-z0-9_]{4,31}")
_NUMERIC = re.compile(r"-?\d+")
_LINK = re.compile(
    r"(?:(?:https?://)?(?:www\.)?(?:t|telegram)\.(?:me|dog)/)(?P<path>[^?#]*)(?:[?#].*)?",
    re.IGNORECASE,
)
_DURATION = re.compile(
    r"(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m)?\s*(?:(?P<s>\d+)\s*s)?",
    re.IGNORECASE,
)


def canonical_handle(handle: str | int) -> str:
    """The canonical key of a channel handle; raises ``ValueError`` (with the fix) if invalid.

    >>> canonical_handle("https://t.me/s/Some_Channel")
    'some_channel'
    >>> canonical_handle(-1001234567890)
    '1234567890'
    """
    if isinstance(handle, bool) or not isinstance(handle, str | int):
        raise ValueError(f"channel handle must be text, not {type(handle).__name__}; {HANDLE_FIX}")
    text = str(handle).strip()
    if not text:
        raise ValueError(f"empty channel handle; {HANDLE_FIX}")
    if _NUMERIC.fullmatch(text):
        return _numeric_key(text)
    link = _LINK.fullmatch(text)
    if link:
        return _link_key(text, link.group("path"))
    if "/" in text or text.lower().startswith("tg:"):
        raise ValueError(f"'{text}' is not a t.me link to a channel; {HANDLE_FIX}")
    return _username_key(text.removeprefix("@"), text)


def display_handle(key: str) -> str:
    """How a canonical key is shown to people: ``@name`` or the numeric id."""
    return key if key.isdigit() else f"@{key}"


def _numeric_key(text: str) -> str:
    if text.startswith("-100") and len(text) > 4:
        text = text[4:]
    elif text.startswith("-"):
        raise ValueError(
            f"'{text}' is a group chat id, not a channel id; channel ids look like "
            f"-1001234567890 or 1234567890 ({HANDLE_FIX})"
        )
    number = int(text)
    if number > CHANNEL_ID_MAX:
        raise ValueError(f"'{text[:24]}…' is too large for a channel id; {HANDLE_FIX}")
    if number <= 0:
        raise ValueError(f"'{text}' is not a channel id; {HANDLE_FIX}")
    return str(number)


def _link_key(text: str, path: str) -> str:
    parts = [part for part in path.split("/") if part]
    if parts and parts[0].lower() == "s":
        parts = parts[1:]
    if not parts:
        raise ValueError(f"'{text}' names no channel; {HANDLE_FIX}")
    first = parts[0]
    if first.startswith("+") or first.lower() == "joinchat":
        raise ValueError(
            f"'{text}' is an invite link, which cannot be monitored; use the channel's @name "
            "or numeric id"
        )
    if first.lower() == "c" and len(parts) > 1 and parts[1].isdigit():
        return _numeric_key(parts[1])
    if len(parts) > 1 and not parts[1].isdigit():
        raise ValueError(f"'{text}' is not a link to a channel or post; {HANDLE_FIX}")
    return _username_key(first, text)


def _username_key(name: str, text: str) -> str:
    key = name.lower()
    if not _USERNAME.fullmatch(key):
        raise ValueError(
            f"invalid channel handle '{text}'; a username has 5-32 letters, digits or _ and "
            f"starts with a letter ({HANDLE_FIX})"
        )
    return key


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"30s"``, ``"5m"``, ``"1h30m"``, ``"2d"`` -> ``timedelta``; raises ``ValueError`` otherwise.

    A bare number is refused: ``5`` could mean seconds or minutes, so a unit is required.
    """
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ValueError(f"bad duration '{format_duration(value)}'; it must be positive")
        return value
    text = str(value).strip()
    match = _DURATION.fullmatch(text)
    if not text or not match or not any(match.groupdict().values()):
        raise ValueError(f"bad duration '{text}'; {DURATION_FIX}")
    parts = {unit: int(amount or 0) for unit, amount in match.groupdict().items()}
    duration = timedelta(days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])
    if duration <= timedelta(0):
        raise ValueError(f"bad duration '{text}'; it must be longer than 0s: {DURATION_FIX}")
    return duration


def format_duration(duration: timedelta) -> str:
    """The inverse of :func:`parse_duration`: ``timedelta(seconds=5400)`` -> ``"1h30m"``."""
    seconds = int(duration.total_seconds())
    if seconds <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount:
            out.append(f"{amount}{unit}")
    return "".join(out)
