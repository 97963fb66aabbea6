"""Reading the archive from a short-lived command, without an event loop on SQLite.

The repository functions are async (``await conn.execute(...)``), for the daemon. A reading
command (``monitor flags list``, ``monitor status``) runs the very same functions, but on SQLite
it hands them :class:`SyncEngine`: an engine whose connections run each statement at once on
SQLAlchemy's synchronous engine (the standard ``sqlite3`` driver, the one aiosqlite wraps), so
nothing they await ever suspends and :func:`run_reading` drives the coroutine to its end
without an event loop. That spares a reading command the import of
``sqlalchemy.ext.asyncio`` (which loads the ORM), aiosqlite's thread and the loop itself.
There is one set of queries: only the connection under them differs (:mod:`storage.writing`
runs a SQLite write transaction the same way, on a thread of its own). PostgreSQL is read
through the usual async engine (asyncpg).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Dialect, Engine, Result, Transaction
    from sqlalchemy.ext.asyncio import AsyncEngine

T = TypeVar("T")

__all__ = ["SyncConnection", "SyncEngine", "complete", "run_reading"]


class SyncConnection:
    """What the repository functions use of ``AsyncConnection``, run synchronously."""

    def __init__(self, connection: Connection) -> None:
        self.sync_connection = connection

    @property
    def dialect(self) -> Dialect:
        return self.sync_connection.dialect

    async def execute(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Result[Any]:
        return self.sync_connection.execute(statement, parameters, **kwargs)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.exec_driver_sql(statement, parameters, **kwargs)

    async def scalar(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.scalar(statement, parameters, **kwargs)

    async def scalars(self, statement: Any, parameters: Any = None, **kwargs: Any) -> Any:
        return self.sync_connection.scalars(statement, parameters, **kwargs)

    async def run_sync(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return fn(self.sync_connection, *args, **kwargs)

    async def commit(self) -> None:
        self.sync_connection.commit()

    async def rollback(self) -> None:
        self.sync_connection.rollback()


class SyncEngine:
    """What the repository and schema functions use of ``AsyncEngine``: ``connect()``,
    ``begin()``, ``dispose()`` and ``dialect``, over a synchronous engine."""

    def __init__(self, engine: Engine) -> None:
        self.sync_engine = engine

    @property
    def dialect(self) -> Dialect:
        return self.sync_engine.dialect

    @property
    def url(self) -> Any:
        return self.sync_engine.url

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[SyncConnection]:
        with self.sync_engine.connect() as connection:
            yield SyncConnection(connection)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[SyncConnection]:
        with self.sync_engine.connect() as connection:
            transaction: Transaction = connection.begin()
            with transaction:  # commits at the end, rolls back on an error
                yield SyncConnection(connection)

    async def dispose(self) -> None:
        self.sync_engine.dispose()


def run_reading(url: str, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """``work(engine)`` on the database at ``url``; the engine is disposed of afterwards.

    On SQLite ``engine`` is a :class:`SyncEngine` and no event loop runs; on PostgreSQL it is
    the async engine of :func:`storage.engine.create_engine`, under ``asyncio.run``.
    """
    from storage.engine import create_engine, create_sync_sqlite_engine

    sync = create_sync_sqlite_engine(url)
    if sync is None:
        import asyncio

        async def on_async_engine() -> T:
            engine = create_engine(url)
            try:
                return await work(engine)
            finally:
                await engine.dispose()

        return asyncio.run(on_async_engine())
    engine = SyncEngine(sync)
    try:
        return complete(work(cast("AsyncEngine", engine)))
    finally:
        sync.dispose()


def complete(awaitable: Awaitable[T]) -> T:
    """Run a coroutine that never suspends (everything it awaits is already done) to its end."""
    coroutine = cast("Coroutine[Any, Any, T]", awaitable)
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast("T", done.value)
    coroutine.close()
    raise RuntimeError(
        "a function run on the synchronous engine waited on something other than the "
        "database; run it on the async engine instead"
    )
