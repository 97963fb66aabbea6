"""Command-line interface: ``monitor <command>``. Each command module registers itself here."""

from __future__ import annotations

from monitor.cli import config_cmd  # noqa: F401  (registers commands on app)
from monitor.cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
