"""Shared fixtures: a database URL per backend (SQLite file, PostgreSQL schema), the same
database migrated (``migrated_url``, ``engine``), a media store, and the seed scenario collected
once per session (``seed_templates``).

PostgreSQL runs when ``MONITOR_TEST_DATABASE_URL`` is set (CI always sets it); every test gets
its own freshly created schema, dropped afterwards, so parallel runs never collide. With
``MONITOR_TEST_REQUIRE_POSTGRES=1`` an unreachable server fails the run instead of skipping.

Migrating takes longer than copying: the head revision is made once per session, then copied
(a SQLite file) or sent again (the statements Alembic sent PostgreSQL);
tests/storage/test_suites_migrated_database_is_alembics.py checks the result is Alembic's.
"""

from __future__ import annotations

import os

# pytest-xdist's workers start with LINES=24 and COLUMNS=80 in their environment (GNU readline
# exports them when it loads): Rich would keep that width for the CLI's console, created once
# when the CLI is first imported below, and no test could give a command its own COLUMNS.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.pop("COLUMNS", None)
    os.environ.pop("LINES", None)

import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from storage.engine import create_engine, upgrade
from storage.media import MediaStore
from tests.netguard import no_network  # noqa: F401  (autouse: every test is offline)
from tests.seed_archive import SeedTemplates, run_async

# Hypothesis' deadline and its too-slow health check are timed assertions: on a busy machine a
# pure function's example can take longer than 200 ms for reasons that are not the code's. Timing
# goals are measured by the benchmarks under bench/; property tests check properties only.
settings.register_profile(
    "suite", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("suite")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that drive the browser run last, in their order: its one Chromium per session keeps
    Playwright's event loop running on the main thread, where no asyncio test may run after."""
    browser = [item for item in items if "browser" in getattr(item, "fixturenames", ())]
    if browser:
        others = [item for item in items if "browser" not in getattr(item, "fixturenames", ())]
        items[:] = others + browser


PG_ENV = "MONITOR_TEST_DATABASE_URL"
REQUIRE_PG_ENV = "MONITOR_TEST_REQUIRE_POSTGRES"
_pg_problem: list[str] = []  # cached reachability result for the session ("" = reachable)


async def _postgres_problem(url: str) -> str:
    """Empty when the server answers, else why not (checked once per session)."""
    if not _pg_problem:
        engine = create_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            _pg_problem.append("")
        except Exception as exc:  # noqa: BLE001 - any failure means "unreachable"
            _pg_problem.append(f"{type(exc).__name__}: {exc}")
        finally:
            await engine.dispose()
    return _pg_problem[0]


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SET lock_timeout = '20s'"))
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def postgres_base() -> str:
    """The PostgreSQL server's URL; skips (or with the require flag, fails) the test without it."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(
            f"PostgreSQL leg: set {PG_ENV} (e.g. postgresql+asyncpg://postgres@127.0.0.1/test)"
        )
    problem = await _postgres_problem(base)
    if problem:
        message = f"PostgreSQL at {make_url(base).render_as_string()} unreachable: {problem}"
        if os.environ.get(REQUIRE_PG_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)
    return base


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file, or a private PostgreSQL schema (``?schema=...``)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'monitor.db').as_posix()}"
        return
    base = await postgres_base()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    await _admin(base, f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            make_url(base)
            .update_query_dict({"schema": schema})
            .render_as_string(hide_password=False)
        )
    finally:
        await _admin(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def backend(db_url: str) -> str:
    """``"sqlite"`` or ``"postgresql"``."""
    return make_url(db_url).get_backend_name()


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to the head revision once per session, for :func:`engine` to copy:
    running Alembic's revisions takes longer than copying the file."""
    path = tmp_path_factory.mktemp("migrated") / "monitor.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path.as_posix()}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    run_async(migrate)
    assert not path.with_name("monitor.db-wal").exists()  # all of it is in the file
    return path


Statements = list[tuple[str, Any]]


@pytest.fixture(scope="session")
def migrated_postgresql() -> Statements | None:
    """What Alembic sends PostgreSQL to migrate an empty schema to the head revision, recorded
    once per session, for :func:`engine` to send again: one round trip per statement instead of
    loading and running every revision. ``None`` without a server, or if a statement names the
    schema it was recorded in (then each test runs Alembic)."""
    base = os.environ.get(PG_ENV)
    if not base:
        return None

    async def record() -> Statements | None:
        if await _postgres_problem(base):
            return None
        schema = f"test_{uuid.uuid4().hex[:16]}"
        url = make_url(base).update_query_dict({"schema": schema})
        await _admin(base, f'CREATE SCHEMA "{schema}"')
        engine = create_engine(url.render_as_string(hide_password=False), poolclass=NullPool)
        sent: Statements = []

        def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            sent.append((statement, parameters))

        event.listen(engine.sync_engine, "before_cursor_execute", keep)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
            await _admin(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if any(schema in statement or schema in repr(parameters) for statement, parameters in sent):
            return None
        return sent

    return run_async(record)


def copy_private(source: Path, target: Path) -> None:
    """``source`` copied to ``target`` as the monitor creates its files: 0600 in a 0700 folder."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(0o600)


@pytest.fixture
def migrated_url(db_url: str, migrated_sqlite: Path, migrated_postgresql: Statements | None) -> str:
    """``db_url``, its database migrated to the head revision: on SQLite a copy of the session's
    migrated file, on PostgreSQL the test's schema sent what Alembic sent the session's first
    (tests/storage/test_schema.py runs Alembic itself)."""
    parsed = make_url(db_url)
    if parsed.get_backend_name() == "sqlite":
        copy_private(migrated_sqlite, Path(parsed.database or ""))
        return db_url

    async def migrate() -> None:
        engine = create_engine(db_url, poolclass=NullPool)
        try:
            if migrated_postgresql is None:
                await upgrade(engine)
                return
            async with engine.begin() as connection:
                for statement, parameters in migrated_postgresql:
                    await connection.exec_driver_sql(statement, parameters)
        finally:
            await engine.dispose()

    run_async(migrate)
    return db_url


@pytest.fixture
async def engine(migrated_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fully migrated database (``migrated_url``), disposed afterwards."""
    engine = create_engine(migrated_url)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside one transaction, committed at the end of the test."""
    async with engine.begin() as connection:
        yield connection


@pytest.fixture
def media_store(tmp_path: Path) -> MediaStore:
    return MediaStore(tmp_path / "media")


@pytest.fixture(scope="session")
def seed_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeedTemplates]:
    """The seed scenario collected once per backend in this session; ``copy`` gives a test its
    own copy (see tests/seed_archive.py)."""
    templates = SeedTemplates(tmp_path_factory.mktemp("seed-templates"), os.environ.get(PG_ENV))
    try:
        yield templates
    finally:
        templates.close()
