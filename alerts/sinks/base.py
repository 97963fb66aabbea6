"""The sink interface: one destination that takes a rendered alert."""

from __future__ import annotations

from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit

from alerts.render import RenderedAlert

__all__ = ["Sink", "redact_url"]


@runtime_checkable
class Sink(Protocol):
    """Delivers rendered alerts somewhere.

    ``name`` is safe to log (scheme and host, never a token); ``format`` is the body format the sink
    wants (``text``, ``markdown`` or ``html``). ``send`` raises
    :class:`~alerts.errors.AlertDeliveryError` on failure; the outbox retries. The same
    ``idempotency_key`` may arrive more than once (at-least-once delivery): receivers dedupe on it.
    """

    name: str
    format: str

    async def send(self, message: RenderedAlert, *, idempotency_key: str) -> None: ...


def redact_url(url: str) -> str:
    """``scheme://host`` of a sink URL: what logs and errors may show (URLs carry tokens)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return url.partition("://")[0] + "://?"
    return f"{parts.scheme}://{host}{port}"
