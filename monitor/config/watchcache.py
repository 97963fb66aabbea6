"""A watchlist file's compiled matcher, found by the content of its files: nothing re-read.

:mod:`monitor.config.compiled` caches the automaton under a hash of the entities, but finding
the entities still meant reading and validating every file: at 10,000 aliases that cost more
than the cached automaton itself. Here a small record, named after a SHA-256 of the main file's
path and text and of the loading and matching code, lists what else the entities came from:
every included file with a SHA-256 of its text, and every include pattern with wildcards with
the files it named. While each file has that text and each pattern names the same files, the
record's matcher comes straight from the matcher cache, with no YAML parsed and no model
validated. Anything else (a file edited, added, removed or renamed, other code) loads the
watchlist the full way and writes the record again; a watchlist with a problem is never
recorded, so its messages are exactly the loader's. A watchlist that reads a ``${VAR}`` is not
recorded either: the record would have to keep the value, or a hash of a secret.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monitor.config.cachefiles import keep_newest, replaced_atomically
from monitor.config.compiled import cached_matcher, code_fingerprint, compile_matcher_keyed
from monitor.config.includes import expand_include
from monitor.config.yamllimits import MAX_BYTES
from monitor.log import get_logger

__all__ = ["RECORDS_KEPT", "matcher_for_file"]

log = get_logger(__name__)

#: Records kept in the cache directory (the most recently used).
RECORDS_KEPT = 8
_PREFIX = "watchlist-"
_SUFFIX = ".json"
_FORMAT = "watchlist-record-1"
#: The modules whose code decides which entities a file gives (besides the matching code).
_LOADING_CODE = (
    "accounts",
    "checks",
    "handles",
    "includes",
    "loader",
    "messages",
    "models",
    "routes",
    "watchcache",
    "yamlfast",
    "yamllimits",
    "yamlpos",
)


def matcher_for_file(
    path: Path, cache_dir: Path | None, *, env: Mapping[str, str] | None = None
) -> Any:
    """The compiled matcher of the entities of ``path`` (as :func:`load_entities` reads
    them), from ``cache_dir`` without loading the watchlist when its files are unchanged.

    Raises what :func:`load_entities` raises. A missing, unwritable or damaged cache only makes
    the call slower.
    """
    path = Path(path)
    env = os.environ if env is None else env
    record = None
    text = _text_of(path) if cache_dir is not None else None
    if cache_dir is not None and text is not None:
        record = Path(cache_dir) / f"{_PREFIX}{_record_key(path, text)}{_SUFFIX}"
        matcher = _recorded_matcher(record, Path(cache_dir))
        if matcher is not None:
            if logging.getLogger(__name__).isEnabledFor(logging.DEBUG):  # else no structlog
                log.debug("watchlist_cache_hit", path=str(path), record=str(record))
            return matcher
    # Not recorded, or changed: the loader reads everything and says what is wrong, if anything.
    from monitor.config.loader import _build_with, _read

    if text is None:
        text = _read(path)  # the loader's own error for a missing, huge or unreadable file
    builder, watchlist = _build_with(text, str(path), env, path.parent, entities_only=True)
    matcher, key = compile_matcher_keyed(watchlist.entities, cache_dir)
    if record is not None and key is not None and not getattr(builder.env, "asked", True):
        files = [[str(p), _digest(t)] for p, t in builder.texts]
        globs = [[pattern, list(found)] for pattern, found in builder.globs]
        _write(record, {"format": _FORMAT, "matcher": key, "files": files, "globs": globs})
    return matcher


def _text_of(path: Path) -> str | None:
    """The main file's text, or ``None`` if the loader should read it (and report why)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        return path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return None


def _record_key(path: Path, text: str) -> str:
    digest = hashlib.sha256(_FORMAT.encode())
    digest.update(code_fingerprint())
    digest.update(_loading_fingerprint())
    digest.update(str(path.resolve()).encode("utf-8", "surrogatepass") + b"\0")
    digest.update(_digest(text).encode())
    return digest.hexdigest()


def _digest(text: str) -> str:
    """The hex SHA-256 of a file's text as the loader read it (UTF-8, without a BOM)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@functools.cache
def _loading_fingerprint() -> bytes:
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _LOADING_CODE:
        digest.update((here / f"{name}.py").read_bytes())
    return digest.digest()


def _recorded_matcher(record: Path, cache_dir: Path) -> Any:
    """The matcher ``record`` names, if everything it lists is as it was; else ``None``."""
    key = _recorded_key(record)
    matcher = cached_matcher(cache_dir, key) if key is not None else None
    if matcher is not None:
        with contextlib.suppress(OSError):
            os.utime(record)  # recently used: kept by keep_newest
    return matcher


def _recorded_key(record: Path) -> str | None:
    """The matcher key of ``record`` if everything it lists is as it was, else ``None``."""
    try:
        data = json.loads(record.read_bytes())
        if data["format"] != _FORMAT:
            return None
        for pattern, found in data["globs"]:
            if [str(p) for p in expand_include(Path(pattern))] != found:
                return None
        for name, digest in data["files"]:
            if _digest(Path(name).read_text(encoding="utf-8-sig")) != digest:
                return None
        key = data["matcher"]
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        # Unreadable, damaged or of another shape: loaded the full way and written again.
        log.debug("watchlist_cache_ignored", path=str(record), reason=type(exc).__name__)
        return None
    return key if isinstance(key, str) else None


def _write(record: Path, data: dict[str, Any]) -> None:
    """Write ``record`` atomically; a failure is logged, never raised."""
    try:
        with replaced_atomically(record, "w") as fh:
            json.dump(data, fh, ensure_ascii=False)
    except OSError as exc:
        log.warning("watchlist_cache_not_written", path=str(record), error=str(exc))
        return
    keep_newest(record.parent, f"{_PREFIX}*{_SUFFIX}", RECORDS_KEPT)
