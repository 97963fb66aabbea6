"""A write transaction on SQLite in one hop to a worker thread, not one hop per statement.

aiosqlite runs each statement on its connection's thread and hands the result back to the event
loop: storing a batch of 100 posts (posts, versions, capture log, search index, flags, alert
outbox, cursor) is about 40 such round trips, each a thread wake-up and a loop wake-up. In a
first pass of 5,000 posts that was about a sixth of the main thread's CPU. :func:`in_transaction`
runs the same async repository functions, in one transaction, on a worker thread against
SQLAlchemy's synchronous engine over the standard ``sqlite3`` driver (the one aiosqlite wraps),
with :class:`storage.reading.SyncConnection` under them: nothing they await suspends, and the
loop waits on a single future. The loop is free meanwhile (a pass fetches its next page), and
SQLite's own work runs outside the GIL as before. PostgreSQL runs the work as it always did, in
``engine.begin()`` on the loop (asyncpg).

The synchronous engine is made once per async engine, on the same file with the same
connection settings (WAL, foreign keys, busy timeout), with one thread of its own, and both are
disposed of with the async engine. One thread is enough, as SQLite has one writer at a time:
concurrent batches (the daemon's channels) queue for it instead of for the file's lock, and no
more threads (each with its own malloc arena) grow the process. Work run this way must only use
the connection (and pure code): it runs off the loop's thread, with the caller's context
variables (log bindings).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import event

from storage.engine import create_sync_sqlite_engine, sqlite_file
from storage.reading import SyncEngine, complete

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

T = TypeVar("T")

__all__ = ["in_transaction", "statement_engines"]


@dataclass(frozen=True)
class _Threaded:
    engine: Engine
    thread: ThreadPoolExecutor


_threaded: weakref.WeakKeyDictionary[Any, _Threaded] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


async def in_transaction(engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """``await work(conn)`` in one transaction of ``engine`` (committed when it returns, rolled
    back if it raises); on a SQLite file, in a worker thread (see the module's docstring)."""
    threaded = _threaded_engine(engine)
    if threaded is None:
        async with engine.begin() as conn:
            return await work(conn)
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(
        threaded.thread, context.run, _run, SyncEngine(threaded.engine), work
    )


def statement_engines(engine: AsyncEngine) -> list[Engine]:
    """The synchronous engines that send ``engine``'s statements: its own ``sync_engine`` and,
    on a SQLite file, the one :func:`in_transaction` uses (made now if it was not). Listen on
    each to see every statement (``event.listen(e, "before_cursor_execute", ...)``)."""
    threaded = _threaded_engine(engine)
    return [engine.sync_engine] + ([threaded.engine] if threaded is not None else [])


def _run(engine: SyncEngine, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    async def transaction() -> T:
        async with engine.begin() as conn:
            return await work(cast("AsyncConnection", conn))

    return complete(transaction())


def _threaded_engine(engine: AsyncEngine) -> _Threaded | None:
    """The synchronous engine for ``engine``'s SQLite file; ``None`` for PostgreSQL or an
    in-memory database (another connection to ``:memory:`` is another database)."""
    url = engine.url
    if sqlite_file(url) is None:
        return None
    owner = engine.sync_engine
    with _lock:
        threaded = _threaded.get(owner)
        if threaded is None:
            sync = create_sync_sqlite_engine(url.render_as_string(hide_password=False))
            assert sync is not None
            thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
            threaded = _threaded[owner] = _Threaded(sync, thread)
            if not event.contains(owner, "engine_disposed", _dispose_threaded):
                event.listen(owner, "engine_disposed", _dispose_threaded)
    return threaded


def _dispose_threaded(owner: Engine) -> None:
    """The async engine was disposed of: so is its threaded engine (made again if used)."""
    with _lock:
        threaded = _threaded.pop(owner, None)
    if threaded is not None:
        threaded.thread.shutdown(wait=False)  # ends after the transaction it may be running
        threaded.engine.dispose()
