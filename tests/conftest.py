"""Shared fixtures: a database URL per backend (SQLite file, PostgreSQL schema), a migrated
engine, a media store.

PostgreSQL runs when ``MONITOR_TEST_DATABASE_URL`` is set (CI always sets it); every test gets
its own freshly created schema, dropped afterwards, so parallel runs never collide. With
``MONITOR_TEST_REQUIRE_POSTGRES=1`` an unreachable server fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import NullPool

from storage.engine import create_engine, upgrade
from storage.media import MediaStore
from tests.netguard import no_network  # noqa: F401  (autouse: every test is offline)

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


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: a SQLite file, or a private PostgreSQL schema (``?schema=...``)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'monitor.db').as_posix()}"
        return
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


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a fully migrated database, disposed afterwards."""
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
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
