"""Files of the on-disk caches (the compiled matcher, the watchlist record): written whole or
not at all, and only the most recently used few kept."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from monitor.log import get_logger

__all__ = ["keep_newest", "replaced_atomically"]

log = get_logger(__name__)  # structlog loads when it first logs


@contextlib.contextmanager
def replaced_atomically(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """A file to write in ``path``'s folder, renamed over ``path`` when the block ends; removed
    if the block raises, so a reader never sees half a file. OSError is the caller's."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def keep_newest(directory: Path, pattern: str, keep: int) -> None:
    """Remove all but the ``keep`` most recently used (modified) files matching ``pattern``."""
    try:
        files = sorted(directory.glob(pattern), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[keep:]:
            old.unlink(missing_ok=True)
    except OSError as exc:  # a file removed meanwhile by another process: next time
        log.debug("cache_prune_failed", directory=str(directory), error=str(exc))
