"""The compiled matcher of a watchlist, cached on disk so a large watchlist starts fast.

:class:`~monitor.matching.Matcher` stays pure; this module owns the file I/O. A cache file is
named after a SHA-256 of everything :meth:`Matcher.compile` reads (each entity's id, name,
aliases and ``infer`` switch, in order) and of the matching code itself (its source files, the Unicode and
pyahocorasick versions), so an edited alias or an upgraded normaliser never reuses a stale
automaton. Files are written atomically (a temporary file renamed into place); a file that
cannot be read or is not a compiled matcher is ignored and written again. The cache directory
must be as trusted as the data directory itself (the file holds a pickled automaton).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import hashlib
import json
import logging
import os
import pickle
import subprocess
import sys
import unicodedata
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from monitor.config.cachefiles import keep_newest, replaced_atomically
from monitor.log import get_logger

__all__ = [
    "CACHE_KEEP",
    "ISOLATE_ABOVE",
    "cache_key",
    "cached_matcher",
    "code_fingerprint",
    "compile_matcher",
    "compile_matcher_keyed",
    "paused_gc",
]

log = get_logger(__name__)  # structlog loads when it first logs

#: Above this many names (aliases and entity names), ``isolate=True`` compiles in a child.
ISOLATE_ABOVE = 2_000
#: Cache files kept in the directory (the newest), so two watchlists in turn both stay cached.
CACHE_KEEP = 3
_PREFIX = "matcher-"
_SUFFIX = ".bin"
_MAGIC = b"telegram-monitor compiled matcher\n"
_CHUNK = 1 << 22


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a large watchlist is built.

    Hundreds of thousands of new containers trigger collection after collection over the
    growing heap (10x slower at 50,000 aliases); none of them is garbage until it is all done.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compile_matcher(
    entities: Sequence[Any], cache_dir: Path | None = None, *, isolate: bool = False
) -> Any:
    """``Matcher.compile(entities)``, or the same matcher from ``cache_dir`` when cached there.

    A missing, unwritable or corrupt cache never fails the call: it only makes it slower.
    ``isolate`` (for a reload in a running daemon, called from a worker thread): a large
    watchlist is compiled in a child process. Building and pickling the automaton are single C
    calls that hold the GIL (0.4 s each at 10,000 aliases), which would pause the event loop
    even from a thread; here only loading the result holds it (0.1 s).
    """
    return compile_matcher_keyed(entities, cache_dir, isolate=isolate)[0]


def compile_matcher_keyed(
    entities: Sequence[Any], cache_dir: Path | None = None, *, isolate: bool = False
) -> tuple[Any, str | None]:
    """:func:`compile_matcher`, and its :func:`cache_key` (``None`` without ``cache_dir``)."""
    from monitor.matching import Matcher

    with paused_gc():
        key = path = None
        if cache_dir is not None:
            key = cache_key(entities)
            path = _path_of(Path(cache_dir), key)
            cached = _read(path, key)
            if cached is not None:
                return cached, key
        matcher: Any = None
        payload: Any = None  # what the cache file gets: the child's bytes, or the matcher
        if isolate and sum(1 + len(getattr(e, "aliases", None) or ()) for e in entities) > (
            ISOLATE_ABOVE
        ):
            payload = _compile_in_child(entities)
            matcher = _loads_or_none(payload)
        if matcher is None:
            matcher = Matcher.compile(entities)
            payload = matcher
        if path is not None and key is not None and payload is not None:
            _write(path, key, payload)
        return matcher, key


def cached_matcher(cache_dir: Path, key: str) -> Any:
    """The matcher cached under ``key`` (a :func:`cache_key`) in ``cache_dir``, or ``None``."""
    with paused_gc():
        return _read(_path_of(Path(cache_dir), key), key)


def _path_of(cache_dir: Path, key: str) -> Path:
    return cache_dir / f"{_PREFIX}{key}{_SUFFIX}"


def _loads_or_none(payload: bytes | None) -> Any:
    from monitor.matching import Matcher

    if payload is None:
        return None
    try:
        return Matcher.loads(payload)
    except ValueError as exc:
        log.warning("matcher_compile_child_failed", error=str(exc), fallback="in process")
        return None


#: The child: entities ``(id, name, aliases)`` pickled on stdin, the compiled matcher's bytes
#: on stdout. It imports only the matcher (from this checkout), and runs as ``-c`` so nothing
#: re-imports the parent's __main__ (multiprocessing's spawn would).
_CHILD = """
import gc, pickle, sys, types
gc.disable()
from monitor.matching import Matcher
rows = pickle.load(sys.stdin.buffer)
entities = [types.SimpleNamespace(id=i, name=n, aliases=a, infer=f) for i, n, a, f in rows]
sys.stdout.buffer.write(Matcher.compile(entities).dumps())
"""


def _compile_in_child(entities: Sequence[Any]) -> bytes | None:
    """The compiled matcher's bytes from a child process; ``None`` (logged) if it failed."""
    rows = [
        (str(e.id), e.name, tuple(getattr(e, "aliases", None) or ()), _infers(e)) for e in entities
    ]
    root = str(Path(__file__).resolve().parents[2])  # where `monitor` is importable from
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])),
    }
    try:
        done = subprocess.run(
            [sys.executable, "-P", "-c", _CHILD],  # -P: not the current directory's modules
            input=pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL),
            capture_output=True,
            env=env,
            check=False,
        )
    except OSError as exc:
        log.warning("matcher_compile_child_failed", error=str(exc), fallback="in process")
        return None
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["?"]
        log.warning("matcher_compile_child_failed", error=error[0], fallback="in process")
        return None
    return done.stdout


def cache_key(entities: Sequence[Any]) -> str:
    """A hex SHA-256 of what the compiled matcher depends on."""
    digest = hashlib.sha256(code_fingerprint())
    # Exactly what Matcher.compile reads.
    rows = [
        [str(e.id), e.name, list(getattr(e, "aliases", None) or ()), _infers(e)] for e in entities
    ]
    digest.update(json.dumps(rows, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _infers(entity: Any) -> bool:
    """Whether the entity's aliases get inferred forms (``infer:`` in the watchlist)."""
    return bool(getattr(entity, "infer", True))


@functools.cache
def code_fingerprint() -> bytes:
    """A SHA-256 of the matching code (its sources; the Python, Unicode and pyahocorasick
    versions): a matcher compiled by other code is never reused."""
    import importlib

    import ahocorasick

    digest = hashlib.sha256()
    for name in ("aliases", "infer", "matcher", "normalize", "spans"):
        module = importlib.import_module(f"monitor.matching.{name}")
        digest.update(Path(str(module.__file__)).read_bytes())
    versions = (
        sys.version,
        unicodedata.unidata_version,
        getattr(ahocorasick, "__version__", ""),
        str(ahocorasick.unicode),
    )
    digest.update(repr(versions).encode())
    return digest.digest()


def _read(path: Path, key: str) -> Any:
    """The cached matcher, or ``None``. Read from the file, not from a copy of it in memory
    (the cache of 50,000 aliases is 180 MB)."""
    from monitor.matching import Matcher

    try:
        with path.open("rb") as fh:
            header = fh.read(len(_MAGIC) + len(key) + 1)
            head = fh.readline(64).rstrip(b"\n")
            start = fh.tell()
            size, crc = 0, 0
            while chunk := fh.read(_CHUNK):
                size += len(chunk)
                crc = zlib.crc32(chunk, crc)
            if header != _MAGIC + key.encode() + b"\n" or head != _checksum_line(size, crc):
                # Never unpickle damaged bytes: the automaton's own loader trusts its input.
                log.warning("matcher_cache_ignored", path=str(path), reason="damaged or foreign")
                return None
            fh.seek(start)
            matcher = Matcher.loads(fh)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("matcher_cache_unreadable", path=str(path), error=str(exc))
        return None
    except ValueError as exc:
        log.warning("matcher_cache_ignored", path=str(path), reason=str(exc))
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept by keep_newest
    if logging.getLogger(__name__).isEnabledFor(logging.DEBUG):  # else structlog stays unloaded
        log.debug("matcher_cache_hit", path=str(path))
    return matcher


def _write(path: Path, key: str, payload: bytes | Any) -> None:
    """Write ``payload`` (a compiled matcher's bytes, or the matcher itself) atomically."""
    try:
        with replaced_atomically(path) as fh:
            fh.write(_MAGIC + key.encode() + b"\n")
            at = fh.tell()
            fh.write(_checksum_line(0, 0) + b"\n")  # a placeholder of the same width
            out = _Checksummed(fh)
            if isinstance(payload, bytes | memoryview):
                out.write(payload)
            else:
                payload.dump(out)
            fh.seek(at)
            fh.write(_checksum_line(out.size, out.crc))
    except OSError as exc:
        log.warning("matcher_cache_not_written", path=str(path), error=str(exc))
        return
    keep_newest(path.parent, f"{_PREFIX}*{_SUFFIX}", CACHE_KEEP)


class _Checksummed:
    """A binary writer that keeps the length and CRC-32 of what went through it."""

    def __init__(self, fh: Any) -> None:
        self.fh, self.size, self.crc = fh, 0, 0

    def write(self, data: Any) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += memoryview(data).nbytes
        return int(self.fh.write(data))


def _checksum_line(size: int, crc: int) -> bytes:
    """Length and CRC-32 of the payload (fixed width: written after it, over a placeholder):
    a torn or damaged file is refused before unpickling."""
    return f"{size:020d} {crc:08x}".encode()
