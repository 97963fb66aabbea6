"""The watchlist (channels.yaml): channels to collect, entities to flag, routes to alert along.

``load_watchlist(path)`` validates the file into immutable models; every problem is reported at
once as ``file:line:column: message; fix`` in a :class:`WatchlistError` (a ``ConfigError``).
"""

from __future__ import annotations

from monitor.config.compiled import compile_matcher
from monitor.config.handles import canonical_handle, display_handle, format_duration, parse_duration
from monitor.config.loader import WatchlistError, load_entities, load_watchlist, parse_watchlist
from monitor.config.models import (
    AlertsSpec,
    ChannelEntry,
    ChannelSpec,
    Defaults,
    EntityKind,
    EntitySpec,
    MediaKind,
    Watchlist,
)
from monitor.config.routes import STATUS_ORDER, RouteSpec, mask_route_url
from monitor.config.yamlpos import Problem

__all__ = [
    "STATUS_ORDER",
    "AlertsSpec",
    "ChannelEntry",
    "ChannelSpec",
    "Defaults",
    "EntityKind",
    "EntitySpec",
    "MediaKind",
    "Problem",
    "RouteSpec",
    "Watchlist",
    "WatchlistError",
    "canonical_handle",
    "compile_matcher",
    "display_handle",
    "format_duration",
    "load_entities",
    "load_watchlist",
    "mask_route_url",
    "parse_duration",
    "parse_watchlist",
]
