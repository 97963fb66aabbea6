"""The join record: of two workers claiming one channel for live updates at once, one wins;
an account never claims beyond its join limit, but a channel it is already in is recorded. A
claim is provisional until confirmed by the worker that made it, while it holds the account;
channels left stay as history and free their slots."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import joins, leases

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)


async def _hold(engine: AsyncEngine, account: str, worker: str, at: datetime = T0) -> None:
    async with engine.begin() as conn:
        await leases.ensure_leases(leases.ACCOUNT, [account], conn=conn)
        got = await leases.acquire(
            leases.ACCOUNT, [account], worker, limit=1, lease=LEASE, conn=conn, at=at
        )
        assert got == [account]


async def test_two_connections_racing_for_one_channel_one_wins(
    engine: AsyncEngine, backend: str
) -> None:
    async def claim(account: str, conn) -> bool:  # noqa: ANN001
        return await joins.claim(account, 101, "chan_a", limit=2, conn=conn, at=T0)

    if backend == "postgresql":
        # a claims and has not committed yet; b's claim runs meanwhile and must wait for it.
        async with engine.connect() as a, engine.connect() as b:
            await a.begin()
            await b.begin()
            assert await claim("acct_a", a)
            racing = asyncio.create_task(claim("acct_b", b))
            await asyncio.sleep(0.3)
            assert not racing.done(), "b saw no claim and did not wait for a's"
            await a.commit()
            assert await racing is False
            await b.commit()
    else:  # SQLite has one writer: the claims come one after the other
        async with engine.begin() as a:
            assert await claim("acct_a", a)
        async with engine.begin() as b:
            assert await claim("acct_b", b) is False
    async with engine.connect() as conn:
        rows = await joins.list_joins(conn=conn)
    assert [(j.channel_id, j.handle, j.account, j.state) for j in rows] == [
        (101, "chan_a", "acct_a", "claimed")
    ]
    assert rows[0].claimed_at == T0 and rows[0].joined_at is None


async def test_an_account_claims_no_more_than_its_join_limit(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        got = [
            await joins.claim("acct_a", 200 + i, f"chan_{i}", limit=2, conn=conn, at=T0)
            for i in range(4)
        ]
        assert got == [True, True, False, False]
        # Another account takes what acct_a could not; acct_a's own claims stay its own.
        assert await joins.claim("acct_b", 202, "chan_2", limit=2, conn=conn, at=T0)
        assert await joins.claim("acct_a", 200, "chan_0", limit=2, conn=conn, at=T0)
        # A channel acct_a is already in (its dialogs) is recorded beyond the limit.
        assert await joins.record_found("acct_a", 203, "chan_3", conn=conn, at=T0)
        assert await joins.joined_count("acct_a", conn=conn) == 3
        # A failed join gives the channel back; a found channel is no claim to give back.
        await joins.unclaim("acct_a", 201, conn=conn)
        await joins.unclaim("acct_a", 203, conn=conn)
        await joins.unclaim("acct_b", 200, conn=conn)  # not acct_b's: nothing happens
        by_channel = {j.handle: (j.account, j.state) for j in await joins.list_joins(conn=conn)}
    assert by_channel == {
        "chan_0": ("acct_a", "claimed"),
        "chan_2": ("acct_b", "claimed"),
        "chan_3": ("acct_a", "joined"),
    }


async def test_a_claim_is_joined_only_when_its_worker_confirms_it_holding_the_account(
    engine: AsyncEngine,
) -> None:
    await _hold(engine, "acct_a", "w1")
    async with engine.begin() as conn:
        # A worker that does not hold the account claims nothing.
        assert not await joins.claim(
            "acct_a", 400, "chan_x", limit=5, conn=conn, at=T0, worker="w2"
        )
        assert await joins.claim("acct_a", 400, "chan_x", limit=5, conn=conn, at=T0, worker="w1")
        (row,) = await joins.current_of("acct_a", conn=conn)
        assert (row.state, row.claimed_by, row.joined_at) == ("claimed", "w1", None)
        # Only the claiming worker's confirmation counts.
        assert not await joins.confirm("acct_a", 400, worker="w2", conn=conn, at=T0)
        later = T0 + timedelta(seconds=5)
        assert await joins.confirm("acct_a", 400, worker="w1", conn=conn, at=later)
        (row,) = await joins.current_of("acct_a", conn=conn)
        assert (row.state, row.joined_at) == ("joined", later)
        # A confirmed join is not a claim any more: unclaim leaves it alone.
        await joins.unclaim("acct_a", 400, conn=conn)
        assert [j.state for j in await joins.current_of("acct_a", conn=conn)] == ["joined"]
    # The lease expired: the worker's claims stop.
    async with engine.begin() as conn:
        late = T0 + LEASE + timedelta(seconds=1)
        assert not await joins.claim(
            "acct_a", 401, "chan_y", limit=5, conn=conn, at=late, worker="w1"
        )


async def test_a_settled_claim_cannot_be_confirmed_by_the_worker_that_made_it(
    engine: AsyncEngine,
) -> None:
    """The account's next holder released the claim of a worker that lost its lease: that
    worker's late confirmation fails (it then undoes the join)."""
    await _hold(engine, "acct_a", "w1")
    async with engine.begin() as conn:
        assert await joins.claim("acct_a", 500, "chan_z", limit=5, conn=conn, at=T0, worker="w1")
        await joins.unclaim("acct_a", 500, conn=conn)  # the next holder: not in its dialogs
        assert not await joins.confirm("acct_a", 500, worker="w1", conn=conn, at=T0)
        assert await joins.list_joins(conn=conn) == []


async def test_a_channel_left_frees_its_slot_and_stays_as_history(engine: AsyncEngine) -> None:
    left_at = T0 + timedelta(hours=1)
    async with engine.begin() as conn:
        assert await joins.record_found("acct_a", 600, "chan_p", conn=conn, at=T0)
        assert not await joins.claim("acct_a", 601, "chan_q", limit=1, conn=conn, at=T0)
        n = await joins.mark_left("acct_a", [600], reason="not in dialogs", conn=conn, at=left_at)
        assert n == 1
        assert await joins.joined_count("acct_a", conn=conn) == 0
        assert await joins.claim("acct_a", 601, "chan_q", limit=1, conn=conn, at=left_at)
        # Another account may now join the channel acct_a left: a new current row beside the old.
        assert await joins.claim("acct_b", 600, "chan_p", limit=1, conn=conn, at=left_at)
        current = {j.handle: j.account for j in await joins.list_joins(conn=conn)}
        history = await joins.list_joins(conn=conn, history=True)
    assert current == {"chan_p": "acct_b", "chan_q": "acct_a"}
    old = next(j for j in history if j.handle == "chan_p" and j.state == "left")
    assert (old.account, old.left_at, old.left_reason) == ("acct_a", left_at, "not in dialogs")
    assert old.left_at.tzinfo is not None and old.left_at.utcoffset() == timedelta(0)
    assert len(history) == 3


async def test_a_join_limit_of_zero_never_joins(engine: AsyncEngine) -> None:
    from monitor.config import parse_watchlist
    from monitor.workers import single_account

    watchlist = parse_watchlist(
        'accounts:\n  - name: quiet\n    join_limit: 0\nchannels:\n  - handle: "@chan_sim"\n'
    )
    limit = single_account(watchlist, "default").join_limit
    assert limit == 0
    async with engine.begin() as conn:
        assert not await joins.claim("quiet", 301, "chan_sim", limit=limit, conn=conn, at=T0)
        assert await joins.list_joins(conn=conn) == []
