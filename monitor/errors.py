"""The monitor's error hierarchy.

Messages are built from identifiers and say how to fix the problem. The CLI prints
``str(error)`` (and ``error.hint`` when set) and exits non-zero; nothing else translates them.
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base class for errors that the CLI reports as one line, without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class ConfigError(MonitorError):
    """Settings or channels.yaml are invalid."""

    exit_code = 2


class CollectorError(MonitorError):
    """Talking to Telegram failed in a way the collector cannot retry by itself."""


class MatchingError(MonitorError):
    """The watchlist could not be compiled."""
