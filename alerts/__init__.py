"""Alerts: the outbox delivery loop, sinks (Apprise, JSON lines, console) and rendering."""

from alerts.errors import AlertDeliveryError, AlertError

__all__ = ["AlertDeliveryError", "AlertError"]
