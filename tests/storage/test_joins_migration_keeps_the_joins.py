"""Migration 0014 on an archive with 0013's joins: each becomes a confirmed join (same account,
channel, time); going back to 0013 keeps the current joins and drops claims and history."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text

from storage import create_engine, upgrade
from tests.migrations import downgrade

T0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


async def test_joins_survive_0014_up_and_down(db_url: str) -> None:
    from storage import joins

    engine = create_engine(db_url)
    try:
        await upgrade(engine, "0013")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO account_join (channel_id, handle, account, joined_at) "
                    "VALUES (1, 'chan_a', 'acct_a', :t), (2, 'chan_b', 'acct_b', :t)"
                ),
                {"t": T0.replace(tzinfo=None) if "sqlite" in db_url else T0},
            )
        await upgrade(engine)
        async with engine.begin() as conn:
            rows = await joins.list_joins(conn=conn)
            assert [(j.handle, j.account, j.state, j.joined_at) for j in rows] == [
                ("chan_a", "acct_a", "joined", T0),
                ("chan_b", "acct_b", "joined", T0),
            ]
            await joins.mark_left("acct_b", [2], reason="not in dialogs", conn=conn, at=T0)
            await joins.claim("acct_a", 3, "chan_c", limit=5, conn=conn, at=T0)
        await downgrade(engine, "0013")
        async with engine.connect() as conn:
            left = list(await conn.execute(text("SELECT handle, account FROM account_join")))
        assert [tuple(r) for r in left] == [("chan_a", "acct_a")]
        await upgrade(engine)
    finally:
        await engine.dispose()
