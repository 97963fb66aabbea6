"""An idle poll (nothing new on the channel) costs one GetHistory and no database work."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import get_state
from storage.writing import statement_engines
from tests.telegram_fixtures import START, fill, spec


@contextlib.contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement ``engine`` sends while the block runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        seen.append(statement.split(None, 1)[0].upper())

    engines = statement_engines(engine)  # a batch is written on SQLite by a threaded engine
    for sync in engines:
        event.listen(sync, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for sync in engines:
            event.remove(sync, "before_cursor_execute", record)


class Clock:
    def __init__(self) -> None:
        self.now = START + timedelta(days=30)

    def __call__(self):  # noqa: ANN204
        return self.now


async def test_an_idle_poll_sends_no_statement_and_its_time_is_written_in_a_batch(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("idle_chan", "Idle")
    fill(telegram, channel.id, 5)
    client = await connect()
    clock = Clock()
    pipeline = make_pipeline(now=clock)
    first = await pipeline.collect(client, spec("idle_chan"))
    assert first.new == 5

    telegram.requests.reset()
    for _ in range(3):
        clock.now += timedelta(seconds=10)
        with statements(engine) as sent:
            idle = await pipeline.collect(client, spec("idle_chan"))
        assert idle.ok and idle.new == 0
        assert sent == []  # no read, no write: peer and state are known, nothing changed
    assert telegram.requests.count() == 3  # still one GetHistory per poll

    with statements(engine) as sent:
        assert await pipeline.flush() == 1
        assert await pipeline.flush() == 0  # nothing noted since
    assert [s for s in sent if s in ("INSERT", "UPDATE", "DELETE")] == ["UPDATE"]
    async with engine.connect() as conn:
        state = await get_state("default", channel.id, conn=conn)
    assert state.last_poll_at == clock.now and state.last_message_id == first_last(telegram)

    # Something new: stored and the cursor advanced, in the batch's transaction.
    telegram.post(channel.id, "fresh news", date=START + timedelta(days=1))
    clock.now += timedelta(seconds=10)
    with statements(engine) as sent:
        fresh = await pipeline.collect(client, spec("idle_chan"))
    assert fresh.new == 1 and "INSERT" in sent
    with statements(engine) as sent:
        await pipeline.collect(client, spec("idle_chan"))
    assert sent == []  # and idle again: the advanced cursor is known without a read


def first_last(telegram) -> int:  # noqa: ANN001
    (channel,) = telegram.channels.values()
    return max(channel.messages)


async def test_an_idle_poll_after_errors_clears_them_once(telegram, connect, make_pipeline, engine):
    channel = telegram.add_channel("flaky_chan", "Flaky")
    fill(telegram, channel.id, 2)
    client = await connect()
    pipeline = make_pipeline()
    await pipeline.collect(client, spec("flaky_chan"))
    telegram.faults.fail("GetHistoryRequest", "CHANNEL_PRIVATE", times=1)
    failed = await pipeline.collect(client, spec("flaky_chan"))
    assert failed.error is not None

    with statements(engine) as sent:
        await pipeline.collect(client, spec("flaky_chan"))
    assert "INSERT" in sent or "UPDATE" in sent  # the error streak is reset in storage
    async with engine.connect() as conn:
        state = await get_state("default", channel.id, conn=conn)
    assert state.consecutive_errors == 0 and state.last_error is None
    with statements(engine) as sent:
        await pipeline.collect(client, spec("flaky_chan"))
    assert sent == []
