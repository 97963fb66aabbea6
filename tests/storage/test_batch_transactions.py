"""A batch's write transaction (``storage.writing.in_transaction``): all or nothing on both
backends; on a SQLite file it runs whole on a worker thread, so the event loop keeps serving
(a pass fetches its next page, the daemon answers its other channels) while it is written."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import upsert_channel, upsert_posts
from storage.models import post, post_version
from storage.writing import in_transaction, statement_engines
from tests.factories import BASE_TIME, make_channel, make_post


async def stored(engine: AsyncEngine) -> tuple[int, int]:
    async with engine.connect() as conn:
        posts = (await conn.execute(select(func.count()).select_from(post))).scalar_one()
        versions = (await conn.execute(select(func.count()).select_from(post_version))).scalar_one()
    return posts, versions


async def write_posts(conn: AsyncConnection, n: int) -> int:
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    records = [make_post(f"post {m}", message_id=m) for m in range(1, n + 1)]
    result = await upsert_posts(records, conn=conn, captured_at=BASE_TIME)
    return len(result.new)


async def test_a_batch_is_committed_and_written_off_the_loop_on_sqlite(
    engine: AsyncEngine, backend: str
):
    loop_thread = threading.get_ident()
    ran_on: list[int] = []
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    async def work(conn: AsyncConnection) -> int:
        ran_on.append(threading.get_ident())
        return await write_posts(conn, 500)

    beat = asyncio.create_task(ticker())
    try:
        assert await in_transaction(engine, work) == 500
    finally:
        beat.cancel()

    assert await stored(engine) == (500, 500)
    if backend == "sqlite":
        # One hop to a worker thread, during which the loop ran other tasks.
        assert ran_on != [loop_thread] and ticks > 0
    else:
        assert ran_on == [loop_thread]  # asyncpg: on the loop, as any other transaction


async def test_a_batch_that_fails_half_way_leaves_nothing(engine: AsyncEngine):
    async def work(conn: AsyncConnection) -> None:
        await write_posts(conn, 20)
        raise ValueError("the flag hook failed")

    with pytest.raises(ValueError, match="the flag hook failed"):
        await in_transaction(engine, work)
    assert await stored(engine) == (0, 0)


async def test_work_that_waits_on_anything_but_the_database_is_refused_and_rolled_back(
    engine: AsyncEngine, backend: str
):
    if backend != "sqlite":
        pytest.skip("on PostgreSQL the work runs on the loop, where it may wait on anything")

    async def work(conn: AsyncConnection) -> None:
        await write_posts(conn, 5)
        await asyncio.sleep(0)  # not the database: off the loop this cannot be awaited

    with pytest.raises(RuntimeError, match="waited on something other than the database"):
        await in_transaction(engine, work)
    assert await stored(engine) == (0, 0)


async def test_every_statement_of_a_batch_is_seen_on_the_engines_it_names(engine: AsyncEngine):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(statement.split(None, 1)[0].upper())

    engines = statement_engines(engine)
    for sync in engines:
        event.listen(sync, "before_cursor_execute", record)
    try:
        await in_transaction(engine, lambda conn: write_posts(conn, 3))
    finally:
        for sync in engines:
            event.remove(sync, "before_cursor_execute", record)
    assert seen.count("INSERT") >= 3  # channel, posts, versions (and the logs)


async def test_the_threaded_engine_is_disposed_of_with_its_engine(engine: AsyncEngine):
    threaded = statement_engines(engine)[1:]
    await in_transaction(engine, lambda conn: write_posts(conn, 1))
    pools = [t.pool for t in threaded]
    assert all(pool.checkedin() == 1 for pool in pools)  # kept open between transactions
    await engine.dispose()
    assert all(pool.checkedin() == 0 for pool in pools)  # closed with the engine
    after = statement_engines(engine)[1:]
    # On SQLite a new one is made for the next transaction.
    assert len(after) == len(threaded) and all(
        a is not t for a, t in zip(after, threaded, strict=True)
    )
    assert await in_transaction(engine, lambda conn: write_posts(conn, 2)) == 1  # one new


async def test_concurrent_batches_all_land_and_queue_for_one_writer_on_sqlite(
    engine: AsyncEngine, backend: str
):
    threads: list[int] = []

    def batch(channel_id: int):  # noqa: ANN202
        async def work(conn: AsyncConnection) -> int:
            threads.append(threading.get_ident())
            channel = make_channel(channel_id=channel_id, username=f"channel_{channel_id}")
            await upsert_channel(channel, conn=conn, seen_at=BASE_TIME)
            records = [
                make_post(f"c{channel_id} post {m}", channel_id=channel_id, message_id=m)
                for m in range(1, 51)
            ]
            return len((await upsert_posts(records, conn=conn, captured_at=BASE_TIME)).new)

        return work

    done = await asyncio.gather(*(in_transaction(engine, batch(c)) for c in (11, 12, 13, 14)))

    assert done == [50, 50, 50, 50] and await stored(engine) == (200, 200)
    if backend == "sqlite":  # SQLite has one writer at a time: one thread writes them in turn
        assert len(set(threads)) == 1 and threads[0] != threading.get_ident()
