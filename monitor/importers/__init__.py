"""Importers: bring copies of Telegram history made by other tools into the archive.

Each importer reads its format as a stream and stores through the same write path as the
collector (:func:`storage.upsert_posts`), marking every version it adds as imported.
"""

from __future__ import annotations

from monitor.errors import MonitorError

__all__ = ["ExportError"]


class ExportError(MonitorError):
    """An export file is malformed; the message names the file and the JSON path."""

    exit_code = 2
