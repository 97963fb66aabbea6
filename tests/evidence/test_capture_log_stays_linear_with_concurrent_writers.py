"""Several collectors storing at once (two engines, many overlapping transactions) append to one
linear chain that verifies: no fork, no lost entry."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from storage import MediaStore, create_engine, upsert_channel, upsert_posts
from storage.capture_verify import verify_archive
from storage.models import capture_log, post_version
from storage.records import MediaRecord
from tests.factories import BASE_TIME, make_channel, make_post

WRITERS = 4
BATCHES = 12


async def _writer(url: str, store: MediaStore, writer: int) -> None:
    engine = create_engine(url)
    try:
        for batch in range(BATCHES):
            stored = store.put(f"photo {writer}/{batch}".encode(), ext="jpg")
            photo = MediaRecord(
                0,
                "photo",
                1000 * writer + batch,
                stored.sha256,
                "image/jpeg",
                stored.size,
                path=stored.relpath,
            )
            posts = [
                make_post(
                    f"writer {writer} batch {batch} post {i}",
                    message_id=100_000 * (writer + 1) + 100 * batch + i,
                )
                for i in range(5)
            ]
            posts[0] = replace(posts[0], media=(photo,))
            async with engine.begin() as conn:
                await upsert_posts(
                    posts, conn=conn, captured_at=BASE_TIME + timedelta(seconds=batch)
                )
                await asyncio.sleep(0)  # let the other writers interleave inside the transaction
            edited = [
                replace(p, text=p.text + " (edited)", edited_at=BASE_TIME) for p in posts[1:3]
            ]
            async with engine.begin() as conn:
                await upsert_posts(
                    edited, conn=conn, captured_at=BASE_TIME + timedelta(minutes=batch)
                )
    finally:
        await engine.dispose()


async def test_concurrent_writers_append_one_verifiable_chain(engine, db_url, tmp_path):
    store = MediaStore(tmp_path / "media")
    async with engine.begin() as conn:
        await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    await asyncio.gather(*(_writer(db_url, store, w) for w in range(WRITERS)))
    async with engine.connect() as conn:
        entries = list(await conn.execute(select(capture_log).order_by(capture_log.c.seq)))
        versions = len(list(await conn.execute(select(post_version.c.id))))
        report = await verify_archive(conn=conn, media_store=store)
    assert versions == WRITERS * BATCHES * (5 + 2)
    assert report.ok, report.mismatches
    assert (report.versions, report.media_files) == (versions, WRITERS * BATCHES)
    assert len(entries) == versions + WRITERS * BATCHES
    prev = "0" * 64
    for entry in entries:
        assert entry.prev_hash == prev
        prev = entry.entry_hash
    # The writers really overlapped: entries of different writers alternate in the chain.
    writers = [e.message_id // 100_000 for e in entries if e.kind == "version"]
    switches = sum(1 for a, b in zip(writers, writers[1:], strict=False) if a != b)
    assert switches > WRITERS
