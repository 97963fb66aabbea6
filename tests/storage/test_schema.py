"""Alembic owns the schema: migrations match the models, and stale schemas are refused."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from storage import (
    SchemaOutOfDateError,
    check_schema,
    create_engine,
    current_revision,
    head_revision,
    metadata,
    stamp,
    upgrade,
)
from storage.engine import alembic_config
from storage.search_index import include_name


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on a database Alembic itself has just migrated (the suite's ``engine`` copies or
    replays a migration made once per session: here the migrations themselves are checked)."""
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
async def bare_engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an empty, unmigrated database."""
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


async def test_migrations_match_the_models(engine: AsyncEngine):
    def diff(sync_conn):
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(sync_conn, opts=opts)
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_compare_notices_a_drift(engine: AsyncEngine):
    """The check above can fail: drop an index and it reports it."""
    async with engine.begin() as conn:
        await conn.execute(text("DROP INDEX ix_flag_entity_id"))

    def diff(sync_conn):
        context = MigrationContext.configure(sync_conn, opts={"include_name": include_name})
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert [(c[0], c[1].name) for c in changes] == [("add_index", "ix_flag_entity_id")]


async def test_empty_database_is_refused_until_upgraded(bare_engine: AsyncEngine):
    assert await current_revision(bare_engine) is None
    with pytest.raises(SchemaOutOfDateError) as caught:
        await check_schema(bare_engine)
    assert str(caught.value) == (
        f"database schema is at revision none, this version needs {head_revision()}"
    )
    assert caught.value.hint == "run `monitor db upgrade`"
    await upgrade(bare_engine)
    await upgrade(bare_engine)  # idempotent
    assert await current_revision(bare_engine) == head_revision()
    await check_schema(bare_engine)


async def test_newer_unknown_revision_is_refused(engine: AsyncEngine):
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaOutOfDateError, match="at revision 9999, which is newer"):
        await check_schema(engine)


async def test_stamped_base_is_out_of_date(engine: AsyncEngine):
    await stamp(engine, "base")
    with pytest.raises(SchemaOutOfDateError, match="revision none") as caught:
        await check_schema(engine)
    assert "monitor db upgrade" in caught.value.hint


def test_head_revision_is_alembics_head():
    """``check_schema`` compares with a constant so that it need not import Alembic."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head_revision() == head, (
        f"storage/migrations' head is {head}: set storage.engine.HEAD_REVISION = {head!r}"
    )


async def test_current_revision_reads_what_alembic_reads(bare_engine: AsyncEngine):
    """Read without Alembic, the revision is Alembic's own answer at every stage."""

    def alembics(sync_conn):
        return MigrationContext.configure(sync_conn).get_current_revision()

    async def both() -> tuple[str | None, str | None]:
        async with bare_engine.connect() as conn:
            return await current_revision(bare_engine), await conn.run_sync(alembics)

    seen = [await both()]  # no version table
    await upgrade(bare_engine)
    seen.append(await both())
    await stamp(bare_engine, "base")  # an empty version table
    seen.append(await both())
    await stamp(bare_engine, "head")
    async with bare_engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    seen.append(await both())
    assert seen == [(None, None), (head_revision(),) * 2, (None, None), ("9999", "9999")]


# ``?schema=NAME`` on PostgreSQL.


async def test_upgrade_creates_the_schema_named_in_the_url(db_url: str, backend: str):
    if backend != "postgresql":
        pytest.skip("?schema= is a PostgreSQL setting")
    schema = f"review_{uuid.uuid4().hex[:12]}"  # not created beforehand
    url = make_url(db_url).update_query_dict({"schema": schema}).render_as_string(False)
    engine = create_engine(url, poolclass=NullPool)
    try:
        await upgrade(engine)
        await check_schema(engine)
        async with engine.connect() as conn:
            where = await conn.execute(
                text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'post'")
            )
            assert schema in set(where.scalars())
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
