"""A pass fetches the next batch while it stores this one: same batches, same errors, no hang."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from monitor.pipeline import prefetched


async def test_batches_in_order_then_the_fetch_error_after_them():
    async def batches() -> AsyncIterator[int]:
        yield 1
        yield 2
        raise ConnectionError("gone")

    got: list[int] = []
    with pytest.raises(ConnectionError, match="gone"):
        async with contextlib.aclosing(prefetched(batches())) as ahead:
            async for batch in ahead:
                got.append(batch)
    assert got == [1, 2]


async def test_fetches_at_most_one_batch_ahead_and_stops_when_closed():
    fetched: list[int] = []
    closed = asyncio.Event()

    async def batches() -> AsyncIterator[int]:
        try:
            for n in range(100):
                fetched.append(n)
                yield n
        finally:
            closed.set()

    async with contextlib.aclosing(prefetched(batches())) as ahead:
        async for batch in ahead:
            await asyncio.sleep(0.01)  # storing: the next batch is fetched meanwhile
            assert len(fetched) <= batch + 3  # this one, one queued, one being handed over
            if batch == 2:
                break
    assert closed.is_set() and len(fetched) < 10


async def test_a_fetcher_cancelled_from_outside_ends_the_pass_instead_of_hanging():
    async def batches() -> AsyncIterator[int]:
        yield 1
        for task in asyncio.all_tasks():
            if task.get_coro().__qualname__.startswith("prefetched"):  # type: ignore[union-attr]
                task.cancel()
        await asyncio.sleep(60)
        yield 2

    got: list[int] = []
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(10), contextlib.aclosing(prefetched(batches())) as ahead:
            async for batch in ahead:
                got.append(batch)
    assert got == [1]
