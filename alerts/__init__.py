"""Alerts: the outbox delivery loop, sinks (Apprise, JSON lines, console) and rendering.

The pipeline calls :func:`enqueue_for_post` inside the flag transaction (which also wakes
senders in other processes: :func:`notify_queued`); the service runs
:meth:`OutboxWorker.run_forever`, as does ``monitor alerts send`` with ``listen=True``; the demo
calls :meth:`OutboxWorker.drain`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from storage.lazy import lazy_exports

if TYPE_CHECKING:  # the same names as _EXPORTS below, for type checkers and editors
    from alerts.admin import OutboxEntry, list_outbox, outbox_counts, retry, retry_all_failed
    from alerts.delivery import DeliveryReport, RetryPolicy, deliver_due
    from alerts.errors import (
        AlertConfigError,
        AlertDeliveryError,
        AlertError,
        OutboxEntryNotFoundError,
    )
    from alerts.health import enqueue_health
    from alerts.message import AlertMessage, Span
    from alerts.outbox import (
        digest_due_at,
        enqueue_for_post,
        enqueue_for_posts,
        idempotency_key,
    )
    from alerts.render import RenderedAlert, Renderer
    from alerts.routes import Route
    from alerts.sinks import Sink, get_sink, register_sink, sinks_for_routes
    from alerts.wakeup import listen_for_queued, notify_queued, wakes_by_notify
    from alerts.worker import OutboxWorker

# Each public name and the submodule it lives in. Submodules load on first use (PEP 562), so
# ``from alerts import X`` costs only X's module: the CLI starts without what it does not need.
_EXPORTS: dict[str, tuple[str, ...]] = {
    "alerts.admin": (
        "OutboxEntry",
        "list_outbox",
        "outbox_counts",
        "retry",
        "retry_all_failed",
    ),
    "alerts.delivery": (
        "DeliveryReport",
        "RetryPolicy",
        "deliver_due",
    ),
    "alerts.errors": (
        "AlertConfigError",
        "AlertDeliveryError",
        "AlertError",
        "OutboxEntryNotFoundError",
    ),
    "alerts.health": ("enqueue_health",),
    "alerts.message": (
        "AlertMessage",
        "Span",
    ),
    "alerts.outbox": (
        "digest_due_at",
        "enqueue_for_post",
        "enqueue_for_posts",
        "idempotency_key",
    ),
    "alerts.render": (
        "RenderedAlert",
        "Renderer",
    ),
    "alerts.routes": ("Route",),
    "alerts.sinks": (
        "Sink",
        "get_sink",
        "register_sink",
        "sinks_for_routes",
    ),
    "alerts.wakeup": ("listen_for_queued", "notify_queued", "wakes_by_notify"),
    "alerts.worker": ("OutboxWorker",),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "AlertConfigError",
    "AlertDeliveryError",
    "AlertError",
    "AlertMessage",
    "DeliveryReport",
    "OutboxEntry",
    "OutboxEntryNotFoundError",
    "OutboxWorker",
    "RenderedAlert",
    "Renderer",
    "RetryPolicy",
    "Route",
    "Sink",
    "Span",
    "deliver_due",
    "digest_due_at",
    "enqueue_for_post",
    "enqueue_for_posts",
    "enqueue_health",
    "get_sink",
    "idempotency_key",
    "list_outbox",
    "listen_for_queued",
    "notify_queued",
    "outbox_counts",
    "register_sink",
    "retry",
    "retry_all_failed",
    "sinks_for_routes",
    "wakes_by_notify",
]


__getattr__, __dir__ = lazy_exports(globals(), _MODULE_OF)
