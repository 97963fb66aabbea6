"""Migration 0008 on an archive that already has alerts: the outbox keeps its rows, its index
and its foreign key to the post (a deleted post still takes its alerts along), and takes health
alerts, which have no post."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, inspect, select, text

from storage.engine import create_engine, current_revision, upgrade
from storage.models import alert_outbox, post

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


async def test_upgrade_from_0003_with_data(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine, "0003")
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO channel (id, username, title, first_seen_at, updated_at) "
                    "VALUES (7, 'alpha', 'Alpha', :now, :now)"
                ),
                {"now": NOW},
            )
            await conn.execute(
                text(
                    "INSERT INTO post (id, channel_id, message_id, posted_at, first_captured_at, "
                    "last_checked_at, text, content_hash) "
                    "VALUES (1, 7, 1, :now, :now, :now, 'hello', 'h')"
                ),
                {"now": NOW},
            )
            await conn.execute(
                text(
                    "INSERT INTO alert_outbox (idempotency_key, route, post_id, flag_ids, "
                    "kind, status, attempts, created_at) "
                    "VALUES ('desk:7:m1:alert:0', 'desk', 1, '[]', 'alert', 'delivered', 1, "
                    ":now)"
                ),
                {"now": NOW},
            )
        await upgrade(engine, "0008")  # this migration, whatever comes after it
        assert await current_revision(engine) == "0008"
        async with engine.begin() as conn:
            keys = (await conn.execute(select(alert_outbox.c.idempotency_key))).scalars().all()
            assert keys == ["desk:7:m1:alert:0"]
            await conn.execute(
                alert_outbox.insert().values(
                    idempotency_key="desk:health:alpha:1:private",
                    route="desk",
                    post_id=None,
                    flag_ids=[],
                    kind="health",
                    status="pending",
                    attempts=0,
                    created_at=NOW,
                )
            )
            indexes = await conn.run_sync(
                lambda sync: {ix["name"] for ix in inspect(sync).get_indexes("alert_outbox")}
            )
            assert "ix_alert_outbox_post_id" in indexes
            await conn.execute(delete(post).where(post.c.id == 1))
            left = (await conn.execute(select(alert_outbox.c.idempotency_key))).scalars().all()
            assert left == ["desk:health:alpha:1:private"]
    finally:
        await engine.dispose()
