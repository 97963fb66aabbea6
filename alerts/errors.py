"""Alert errors. ``alerts`` knows nothing of ``monitor``; the CLI catches these too."""

from __future__ import annotations


class AlertError(Exception):
    """Base class for alert errors the CLI reports as one line."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class AlertDeliveryError(AlertError):
    """A sink could not deliver a message (the outbox retries it later)."""


class AlertConfigError(AlertError):
    """A route, sink URL or template directory is unusable (fix the channels file or settings)."""


class OutboxEntryNotFoundError(AlertError):
    """No alert_outbox row with the given id (``monitor alerts retry ID``)."""
