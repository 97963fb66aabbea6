"""Two entries can never follow the same one: each entry's seq is the one after its predecessor's,
and the primary key refuses a second claim on it. Migration 0015 (which moved that guarantee off
the hashes' unique indexes) keeps every entry of an existing log and its chain verifies."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from storage import MediaStore, create_engine, upgrade, upsert_channel, upsert_posts
from storage.capture_log import _tail, chain
from storage.capture_verify import verify_archive
from storage.models import capture_log
from tests.factories import BASE_TIME, make_channel, make_post
from tests.migrations import downgrade


def _item(at: datetime) -> dict[str, object]:
    """An entry's fields for a made-up version (no row behind it)."""
    return {
        "kind": "version",
        "version_id": None,
        "media_sha256": None,
        "channel_id": 1,
        "message_id": 1,
        "content_sha256": "ab" * 32,
        "captured_at": at,
    }


async def test_an_entry_chained_after_a_stale_tail_is_refused(engine, media_store: MediaStore):
    async with engine.begin() as conn:
        await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
        await upsert_posts([make_post("first")], conn=conn, captured_at=BASE_TIME)
        stale = await _tail(conn)  # what a second writer read before the next append
        await upsert_posts([make_post("second")], conn=conn, captured_at=BASE_TIME)
    seq, prev = stale
    fork = chain(
        prev,
        [_item(BASE_TIME)],
        after_seq=seq,
    )
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(capture_log.insert(), fork)
    async with engine.connect() as conn:
        report = await verify_archive(conn=conn, media_store=media_store)
        seqs = list((await conn.execute(select(capture_log.c.seq))).scalars())
    assert report.ok and report.entries == 2
    assert sorted(seqs) == [1, 2]


async def test_migration_0015_keeps_the_log_and_appends_continue_it(
    db_url: str, media_store: MediaStore
):
    engine = create_engine(db_url)
    try:
        await upgrade(engine, "0014")
        posts = [make_post(f"before 0015, post {i}") for i in range(3)]
        async with engine.begin() as conn:
            await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
            await upsert_posts(posts, conn=conn, captured_at=BASE_TIME)
            edited = replace(posts[0], text="edited before 0015", edited_at=BASE_TIME)
            await upsert_posts([edited], conn=conn, captured_at=BASE_TIME + timedelta(hours=1))
        async with engine.connect() as conn:
            before = list(await conn.execute(text("SELECT * FROM capture_log ORDER BY seq")))
        assert len(before) == 4

        await upgrade(engine)
        async with engine.begin() as conn:
            after = list(await conn.execute(text("SELECT * FROM capture_log ORDER BY seq")))
            assert after == before
            await upsert_posts(
                [make_post("after 0015")], conn=conn, captured_at=BASE_TIME + timedelta(hours=2)
            )
        async with engine.connect() as conn:
            report = await verify_archive(conn=conn, media_store=media_store)
            seqs = list((await conn.execute(select(capture_log.c.seq))).scalars())
        assert report.ok and report.entries == 5
        assert sorted(seqs) == [1, 2, 3, 4, 5]

        # Back to 0014: its code lets the database number an entry, after the last one.
        await downgrade(engine, "0014")
        async with engine.begin() as conn:
            await conn.execute(
                capture_log.insert(),
                chain(
                    (await _tail(conn))[1],
                    [_item(BASE_TIME + timedelta(hours=3))],
                ),
            )
            seqs = list((await conn.execute(select(capture_log.c.seq))).scalars())
        assert sorted(seqs) == [1, 2, 3, 4, 5, 6]
        await upgrade(engine)
    finally:
        await engine.dispose()
