"""Alerts: the outbox delivery loop, sinks (Apprise, JSON lines, console) and rendering.

The pipeline calls :func:`enqueue_for_post` inside the flag transaction; the service runs
:meth:`OutboxWorker.run_forever`; the demo calls :meth:`OutboxWorker.drain`.
"""

from alerts.admin import OutboxEntry, list_outbox, outbox_counts, retry, retry_all_failed
from alerts.delivery import DeliveryReport, RetryPolicy, deliver_due
from alerts.errors import AlertConfigError, AlertDeliveryError, AlertError, OutboxEntryNotFoundError
from alerts.message import AlertMessage, Span
from alerts.outbox import digest_due_at, enqueue_for_post, enqueue_for_posts, idempotency_key
from alerts.render import RenderedAlert, Renderer
from alerts.routes import Route
from alerts.sinks import Sink, get_sink, register_sink, sinks_for_routes
from alerts.worker import OutboxWorker

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
    "get_sink",
    "idempotency_key",
    "list_outbox",
    "outbox_counts",
    "register_sink",
    "retry",
    "retry_all_failed",
    "sinks_for_routes",
]
