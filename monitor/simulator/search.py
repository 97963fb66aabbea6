"""``messages.search`` in a channel: a text query and Telegram's message filters over the model.

A filter the model has content for (photos, links, pinned posts) selects it; a filter for media the
simulator does not model (videos, documents, voice notes, ...) is valid and matches nothing, as on
a channel that never posted such media. The text query matches case-insensitively anywhere in the
text (Telegram matches word prefixes; the simulator is more lenient).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from telethon.tl import types

from monitor.simulator.entities import SimMessage

__all__ = ["FILTERS", "has_url", "matching"]

# What Telegram's server links in plain text (it adds url entities to posts sent without them).
_URL_RE = re.compile(r"(?i)(?:\bhttps?://|\bwww\.|\bt\.me/)[^\s]+")
_URL_ENTITIES = (types.MessageEntityUrl, types.MessageEntityTextUrl)


def has_url(message: SimMessage) -> bool:
    """A link in the text or in its entities (``InputMessagesFilterUrl``)."""
    return any(isinstance(e, _URL_ENTITIES) for e in message.entities) or bool(
        _URL_RE.search(message.text)
    )


def _has_photo(message: SimMessage) -> bool:
    return message.photo is not None


FILTERS: dict[type, Callable[[SimMessage], bool]] = {
    types.InputMessagesFilterEmpty: lambda m: True,
    types.InputMessagesFilterPhotos: _has_photo,
    types.InputMessagesFilterPhotoVideo: _has_photo,
    types.InputMessagesFilterUrl: has_url,
    types.InputMessagesFilterPinned: lambda m: m.pinned,
}


def _nothing(message: SimMessage) -> bool:
    return False


def matching(newest_first: Any, request: Any) -> list[SimMessage]:
    """The messages of ``newest_first`` that ``request`` (a ``messages.SearchRequest``) finds:
    its text query, filter and date bounds; newest first, for ``history_page``."""
    needle = (request.q or "").casefold()
    wanted = FILTERS.get(type(request.filter), _nothing)
    low, high = _date(request.min_date), _date(request.max_date)
    return [
        m
        for m in newest_first
        if wanted(m)
        and (not needle or needle in m.text.casefold())
        and (low is None or m.date >= low)
        and (high is None or m.date <= high)
    ]


def _date(value: datetime | None) -> datetime | None:
    """A TL date of 0 (sent for None) means "no bound"."""
    return value if value is not None and value.timestamp() > 0 else None
