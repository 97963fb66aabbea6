"""The seed scenario collected once per session and backend, copied for every test that uses it.

Collecting the seed scenario from the simulated Telegram (`monitor demo`) takes seconds; dozens
of tests read or change the archive it leaves. :class:`SeedTemplates` runs the demo once per
backend into a template, and :meth:`SeedTemplates.copy` gives each test its own copy: the data
directory (SQLite file, photos, alert files) copied file by file, and on PostgreSQL a database
cloned from the template's (``CREATE DATABASE ... TEMPLATE``). A test's writes land in its copy
only (tests/flagging/test_seed_copies_are_isolated.py checks it).

Reading the photos' text (OCR, Tesseract) doubles the demo's CPU time, and few tests look at it:
templates are collected without it (the watchlist minus its ``ocr:`` lines) unless a test asks
for ``ocr=True``.

Dropping a PostgreSQL database forces a checkpoint (about a second): copies are dropped by one
background thread while the next tests run, and :meth:`SeedTemplates.close` waits for it.
"""

from __future__ import annotations

import asyncio
import queue
import shutil
import threading
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from typer.testing import CliRunner

from monitor.cli import app
from storage import create_engine

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = "seed"  # the PostgreSQL schema (search path) the seed's tables live in

T = TypeVar("T")


def off_loop(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` on a thread of its own: callable whether or not an event loop runs here
    (pytest-asyncio's or Playwright's)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(work, *args).result()


def run_async(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return off_loop(lambda: asyncio.run(coroutine()))


def _admin(base: str, *statements: str) -> None:
    """Run ``statements`` outside a transaction (CREATE/DROP DATABASE cannot run inside one)."""

    async def main() -> None:
        engine = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    run_async(main)


@dataclass(frozen=True)
class Template:
    data: Path  # the template's data directory
    database: str | None  # PostgreSQL: the template database's name
    channels: Path  # the watchlist it was collected with


class SeedTemplates:
    """One collected seed archive per backend, made on first use; copies of it per test."""

    def __init__(self, root: Path, postgres_base: str | None) -> None:
        self._root = root
        self._base = postgres_base
        self._templates: dict[tuple[str, bool], Template] = {}
        self._drops: queue.Queue[str | None] = queue.Queue()
        self._dropper: threading.Thread | None = None
        self._drop_errors: list[str] = []

    # ── templates ──

    def _url(self, data: Path, database: str | None) -> str:
        if database is None:
            return f"sqlite+aiosqlite:///{(data / 'monitor.db').as_posix()}"
        assert self._base is not None
        return (
            make_url(self._base)
            .set(database=database)
            .update_query_dict({"schema": SCHEMA})
            .render_as_string(hide_password=False)
        )

    def _channels(self, ocr: bool) -> Path:
        """The repo's channels.yaml, or a copy without its ``ocr:`` lines."""
        if ocr:
            return ROOT / "channels.yaml"
        path = self._root / "channels-without-ocr.yaml"
        if not path.exists():
            lines = (ROOT / "channels.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
            kept = [line for line in lines if not line.lstrip().startswith("ocr:")]
            assert len(kept) < len(lines), "channels.yaml has no ocr: line any more"
            path.write_text("".join(kept), encoding="utf-8")
        return path

    def _template(self, backend: str, ocr: bool) -> Template:
        if (backend, ocr) not in self._templates:
            name = f"template-{backend}" + ("-ocr" if ocr else "")
            data = self._root / name / "data"
            database = None
            if backend == "postgresql":
                assert self._base is not None
                database = f"test_seed_{uuid.uuid4().hex[:12]}"
                _admin(self._base, f'CREATE DATABASE "{database}"')
            channels = self._channels(ocr)
            env = self.env(data, self._url(data, database), channels)
            result = off_loop(lambda: CliRunner().invoke(app, ["demo"], env=env))
            assert result.exit_code == 0, result.output
            self._templates[backend, ocr] = Template(data, database, channels)
        return self._templates[backend, ocr]

    @staticmethod
    def env(data: Path, url: str, channels: Path = ROOT / "channels.yaml") -> dict[str, str]:
        return {
            "MONITOR_DATA_DIR": str(data),
            "MONITOR_DATABASE_URL": url,
            "MONITOR_CHANNELS_FILE": str(channels),
        }

    # ── copies ──

    def copy(
        self, backend: str, data: Path, *, ocr: bool = False
    ) -> tuple[dict[str, str], Callable[[], None]]:
        """A copy of the seed archive in ``data`` (which must not exist yet): its environment,
        and a function that removes the copy. ``ocr``: collected with the photos' text read (the
        repo's channels.yaml as it is); otherwise without (its ``ocr:`` lines left out, and the
        environment names that watchlist)."""
        template = self._template(backend, ocr)
        shutil.copytree(template.data, data)
        if template.database is None:
            return self.env(data, self._url(data, None), template.channels), lambda: None
        assert self._base is not None
        database = f"test_seed_{uuid.uuid4().hex[:12]}"
        _admin(self._base, f'CREATE DATABASE "{database}" TEMPLATE "{template.database}"')
        return (
            self.env(data, self._url(data, database), template.channels),
            lambda: self._drop_later(database),
        )

    def _drop_later(self, database: str) -> None:
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_loop, name="drop-seed-copies")
            self._dropper.start()
        self._drops.put(database)

    def _drop_loop(self) -> None:
        while (database := self._drops.get()) is not None:
            try:
                _admin(self._base or "", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            except Exception as exc:  # noqa: BLE001 - reported by close()
                self._drop_errors.append(f"{database}: {type(exc).__name__}: {exc}")

    def close(self) -> None:
        """Drop every PostgreSQL copy and template; raise if one could not be dropped."""
        if self._dropper is not None:
            self._drops.put(None)
            self._dropper.join()
        for template in self._templates.values():
            if template.database is not None and self._base is not None:
                _admin(self._base, f'DROP DATABASE IF EXISTS "{template.database}" WITH (FORCE)')
        if self._drop_errors:
            raise RuntimeError("seed copies not dropped: " + "; ".join(self._drop_errors))
