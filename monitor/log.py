"""Logging: structlog key-value events on stderr, as console lines or JSON."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from alerts.redact import install_apprise_filter, redact

SECRET_KEYS = frozenset({"api_hash", "session", "password", "telegram_api_hash", "token"})


def _drop_secrets(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in SECRET_KEYS & event.keys():
        event[key] = "**********"
    return event


def _redact_values(
    _logger: Any, _name: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Redact URLs (credentials, webhook tokens, secret query values) in every text value,
    the formatted traceback included."""
    for key, value in event.items():
        if isinstance(value, str):
            event[key] = redact(value)
        elif isinstance(value, BaseException):
            event[key] = redact(f"{type(value).__name__}: {value}")
    return event


def configure_logging(*, fmt: str = "console", level: str = "INFO") -> None:
    """Send structlog and stdlib logging (Telethon, APScheduler) to stderr in one format."""
    # Tracebacks become plain text (never with local variables, which hold route URLs and
    # settings) and are redacted like every other value before either renderer sees them.
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_secrets,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _redact_values,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Telethon is chatty at INFO (connection notices); keep it to warnings unless debugging.
    logging.getLogger("telethon").setLevel("DEBUG" if level == "DEBUG" else "WARNING")
    install_apprise_filter()  # Apprise logs service URLs itself; redacted before any handler
    for noisy in ("apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel("DEBUG" if level == "DEBUG" else "WARNING")
