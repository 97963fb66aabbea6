"""Leases in the database: one owner per account or channel until the lease expires; a
renewal keeps only what is still held; a takeover starts at the furthest cursor."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import channels as channel_repo
from storage import leases
from storage import state as state_repo

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
KEYS = [f"chan_{i:02d}" for i in range(10)]


async def _workers(engine: AsyncEngine, *names: str) -> None:
    async with engine.begin() as conn:
        for name in names:
            await leases.register_worker(name, host="h", pid=1, conn=conn, at=T0)
        await leases.ensure_leases(leases.CHANNEL, KEYS, conn=conn)


async def test_held_channels_are_not_taken_until_their_lease_expires(engine: AsyncEngine) -> None:
    await _workers(engine, "w1", "w2")
    async with engine.begin() as conn:
        first = await leases.acquire(
            leases.CHANNEL, KEYS, "w1", limit=6, lease=LEASE, conn=conn, at=T0
        )
        second = await leases.acquire(
            leases.CHANNEL, KEYS, "w2", limit=10, lease=LEASE, conn=conn, at=T0
        )
        assert first == KEYS[:6] and second == KEYS[6:]
        # Before expiry nothing is free; after it, w1's channels are.
        assert (
            await leases.acquire(
                leases.CHANNEL, KEYS, "w2", limit=10, lease=LEASE, conn=conn, at=T0 + LEASE / 2
            )
            == []
        )
        later = T0 + LEASE + timedelta(seconds=1)
        held = await leases.renew("w2", lease=LEASE, conn=conn, at=later)
        assert held[leases.CHANNEL] == set(KEYS[6:])
        taken = await leases.acquire(
            leases.CHANNEL, KEYS, "w2", limit=10, lease=LEASE, conn=conn, at=later
        )
        assert taken == KEYS[:6]
        # w1 comes back: its renewal no longer holds what w2 took.
        assert (await leases.renew("w1", lease=LEASE, conn=conn, at=later))[leases.CHANNEL] == set()
        holders = await leases.channel_holders(conn=conn, at=later)
    assert holders == dict.fromkeys(KEYS, "w2")


async def test_release_and_stop_free_channels_at_once(engine: AsyncEngine) -> None:
    await _workers(engine, "w1", "w2")
    async with engine.begin() as conn:
        await leases.acquire(leases.CHANNEL, KEYS, "w1", limit=10, lease=LEASE, conn=conn, at=T0)
        await leases.release(leases.CHANNEL, KEYS[:3], "w2", conn=conn, at=T0)  # not w2's
        assert (
            await leases.acquire(
                leases.CHANNEL, KEYS, "w2", limit=10, lease=LEASE, conn=conn, at=T0
            )
            == []
        )
        await leases.release(leases.CHANNEL, KEYS[:3], "w1", conn=conn, at=T0)
        assert (
            await leases.acquire(
                leases.CHANNEL, KEYS, "w2", limit=10, lease=LEASE, conn=conn, at=T0
            )
            == KEYS[:3]
        )
        await leases.stop_worker("w1", conn=conn, at=T0)
        assert (
            await leases.acquire(
                leases.CHANNEL, KEYS, "w2", limit=10, lease=LEASE, conn=conn, at=T0
            )
            == KEYS[3:]
        )
        live = await leases.live_workers(conn=conn, at=T0, lease=LEASE)
    assert live == ["w2"]


async def test_live_workers_leave_out_silent_and_parked_ones(engine: AsyncEngine) -> None:
    await _workers(engine, "w1", "w2", "w3")
    async with engine.begin() as conn:
        at = T0 + timedelta(seconds=50)
        await leases.renew("w2", lease=LEASE, conn=conn, at=at)
        await leases.renew("w3", lease=LEASE, conn=conn, at=at, parked_until=at + LEASE)
        live = await leases.live_workers(conn=conn, at=T0 + timedelta(seconds=70), lease=LEASE)
        workers = {w.name: w for w in await leases.list_workers(conn=conn)}
    assert live == ["w2"]  # w1 silent for 70 s, w3 in a flood wait
    assert workers["w3"].parked_until == at + LEASE


async def test_takeover_seeds_the_cursor_from_the_furthest_account(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await channel_repo.save_peer("acct_a", "chan_00", 777, 1, conn=conn, resolved_at=T0)
        await state_repo.advance_cursor("acct_a", 777, 120, conn=conn, polled_at=T0)
        await state_repo.advance_cursor("acct_c", 777, 40, conn=conn, polled_at=T0)
        assert await leases.seed_cursor("acct_b", "chan_00", conn=conn, at=T0) == 777
        assert await leases.seed_cursor("acct_c", "chan_00", conn=conn, at=T0) == 777
        b = await state_repo.get_state("acct_b", 777, conn=conn)
        c = await state_repo.get_state("acct_c", 777, conn=conn)
        # Never backwards: acct_a, furthest already, keeps its cursor.
        await state_repo.advance_cursor("acct_a", 777, 130, conn=conn, polled_at=T0)
        assert await leases.seed_cursor("acct_a", "chan_00", conn=conn, at=T0) == 777
        a = await state_repo.get_state("acct_a", 777, conn=conn)
        # A channel nobody read yet: nothing to seed.
        assert await leases.seed_cursor("acct_b", "chan_01", conn=conn, at=T0) is None
    assert b is not None and b.last_message_id == 120 and b.last_poll_at == T0
    assert c is not None and c.last_message_id == 120
    assert a is not None and a.last_message_id == 130


async def test_two_workers_taking_at_once_never_get_the_same_channel(
    engine: AsyncEngine, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: concurrency is PostgreSQL's case")
    await _workers(engine, "w1", "w2")

    async def take(owner: str) -> list[str]:
        async with engine.begin() as conn:
            got = await leases.acquire(
                leases.CHANNEL, KEYS, owner, limit=5, lease=LEASE, conn=conn, at=T0
            )
            await asyncio.sleep(0.3)  # both transactions open at once
            return got

    first, second = await asyncio.gather(take("w1"), take("w2"))
    assert not set(first) & set(second)
    assert sorted(first + second) == KEYS
    assert first and second  # SKIP LOCKED: the second did not wait for the first
