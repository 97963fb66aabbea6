"""Telegram channel monitor: collection, matching, orchestration, CLI and the simulator."""

__version__ = "0.1.0"
