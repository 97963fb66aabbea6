"""``jsonl:///path/alerts.jsonl``: append one JSON object per alert, fsynced (audit, piping)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from alerts.errors import AlertConfigError, AlertDeliveryError
from alerts.render import RenderedAlert

__all__ = ["JsonlSink"]


class JsonlSink:
    """Each line: ``{"idempotency_key", "sent_at", "title", "body", "message": {...}}``.

    A line is written whole with one ``write`` and fsynced before ``send`` returns; a line with a
    key already in the file means the alert was retried after a crash (dedupe on the key).
    """

    format = "text"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = f"jsonl://{self.path.name}"
        self._lock = asyncio.Lock()

    @classmethod
    def from_url(cls, url: str) -> JsonlSink:
        path = url.partition("://")[2]
        if not path:
            raise AlertConfigError(
                f"{url!r} names no file",
                hint="use jsonl:///abs/path.jsonl or jsonl://relative/path.jsonl",
            )
        return cls(Path(path))

    async def send(self, message: RenderedAlert, *, idempotency_key: str) -> None:
        record = {
            "idempotency_key": idempotency_key,
            "sent_at": datetime.now(UTC).isoformat(),
            "title": message.title,
            "body": message.body,
            "message": message.message.to_dict(),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        async with self._lock:
            try:
                await asyncio.to_thread(self._append, line.encode())
            except OSError as exc:
                raise AlertDeliveryError(f"cannot append to {self.path}: {exc.strerror}") from None

    def _append(self, data: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
