"""Which files an ``include:`` pattern names: one function for the loader and for the record
of a cached watchlist (:mod:`monitor.config.watchcache`), so both always agree."""

from __future__ import annotations

import glob
from pathlib import Path

__all__ = ["expand_include"]


def expand_include(full: Path) -> list[Path]:
    """The files a pattern with wildcards names (directories left out), in the order read."""
    return [Path(p) for p in sorted(glob.glob(str(full))) if Path(p).is_file()]
