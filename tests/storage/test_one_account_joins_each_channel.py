"""The join record: of two workers claiming one channel for live updates at once, one wins;
an account never claims beyond its join limit, but a channel it is already in is recorded."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from storage import joins

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


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
    assert [(j.channel_id, j.handle, j.account) for j in rows] == [(101, "chan_a", "acct_a")]
    assert rows[0].joined_at == T0


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
        assert await joins.claim("acct_a", 203, "chan_3", limit=None, conn=conn, at=T0)
        assert await joins.joined_count("acct_a", conn=conn) == 3
        # A failed join gives the channel back.
        await joins.unclaim("acct_a", 203, conn=conn)
        await joins.unclaim("acct_b", 200, conn=conn)  # not acct_b's: nothing happens
        by_channel = {j.handle: j.account for j in await joins.list_joins(conn=conn)}
    assert by_channel == {"chan_0": "acct_a", "chan_1": "acct_a", "chan_2": "acct_b"}


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
