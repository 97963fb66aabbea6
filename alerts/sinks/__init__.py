"""Sinks by URL scheme: ``get_sink("json://host/hook")``, ``get_sink("jsonl://data/alerts.jsonl")``.

``jsonl``, ``console`` and ``memory`` are built in; every other scheme goes to Apprise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from alerts.errors import AlertConfigError
from alerts.routes import Route
from alerts.sinks.base import Sink, redact_url
from alerts.sinks.console import ConsoleSink
from alerts.sinks.jsonl import JsonlSink
from alerts.sinks.memory import Delivery, MemorySink

if TYPE_CHECKING:
    from alerts.sinks.apprise_sink import AppriseSink

__all__ = [
    "AppriseSink",
    "ConsoleSink",
    "Delivery",
    "JsonlSink",
    "MemorySink",
    "Sink",
    "get_sink",
    "redact_url",
    "register_sink",
    "sinks_for_routes",
]

SinkFactory = Callable[[str], Sink]
_REGISTRY: dict[str, SinkFactory] = {
    "jsonl": JsonlSink.from_url,
    "console": ConsoleSink.from_url,
    "memory": MemorySink.from_url,
}


def register_sink(scheme: str, factory: SinkFactory) -> None:
    """Make ``scheme://...`` URLs build sinks with ``factory`` (before Apprise is asked)."""
    _REGISTRY[scheme.lower()] = factory


def get_sink(url: str) -> Sink:
    """The sink for ``url``: a built-in scheme, else any URL Apprise understands."""
    scheme, sep, _rest = url.partition("://")
    if not sep or not scheme:
        raise AlertConfigError(
            f"alert URL {redact_url(url)!r} has no scheme",
            hint="write it like json://host/path, mailto://..., jsonl://alerts.jsonl or console://",
        )
    factory = _REGISTRY.get(scheme.lower())
    if factory is None:
        from alerts.sinks.apprise_sink import AppriseSink

        factory = AppriseSink.from_url
    return factory(url)


def __getattr__(name: str) -> Any:
    # Apprise (and its plugins, ~0.1 s) loads only when a route names an Apprise URL.
    if name == "AppriseSink":
        from alerts.sinks.apprise_sink import AppriseSink

        return AppriseSink
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def sinks_for_routes(routes: Iterable[Route]) -> dict[str, list[Sink]]:
    """``{route name: [sink per URL]}``, what :func:`alerts.deliver_due` takes."""
    return {route.name: [get_sink(url) for url in route.urls] for route in routes}
