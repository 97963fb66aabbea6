"""The watchlist (channels.yaml): channels to collect, entities to flag, routes to alert along.

``load_watchlist(path)`` validates the file into immutable models; every problem is reported at
once as ``file:line:column: message; fix`` in a :class:`WatchlistError` (a ``ConfigError``).

Names are exported lazily (PEP 562), as ``storage`` and ``alerts`` do: ``monitor.config.watchcache``
(a cached ``monitor match``) then runs without the YAML readers and the pydantic models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.lazy import lazy_exports

if TYPE_CHECKING:  # the same names as _EXPORTS below, for type checkers and editors
    from monitor.config.compiled import compile_matcher
    from monitor.config.handles import (
        canonical_handle,
        display_handle,
        format_duration,
        parse_duration,
    )
    from monitor.config.loader import (
        WatchlistError,
        load_entities,
        load_watchlist,
        parse_watchlist,
    )
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

_EXPORTS: dict[str, tuple[str, ...]] = {
    "monitor.config.compiled": ("compile_matcher",),
    "monitor.config.handles": (
        "canonical_handle",
        "display_handle",
        "format_duration",
        "parse_duration",
    ),
    "monitor.config.loader": (
        "WatchlistError",
        "load_entities",
        "load_watchlist",
        "parse_watchlist",
    ),
    "monitor.config.models": (
        "AlertsSpec",
        "ChannelEntry",
        "ChannelSpec",
        "Defaults",
        "EntityKind",
        "EntitySpec",
        "MediaKind",
        "Watchlist",
    ),
    "monitor.config.routes": ("STATUS_ORDER", "RouteSpec", "mask_route_url"),
    "monitor.config.yamlpos": ("Problem",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

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


__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)
