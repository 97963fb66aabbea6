"""Engines and schema management: create an AsyncEngine, run Alembic, refuse a stale schema.

Checking the schema does not import Alembic (a third of a second at start-up): the database's
revision is read from Alembic's version table with plain SQL and compared with
:data:`HEAD_REVISION`. Alembic loads only to migrate, stamp, or explain a mismatch.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url

from storage.errors import SchemaOutOfDateError, StorageError
from storage.files import private_file

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = [
    "check_schema",
    "prepare_schema",
    "sqlite_file",
    "create_engine",
    "create_sync_sqlite_engine",
    "current_revision",
    "dialect_insert",
    "alembic_config",
    "head_revision",
    "HEAD_REVISION",
    "stamp",
    "upgrade",
]

_MIGRATIONS = Path(__file__).parent / "migrations"
# The newest revision in storage/migrations/versions. Add a migration, update this: a test
# (tests/storage/test_schema.py) compares it with what Alembic finds there.
HEAD_REVISION = "0015"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
SQLITE_BUSY_TIMEOUT_MS = 10_000


def create_engine(url: str, **engine_kwargs: Any) -> AsyncEngine:
    """An async engine for ``url`` (SQLite via aiosqlite, PostgreSQL via asyncpg).

    Plain ``sqlite:///`` and ``postgresql://`` URLs get the async driver. For SQLite the file (mode 0600) and
    its parent directory (0700) are created and every connection runs in WAL mode with foreign keys on. A PostgreSQL
    URL may end in ``?schema=NAME`` to keep every table in that schema (via ``search_path``).
    Extra keyword arguments go to :func:`sqlalchemy.ext.asyncio.create_async_engine`.
    """
    create_async_engine = _async_engine_module().create_async_engine
    parsed, backend = _parse(url)
    if parsed.drivername == backend:
        parsed = parsed.set(drivername=_ASYNC_DRIVERS[backend])
    if backend == "sqlite":
        _create_sqlite_file(parsed)
        engine = create_async_engine(parsed, **engine_kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    schema = parsed.query.get("schema")
    if schema:  # our own URL parameter: put every table in this PostgreSQL schema
        parsed = parsed.difference_update_query(["schema"])
        connect_args = dict(engine_kwargs.pop("connect_args", {}))
        settings = dict(connect_args.get("server_settings", {}))
        settings["search_path"] = str(schema)
        connect_args["server_settings"] = settings
        engine_kwargs["connect_args"] = connect_args
    return create_async_engine(parsed, **engine_kwargs)


def _async_engine_module() -> ModuleType:
    """``sqlalchemy.ext.asyncio.engine``, loaded without running its package's ``__init__``.

    That ``__init__`` also imports ``AsyncSession`` and with it the whole ORM, which no part of
    this project uses: about 100 ms and 8 MB resident in every process that opens a database.
    While the engine module loads, its package is a bare module (a search path and nothing
    else) and is then taken out of :data:`sys.modules` again, so a later
    ``import sqlalchemy.ext.asyncio`` runs the real ``__init__``, which reuses the modules
    loaded here (one ``AsyncConnection`` class either way).
    """
    loaded = sys.modules.get("sqlalchemy.ext.asyncio.engine")
    if loaded is not None:
        return loaded
    name = "sqlalchemy.ext.asyncio"
    if name in sys.modules:  # already imported the usual way
        return importlib.import_module(f"{name}.engine")
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:  # a layout we do not know
        return importlib.import_module(f"{name}.engine")
    bare = importlib.util.module_from_spec(spec)  # attributes set, __init__ not run
    sys.modules[name] = bare
    try:
        return importlib.import_module(f"{name}.engine")
    finally:
        if sys.modules.get(name) is bare:
            del sys.modules[name]


def create_sync_sqlite_engine(url: str) -> Engine | None:
    """For a SQLite ``url``: a synchronous engine on the same file, through the standard
    ``sqlite3`` driver (the one aiosqlite runs in its thread), with the same file mode and
    connection settings as :func:`create_engine`. ``None`` for any other database.

    For commands that only read (see :mod:`storage.reading`): no event loop, no
    ``sqlalchemy.ext.asyncio``.
    """
    from sqlalchemy import create_engine as create_sync_engine

    parsed, backend = _parse(url)
    if backend != "sqlite":
        return None
    _create_sqlite_file(parsed)
    engine = create_sync_engine(parsed.set(drivername="sqlite+pysqlite"))
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _parse(url: str) -> tuple[URL, str]:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise StorageError(
            f"unsupported database URL scheme {parsed.drivername!r}",
            hint="use sqlite+aiosqlite:///path/monitor.db or postgresql+asyncpg://user@host/db",
        )
    return parsed, backend


def sqlite_file(url: URL) -> Path | None:
    """The file of a SQLite ``url``; ``None`` for another database, an in-memory one or a
    ``file:`` URI (left to SQLite)."""
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if database.startswith("file:") else Path(database)


def _create_sqlite_file(parsed: URL) -> None:
    path = sqlite_file(parsed)
    if path is not None:
        # Created here, 0600 in a 0700 folder: SQLite gives -wal and -shm the same mode.
        private_file(path)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def dialect_insert(conn: AsyncConnection | Connection) -> Any:
    """The dialect's ``insert`` (with ``on_conflict_do_*``) for the connection's backend."""
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert
    raise StorageError(f"no upsert support for database backend {name!r}")


def alembic_config() -> Config:
    """An Alembic config pointing at the packaged migrations (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def head_revision() -> str:
    """The revision this version of the code needs."""
    return HEAD_REVISION


def known_revisions() -> set[str]:
    """Every revision in storage/migrations (imports Alembic)."""
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (default: the latest).

    On PostgreSQL the ``?schema=NAME`` of the URL is created first when it does not exist yet.
    """

    from alembic import command

    def run(sync_conn: Connection) -> None:
        _create_search_path_schema(sync_conn)
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.upgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


def _create_search_path_schema(sync_conn: Connection) -> None:
    if sync_conn.dialect.name != "postgresql":
        return
    if sync_conn.execute(text("SELECT current_schema()")).scalar() is not None:
        return  # the first schema on the search path exists
    path = str(sync_conn.execute(text("SHOW search_path")).scalar() or "")
    first = path.split(",")[0].strip().strip('"')
    if first and first != "$user":
        quoted = sync_conn.dialect.identifier_preparer.quote_identifier(first)
        sync_conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {quoted}"))


async def stamp(engine: AsyncEngine, revision: str) -> None:
    """Record ``revision`` as applied without running anything (tests, repairs)."""
    from alembic import command

    def run(sync_conn: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.stamp(config, revision, purge=True)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or ``None`` for an empty database.

    What Alembic's ``MigrationContext.get_current_revision()`` answers, without importing Alembic.
    """

    def run(sync_conn: Connection) -> str | None:
        if not inspect(sync_conn).has_table(VERSION_TABLE):
            return None
        rows = sync_conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(rows) > 1:
            raise StorageError(
                f"the database records {len(rows)} schema revisions ({', '.join(rows)})",
                hint="the migrations are linear; repair the alembic_version table",
            )
        return rows[0] if rows else None

    async with engine.connect() as conn:
        return await conn.run_sync(run)


async def prepare_schema(engine: AsyncEngine) -> bool:
    """Check the schema, creating it first in a brand-new SQLite database; True when created.

    A SQLite file without a single table (just created, or empty) is a fresh archive: it is
    migrated to head, as the demo does. Anything else, and every PostgreSQL database, must
    already be at head (:func:`check_schema`): migrating a shared server or an archive that
    holds data stays an explicit `monitor db upgrade`.
    """
    if engine.dialect.name == "sqlite" and not await _has_tables(engine):
        await upgrade(engine)
        return True
    await check_schema(engine)
    return False


async def _has_tables(engine: AsyncEngine) -> bool:
    async with engine.connect() as conn:
        return bool(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def check_schema(engine: AsyncEngine) -> None:
    """Raise :class:`SchemaOutOfDateError` unless the database is at this code's head revision."""
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return
    if current is not None and current not in known_revisions():
        raise SchemaOutOfDateError(
            f"database schema is at revision {current}, which is newer than this version "
            f"knows (it needs {head})",
            hint="upgrade the monitor software; do not run an older version on this database",
        )
    raise SchemaOutOfDateError(
        f"database schema is at revision {current or 'none'}, this version needs {head}",
        hint="run `monitor db upgrade`",
    )
