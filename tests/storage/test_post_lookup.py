"""Looking stored posts up by (channel_id, message_id): the same outcome with or without the
first-pass shortcut, and on PostgreSQL a plan that cannot go stale as a channel grows."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import content_hashes, list_versions, upsert_channel, upsert_posts
from storage.models import post
from tests.factories import BASE_TIME, CHANNEL_ID, edited, make_channel, make_post


@pytest.fixture
async def channel_conn(conn: AsyncConnection) -> AsyncConnection:
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    return conn


async def test_expect_new_finds_the_posts_already_stored(channel_conn: AsyncConnection):
    """A batch read again after a crash, with one message edited meanwhile: inserting first and
    looking up only what was already there gives what the lookup-first path gives."""
    conn = channel_conn
    stored = [make_post(f"post {i}") for i in range(3)]
    first = await upsert_posts(stored, conn=conn, captured_at=BASE_TIME)
    again = [stored[0], edited(stored[1], "post 1, corrected"), stored[2], make_post("post 3")]
    later = BASE_TIME + timedelta(minutes=1)
    result = await upsert_posts(again, conn=conn, captured_at=later, expect_new=True)

    ids = {k.message_id: k.post_id for k in first.new}
    assert [k.message_id for k in result.new] == [again[3].message_id]
    assert result.changed == [(CHANNEL_ID, stored[1].message_id, ids[stored[1].message_id])]
    assert [k.post_id for k in result.unchanged] == [
        ids[stored[0].message_id],
        ids[stored[2].message_id],
    ]
    versions = await list_versions(ids[stored[1].message_id], conn=conn)
    assert [v.text for v in versions] == ["post 1", "post 1, corrected"]
    checked = await conn.execute(
        select(post.c.message_id, post.c.last_checked_at).where(post.c.channel_id == CHANNEL_ID)
    )
    assert {row.message_id: row.last_checked_at for row in checked} == {
        r.message_id: later for r in again
    }


async def test_expect_new_stores_a_fresh_batch_like_the_lookup_path(channel_conn: AsyncConnection):
    conn = channel_conn
    batch = [make_post(f"fresh {i}", views=i) for i in range(5)]
    shortcut = await upsert_posts(batch, conn=conn, captured_at=BASE_TIME, expect_new=True)
    assert [k.message_id for k in shortcut.new] == [r.message_id for r in batch]
    assert shortcut.changed == shortcut.unchanged == []
    copies = [replace(r, message_id=r.message_id + 10_000) for r in batch]
    looked_up = await upsert_posts(copies, conn=conn, captured_at=BASE_TIME)
    assert len(looked_up.new) == len(batch)


async def _plan(conn: AsyncConnection, wanted: list[int]) -> str:
    ids = ",".join(str(int(m)) for m in wanted)  # EXECUTE takes values, not parameters
    rows = await conn.execute(
        text(f"EXPLAIN EXECUTE lookup({int(CHANNEL_ID)}, ARRAY[{ids}]::bigint[])")
    )
    return "\n".join(rows.scalars())


async def test_lookups_plan_for_the_table_as_it_is_now(engine: AsyncEngine, backend: str):
    """The scale probe's case: PostgreSQL gives a prepared statement (asyncpg keeps them per
    connection) a generic plan, and keeps it until something invalidates it; made while the
    channel was small, it scans the channel (313 ms a batch at 100k posts). In a transaction
    where the repository looks posts up, statements are planned for the table as it is: the
    same prepared lookup then uses the unique key."""
    if backend != "postgresql":
        pytest.skip("prepared statements' cached plans are PostgreSQL's")
    wanted = list(range(99_901, 100_001))
    insert_posts = text(
        "INSERT INTO post (channel_id, message_id, posted_at, first_captured_at,"
        " last_checked_at, text, content_hash)"
        " SELECT CAST(:channel AS bigint), g, :at, :at, :at, 'post ' || g, md5(g::text)"
        " FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) g"
    )
    async with engine.connect() as conn:
        await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
        await conn.execute(text("ALTER TABLE post SET (autovacuum_enabled = false)"))
        await conn.execute(
            insert_posts, {"channel": CHANNEL_ID, "at": BASE_TIME, "first": 1, "last": 100}
        )
        await conn.execute(text("ANALYZE post"))
        await conn.execute(text("SET plan_cache_mode = force_generic_plan"))
        await conn.execute(
            text(
                "PREPARE lookup(bigint, bigint[]) AS SELECT id, content_hash FROM post"
                " WHERE channel_id = $1 AND message_id = ANY($2)"
            )
        )
        # The generic plan a small channel gets does not use the unique key.
        assert "uq_post_channel_id_message_id" not in await _plan(conn, wanted)
        await conn.execute(
            insert_posts, {"channel": CHANNEL_ID, "at": BASE_TIME, "first": 101, "last": 100_000}
        )
        await conn.commit()

        hashes = await content_hashes(CHANNEL_ID, wanted, conn=conn)
        assert len(hashes) == 100
        assert (await conn.execute(text("SHOW plan_cache_mode"))).scalar() == "force_custom_plan"
        assert "uq_post_channel_id_message_id" in await _plan(conn, wanted)
        await conn.rollback()

        records = [make_post(f"post {m}", message_id=m) for m in wanted]
        result = await upsert_posts(records, conn=conn, captured_at=BASE_TIME)
        assert len(result.changed) == 100
        assert "uq_post_channel_id_message_id" in await _plan(conn, wanted)
        await conn.rollback()
        # Only for the lookups' transactions: the session's own setting is back.
        assert (await conn.execute(text("SHOW plan_cache_mode"))).scalar() == "force_generic_plan"
        await conn.execute(text("DEALLOCATE lookup"))


async def test_lookups_use_the_unique_key_in_a_table_never_analyzed(
    engine: AsyncEngine, backend: str
):
    """A first pass into a new archive: PostgreSQL has no statistics yet (autovacuum has not
    come round), believes a channel has a few dozen posts, and plans ``message_id IN (...)``
    as a scan of the whole channel through another index, filtered (93 ms a batch at 200,000
    posts, growing with the archive). The statements the repository sends bound the ids' range
    too, which only the unique key can use: planned for the table as it is, they read it."""
    if backend != "postgresql":
        pytest.skip("the planner's guess without statistics is PostgreSQL's")
    from sqlalchemy import event

    wanted = list(range(59_901, 60_001))
    sent: list[tuple[str, tuple]] = []

    def record(_conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001
        if (
            statement.lstrip().startswith(("SELECT", "UPDATE"))
            and "message_id" in statement
            and "post_version" not in statement  # the capture log names logged versions' posts
        ):
            sent.append((statement, tuple(parameters)))

    async with engine.connect() as conn:
        await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
        await conn.execute(text("ALTER TABLE post SET (autovacuum_enabled = false)"))
        await conn.execute(
            text(
                "INSERT INTO post (channel_id, message_id, posted_at, first_captured_at,"
                " last_checked_at, text, content_hash)"
                " SELECT CAST(:channel AS bigint), g, :at, :at, :at, 'post ' || g, md5(g::text)"
                " FROM generate_series(1, 60000) g"
            ),
            {"channel": CHANNEL_ID, "at": BASE_TIME},
        )
        await conn.commit()
        never = "SELECT last_analyze IS NULL AND last_autoanalyze IS NULL FROM pg_stat_user_tables"
        where = " WHERE relname = 'post' AND schemaname = current_schema()"
        assert (await conn.execute(text(never + where))).scalar() is True

        # What the planner does with IN alone (the shape the lookups had): not the unique key.
        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        ids = ",".join(map(str, wanted))
        plan = await conn.execute(
            text(
                f"EXPLAIN SELECT id FROM post WHERE channel_id = {CHANNEL_ID} AND message_id IN ({ids})"
            )
        )
        assert "uq_post_channel_id_message_id" not in "\n".join(plan.scalars())
        await conn.rollback()

        event.listen(engine.sync_engine, "before_cursor_execute", record)
        try:
            assert len(await content_hashes(CHANNEL_ID, wanted, conn=conn)) == 100
            records = [make_post(f"post {m}", message_id=m) for m in wanted]
            result = await upsert_posts(records, conn=conn, captured_at=BASE_TIME)
            assert len(result.changed) == 100
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", record)
        assert [s.split()[0] for s, _ in sent] == ["SELECT", "SELECT"]  # the two lookups
        for statement, parameters in sent:
            rows = await conn.exec_driver_sql(f"EXPLAIN {statement}", parameters)
            plan = "\n".join(rows.scalars())
            assert "uq_post_channel_id_message_id" in plan, (statement, plan)
        await conn.rollback()


async def test_ids_far_apart_unsorted_or_repeated_are_all_found(channel_conn: AsyncConnection):
    """Lookups go by runs of nearby ids (a bounded range each): ids thousands apart, in any
    order, repeated, or more than one run holds, are each found once."""
    conn = channel_conn
    ids = [7, 2, 9_000, 2_006, 2, 4_001, 40_000, *range(10_000, 10_700)]
    await upsert_posts(
        [make_post(f"post {m}", message_id=m) for m in set(ids)], conn=conn, captured_at=BASE_TIME
    )
    found = await content_hashes(CHANNEL_ID, [*ids, 3, 39_999], conn=conn)  # 2 never stored
    assert sorted(found) == sorted(set(ids))
    result = await upsert_posts(
        [make_post(f"post {m}", message_id=m) for m in reversed(ids)],
        conn=conn,
        captured_at=BASE_TIME + timedelta(minutes=1),
    )
    assert not result.new and len(result.unchanged) == len(set(ids))
