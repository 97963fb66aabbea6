"""Reading text in photos with the Tesseract binary (``tesseract``), off the event loop.

:class:`OcrEngine` finds the binary (``MONITOR_OCR_TESSERACT``, else ``tesseract`` on ``PATH``),
asks it for its version and installed languages once, and says in :attr:`OcrEngine.reason` why
OCR is off when it is (no binary, no language data). :meth:`OcrEngine.read` runs the binary in
a small thread pool (each call is one ``tesseract`` process reading stdin, writing stdout), so at
most ``workers`` photos are read at a time and the event loop never waits on one.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ENGINE", "OcrEngine", "OcrError", "installed_here", "installed_languages"]

ENGINE = "tesseract"
TIMEOUT = 120.0  # seconds one photo may take before the read is abandoned
# Page segmentation 11, "sparse text": text anywhere on a picture, in no set layout. The
# automatic mode (3) took a poster's busy background for the page and read nothing on it.
PSM = "11"


class OcrError(Exception):
    """A photo could not be read (the binary failed or timed out)."""


@dataclass
class OcrEngine:
    """The Tesseract binary found on this machine (or why there is none)."""

    binary: str | None
    version: str | None = None
    languages: frozenset[str] = frozenset()
    reason: str | None = None  # why OCR is off; None when available
    workers: int = 1
    _pool: ThreadPoolExecutor | None = field(default=None, repr=False)

    @classmethod
    def discover(cls, binary: str | None = None, *, workers: int = 1) -> OcrEngine:
        """Find the binary (``binary`` as configured, else ``tesseract`` on ``PATH``) and read
        its version and languages. Never raises: an engine that cannot run says why."""
        wanted = binary or ENGINE
        found = shutil.which(wanted) if os.sep not in wanted else wanted
        if found is None or not Path(found).is_file() or not os.access(found, os.X_OK):
            where = wanted if os.sep in wanted else f"{wanted!r} on PATH"
            return cls(
                None,
                reason=f"no Tesseract binary ({where} not found; "
                "install tesseract-ocr or set MONITOR_OCR_TESSERACT)",
                workers=workers,
            )
        try:
            version = _run([found, "--version"]).splitlines()[0].strip()
            languages = installed_languages(_run([found, "--list-langs"]))
        except OcrError as exc:
            return cls(None, reason=f"Tesseract at {found} does not run: {exc}", workers=workers)
        engine = cls(found, version=version, languages=languages, workers=max(1, workers))
        if not languages - {"osd"}:
            engine.reason = "Tesseract has no language data (install tesseract-ocr-ara, -fas, -eng)"
        return engine

    @property
    def available(self) -> bool:
        return self.binary is not None and self.reason is None

    def missing(self, languages: Iterable[str]) -> list[str]:
        """Which of ``languages`` have no data installed."""
        return [code for code in languages if code not in self.languages]

    def read_text(self, image: bytes | Path, languages: Sequence[str]) -> str:
        """The text Tesseract reads in ``image`` (bytes or a file path) with ``languages``
        (blocking: call :meth:`read` from async code)."""
        if not self.available or self.binary is None:
            raise OcrError(self.reason or "OCR is off")
        if not languages:
            raise OcrError("no OCR languages given")
        if missing := self.missing(languages):
            raise OcrError(f"no Tesseract data for {', '.join(missing)}")
        data = image.read_bytes() if isinstance(image, Path) else image
        args = [self.binary, "stdin", "stdout", "-l", "+".join(languages), "--psm", PSM]
        return _run(args, data).strip()

    async def read(self, image: bytes | Path, languages: Sequence[str]) -> str:
        """:meth:`read_text` in the engine's pool: at most ``workers`` photos at a time."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="ocr")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.read_text, image, tuple(languages))

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def installed_here() -> frozenset[str] | None:
    """The languages of the Tesseract that ``MONITOR_OCR_TESSERACT`` (else ``PATH``) names, or
    ``None`` when there is none: what channels.yaml's ``ocr:`` is checked against on loading.
    (The watchlist loader has no settings object, so it reads the variable itself.)"""
    return _installed(os.environ.get("MONITOR_OCR_TESSERACT") or None, os.environ.get("PATH"))


@functools.lru_cache(maxsize=8)
def _installed(binary: str | None, _path: str | None) -> frozenset[str] | None:
    engine = OcrEngine.discover(binary)
    return engine.languages if engine.binary is not None else None


def installed_languages(listing: str) -> frozenset[str]:
    """The language codes in ``tesseract --list-langs`` output (its first line is a header)."""
    return frozenset(
        line.strip() for line in listing.splitlines()[1:] if line.strip() and " " not in line
    )


def _run(args: list[str], data: bytes | None = None) -> str:
    # OMP_THREAD_LIMIT=1: Tesseract's own threads would fight the pool for the cores.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
            args, input=data, capture_output=True, timeout=TIMEOUT, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise OcrError(f"{Path(args[0]).name}: {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise OcrError(f"{Path(args[0]).name} exited {done.returncode}: {' '.join(detail[-2:])}")
    return done.stdout.decode("utf-8", "replace")
