"""The suite's migrated database (``migrated_url``: a copied SQLite file, or on PostgreSQL the
statements Alembic sent once, sent again) is the database Alembic itself makes: same tables,
columns, indexes, constraints, triggers, functions, rows and revision."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage import create_engine, upgrade

SQLITE_CATALOG = [
    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
    """SELECT m.name, p.cid, p.name, p.type, p."notnull", p.dflt_value, p.pk
       FROM sqlite_master m JOIN pragma_table_info(m.name) p
       WHERE m.type = 'table' ORDER BY m.name, p.cid""",
]
POSTGRES_CATALOG = [
    """SELECT table_name, column_name, data_type, is_nullable, column_default
       FROM information_schema.columns WHERE table_schema = current_schema()
       ORDER BY table_name, column_name""",
    """SELECT tablename, indexname, indexdef FROM pg_indexes
       WHERE schemaname = current_schema() ORDER BY indexname""",
    """SELECT c.conname, t.relname, pg_get_constraintdef(c.oid) FROM pg_constraint c
       JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
       WHERE n.nspname = current_schema() ORDER BY c.conname""",
    """SELECT trigger_name, event_manipulation, event_object_table, action_statement
       FROM information_schema.triggers WHERE trigger_schema = current_schema()
       ORDER BY trigger_name, event_manipulation""",
    """SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
       WHERE n.nspname = current_schema() ORDER BY p.proname""",
]


def unordered(value: Any) -> Any:
    """A SQLite ``CREATE TABLE`` as its sorted lines: Alembic's batch mode, which rebuilds a table
    to alter it, writes the table's constraints in an order that changes from run to run (column
    order is compared through ``pragma_table_info``)."""
    if isinstance(value, str) and value.startswith("CREATE TABLE"):
        return tuple(sorted(line.strip().rstrip(",") for line in value.splitlines()))
    return value


async def describe(url: str) -> dict[str, Any]:
    """The catalog of the database at ``url`` (its own schema name blanked out), each table's
    row count, and the recorded revision."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            schema = (
                (await conn.execute(text("SELECT current_schema()"))).scalar() if postgres else ""
            )
            found: dict[str, Any] = {}
            for query in POSTGRES_CATALOG if postgres else SQLITE_CATALOG:
                rows = await conn.execute(text(query))
                found[query] = [
                    tuple(
                        str(v).replace(f"{schema}.", "SCHEMA.") if schema else unordered(v)
                        for v in row
                    )
                    for row in rows
                ]
            tables = await conn.run_sync(
                lambda sync: sync.dialect.get_table_names(sync, schema=None)
            )
            for table in tables:
                count = await conn.execute(text(f'SELECT count(*) FROM "{table}"'))
                found[f"rows of {table}"] = count.scalar_one()
            revision = await conn.execute(text("SELECT version_num FROM alembic_version"))
            found["revision"] = list(revision.scalars())
            return found
    finally:
        await engine.dispose()


async def test_the_suites_migrated_database_is_what_alembic_makes(
    migrated_url: str, backend: str, tmp_path: Path
):
    if backend == "sqlite":
        fresh = f"sqlite+aiosqlite:///{(tmp_path / 'alembic' / 'monitor.db').as_posix()}"
    else:
        schema = f"test_{uuid.uuid4().hex[:16]}"  # upgrade creates it
        fresh = make_url(migrated_url).update_query_dict({"schema": schema}).render_as_string(False)
    engine = create_engine(fresh, poolclass=NullPool)
    try:
        await upgrade(engine)
        expected = await describe(fresh)
        assert expected["revision"] and len(expected) > 10  # a real schema was read
        assert await describe(migrated_url) == expected
    finally:
        if backend == "postgresql":
            async with engine.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
