"""channels.yaml as the desk reads it: loaded again only when the file changes, and never a reason
for a page to fail (the archive does not depend on it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.errors import MonitorError

__all__ = ["WatchlistCache"]


@dataclass
class _Loaded:
    stamp: tuple[int, int] | None
    watchlist: Any
    error: str | None


class WatchlistCache:
    """The watchlist of ``path`` (or the error loading it), re-read when its mtime or size
    changes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._loaded: _Loaded | None = None

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def get(self) -> tuple[Any, str | None]:
        """``(watchlist, None)``, or ``(None, why it does not load)``."""
        stamp = self._stamp()
        if self._loaded is None or self._loaded.stamp != stamp or stamp is None:
            self._loaded = _Loaded(stamp, *self._load())
        return self._loaded.watchlist, self._loaded.error

    def _load(self) -> tuple[Any, str | None]:
        from monitor.config import load_watchlist

        try:
            return load_watchlist(self.path), None
        except MonitorError as exc:
            return None, str(exc) + (f" ({exc.hint})" if exc.hint else "")
        except OSError as exc:
            return None, f"cannot read {self.path}: {exc.strerror}"

    def desk_zone_and_titles(self, desk_timezone: str | None) -> tuple[str | None, dict[str, str]]:
        """The citation time zone (the desk's, else channels.yaml's alerts.timezone) and the
        English channel titles (``title_en``) by channel key."""
        watchlist, _ = self.get()
        if watchlist is None:
            return desk_timezone, {}
        titles = {c.key: c.title_en for c in watchlist.channels if getattr(c, "title_en", None)}
        return desk_timezone or watchlist.alerts.timezone, titles
