"""Collector state, channels with snapshots, and cached peers, on both backends."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import (
    advance_cursor,
    get_channel,
    get_peer,
    get_state,
    list_states,
    park,
    record_error,
    record_success,
    save_peer,
    upsert_channel,
)
from storage.models import channel_snapshot
from tests.factories import BASE_TIME, CHANNEL_ID, make_channel

ACCOUNT = "main"


async def test_cursor_never_moves_backwards(conn: AsyncConnection):
    await advance_cursor(ACCOUNT, CHANNEL_ID, 120, conn=conn, polled_at=BASE_TIME)
    later = BASE_TIME + timedelta(minutes=5)
    state = await advance_cursor(ACCOUNT, CHANNEL_ID, 80, conn=conn, polled_at=later)
    assert state.last_message_id == 120
    assert state.last_poll_at == later
    state = await advance_cursor(ACCOUNT, CHANNEL_ID, 150, conn=conn, polled_at=later)
    assert (await get_state(ACCOUNT, CHANNEL_ID, conn=conn)).last_message_id == 150
    assert await get_state("other-account", CHANNEL_ID, conn=conn) is None


async def test_errors_count_up_and_success_resets(conn: AsyncConnection):
    await record_error(ACCOUNT, CHANNEL_ID, "CHANNEL_INVALID", conn=conn, at=BASE_TIME)
    state = await record_error(ACCOUNT, CHANNEL_ID, "timeout", conn=conn, at=BASE_TIME)
    assert (state.consecutive_errors, state.last_error) == (2, "timeout")
    until = BASE_TIME + timedelta(seconds=300)
    state = await park(ACCOUNT, CHANNEL_ID, until, conn=conn, at=BASE_TIME)
    assert state.flood_wait_until == until and state.next_poll_at == until
    assert state.consecutive_errors == 2
    state = await record_success(ACCOUNT, CHANNEL_ID, conn=conn, at=until)
    assert (state.consecutive_errors, state.last_error, state.flood_wait_until) == (0, None, None)
    assert [s.channel_id for s in await list_states(conn=conn)] == [CHANNEL_ID]


async def test_channel_snapshot_only_when_something_changed(conn: AsyncConnection):
    assert await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    assert not await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    renamed = make_channel(title="Renamed", subscribers=1600)
    assert await upsert_channel(renamed, conn=conn, seen_at=BASE_TIME + timedelta(days=1))
    rows = (
        await conn.execute(select(channel_snapshot).order_by(channel_snapshot.c.captured_at))
    ).mappings()
    assert [(r["title"], r["subscribers"]) for r in rows] == [
        ("Some Channel", 1500),
        ("Renamed", 1600),
    ]
    assert await get_channel(CHANNEL_ID, conn=conn) == renamed


async def test_peer_cache_per_account(conn: AsyncConnection):
    big_hash = -(2**63) + 5  # access hashes are signed 64-bit
    await save_peer(ACCOUNT, "some_channel", CHANNEL_ID, big_hash, conn=conn, resolved_at=BASE_TIME)
    assert await get_peer(ACCOUNT, "some_channel", conn=conn) == (CHANNEL_ID, big_hash)
    assert await get_peer("second", "some_channel", conn=conn) is None
    # the channel was renamed: the new handle replaces the old one for this account
    await save_peer(ACCOUNT, "new_name", CHANNEL_ID, 77, conn=conn, resolved_at=BASE_TIME)
    assert await get_peer(ACCOUNT, "new_name", conn=conn) == (CHANNEL_ID, 77)
    assert await get_peer(ACCOUNT, "some_channel", conn=conn) is None
