"""The collector and pipeline against the simulated Telegram, through the real TelegramClient."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from monitor.collector import Collector, resolve_channel
from monitor.simulator import client_for
from monitor.simulator.photos import generate_jpeg
from monitor.telegram import FLOOD_SLEEP_THRESHOLD
from storage import get_state
from storage.models import post, post_media, post_version
from tests.telegram_fixtures import START, fill, spec, version_texts


async def _count(engine, table) -> int:  # noqa: ANN001
    async with engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


async def test_second_pass_on_unchanged_channel_is_one_history_call_and_no_resolve(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 30)
    first = await make_pipeline().collect(await connect(), spec("chan_a"))
    assert first.new == 30 and first.error is None

    client = await connect()  # a fresh session: Telethon has nothing cached
    telegram.requests.reset()
    second = await make_pipeline().collect(client, spec("chan_a"))

    assert second.new == 0
    assert telegram.requests.count("GetHistoryRequest") == 1
    assert telegram.requests.count("ResolveUsernameRequest") == 0


async def test_first_pass_backfills_the_newest_posts_only(telegram, connect, make_pipeline, engine):
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 50)
    report = await make_pipeline().collect(await connect(), spec("chan_a", backfill=20))
    assert report.new == 20
    async with engine.connect() as conn:
        texts = (await conn.execute(select(post.c.text).order_by(post.c.message_id))).scalars()
        assert list(texts) == [f"post number {i}" for i in range(30, 50)]


async def test_thousand_new_posts_take_at_most_eleven_history_calls(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 5)
    pipeline = make_pipeline()
    client = await connect()
    await pipeline.collect(client, spec("chan_a"))
    fill(telegram, channel.id, 1000, start=START + timedelta(days=1))
    telegram.requests.reset()

    report = await pipeline.collect(client, spec("chan_a"))

    assert report.new == 1000
    assert telegram.requests.count("GetHistoryRequest") <= 11
    assert await _count(engine, post) == 1005


async def test_photos_on_disk_are_the_bytes_telegram_served(
    telegram, connect, make_pipeline, engine, media_store
):
    channel = telegram.add_channel("chan_a", "Channel A")
    single = telegram.post(
        channel.id, "one photo", date=START, photo=generate_jpeg(1, label="single")
    )
    album = telegram.post_album(
        channel.id,
        [generate_jpeg(i, label=f"album {i}") for i in (2, 3, 4)],
        "three photos",
        date=START + timedelta(minutes=1),
    )
    report = await make_pipeline().collect(await connect(), spec("chan_a"))
    assert report.photos == 4

    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(post.c.message_id, post.c.grouped_id, post_media.c.sha256, post_media.c.kind)
                .join(post_media, post_media.c.post_id == post.c.id)
                .order_by(post.c.message_id)
            )
        ).all()
    assert [r.message_id for r in rows] == [single.id, *(m.id for m in album)]
    for row in rows:
        served = telegram.photo_bytes(channel.id, row.message_id)
        assert row.sha256 == hashlib.sha256(served).hexdigest()
        on_disk = next(media_store.root.rglob(f"{row.sha256}.jpg")).read_bytes()
        assert hashlib.sha256(on_disk).hexdigest() == row.sha256
    grouped = {r.grouped_id for r in rows if r.message_id != single.id}
    assert len(grouped) == 1 and None not in grouped  # one album, three archived messages


async def test_expired_file_reference_is_refreshed_by_refetching_the_message(
    telegram, connect, make_pipeline, media_store
):
    channel = telegram.add_channel("chan_a", "Channel A")
    message = telegram.post(channel.id, "photo", date=START, photo=generate_jpeg(9, label="x"))
    telegram.expire_file_reference(channel.id, message.id)

    report = await make_pipeline().collect(await connect(), spec("chan_a"))

    assert report.photos == 1
    digest = hashlib.sha256(telegram.photo_bytes(channel.id, message.id)).hexdigest()
    assert next(media_store.root.rglob(f"{digest}.jpg")).exists()


class Crash(Exception):
    """Stands for the process dying at a chosen point."""


async def test_crash_before_commit_rereads_one_batch_and_duplicates_nothing(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 250)
    batches = 0

    async def die_in_second_batch(batch, conn):  # noqa: ANN001
        nonlocal batches
        batches += 1
        if batches == 2:
            raise Crash

    with pytest.raises(Crash):
        await make_pipeline(on_batch=[die_in_second_batch]).collect(
            await connect(), spec("chan_a", backfill=1000)
        )
    assert await _count(engine, post) == 100  # the first batch committed, the second rolled back

    report = await make_pipeline().collect(await connect(), spec("chan_a", backfill=1000))

    assert report.new == 150
    assert await _count(engine, post) == 250
    assert await _count(engine, post_version) == 250


async def test_crash_after_commit_loses_nothing_and_resumes_from_the_cursor(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 250)

    async def die_after_first_commit(batch):  # noqa: ANN001
        raise Crash

    with pytest.raises(Crash):
        await make_pipeline(after_commit=[die_after_first_commit]).collect(
            await connect(), spec("chan_a", backfill=1000)
        )
    async with engine.connect() as conn:
        state = await get_state("default", channel.id, conn=conn)
    assert state is not None and state.last_message_id == 100

    telegram.requests.reset()
    report = await make_pipeline().collect(await connect(), spec("chan_a", backfill=1000))

    assert report.new == 150
    assert await _count(engine, post) == 250
    assert telegram.requests.count("ResolveUsernameRequest") == 0


async def test_restart_resumes_from_the_stored_cursor(telegram, connect, make_pipeline, engine):
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 40)
    await make_pipeline().collect(await connect(), spec("chan_a"))
    fill(telegram, channel.id, 5, start=START + timedelta(days=2))

    report = await make_pipeline().collect(await connect(), spec("chan_a"))  # a new process

    assert report.new == 5
    assert await _count(engine, post) == 45


async def test_recheck_records_edits_as_versions_and_deletions(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("chan_a", "Channel A")
    now = START + timedelta(hours=1)
    for i in range(3):
        telegram.post(channel.id, f"statement {i}", date=START + timedelta(minutes=i))
    pipeline = make_pipeline(now=lambda: now)
    client = await connect()
    await pipeline.collect(client, spec("chan_a"))
    telegram.edit(channel.id, 2, "statement 1 (corrected)", date=now)
    telegram.delete(channel.id, [3])

    report = await pipeline.recheck(client, spec("chan_a"))

    assert (report.changed, report.deleted) == (1, 1)
    assert await version_texts(engine, 2) == ["statement 1", "statement 1 (corrected)"]
    async with engine.connect() as conn:
        deleted = (
            await conn.execute(select(post.c.deleted_at).where(post.c.message_id == 3))
        ).scalar_one()
        assert deleted == now


async def test_unknown_channel_is_reported_and_others_still_collected(
    telegram, connect, make_pipeline
):
    channel = telegram.add_channel("chan_b", "Channel B")
    fill(telegram, channel.id, 3)
    pipeline = make_pipeline()
    client = await connect()

    missing = await pipeline.collect(client, spec("no_such_channel"))
    present = await pipeline.collect(client, spec("chan_b"))

    assert missing.error is not None and "no_such_channel" in missing.error
    assert present.new == 3


async def test_provenance_is_archived_with_both_clocks(telegram, connect, make_pipeline, engine):
    from datetime import UTC, datetime

    from monitor.simulator import SimForward

    source = telegram.add_channel("source", "Source")
    original = telegram.post(source.id, "original statement", date=START)
    channel = telegram.add_channel("chan_a", "Channel A")
    first = telegram.post(channel.id, "first", date=START + timedelta(minutes=1))
    telegram.post(
        channel.id,
        "forwarded with comment",
        date=START + timedelta(minutes=2),
        views=1200,
        forwards=15,
        replies=3,
        reactions={"👍": 40, "🔥": 2},
        fwd_from=SimForward(source.id, original.id, START, None),
        reply_to=first.id,
    )
    captured = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    await make_pipeline(now=lambda: captured).collect(await connect(), spec("chan_a"))

    async with engine.connect() as conn:
        row = (await conn.execute(select(post).where(post.c.message_id == 2))).mappings().one()
    assert row["posted_at"] == START + timedelta(minutes=2)  # Telegram's clock
    assert row["first_captured_at"] == captured  # ours
    assert (row["views"], row["forwards"], row["replies"]) == (1200, 15, 3)
    assert row["reactions"] == {"👍": 40, "🔥": 2}
    assert (row["fwd_from_channel_id"], row["fwd_from_message_id"]) == (source.id, original.id)
    assert row["fwd_from_date"] == START
    assert row["reply_to_message_id"] == first.id
    assert row["raw"]["id"] == 2 and row["raw"]["message"] == "forwarded with comment"
    assert row["raw"]["date"] == (START + timedelta(minutes=2)).isoformat()


async def test_a_photo_telegram_will_not_serve_does_not_stall_the_channel(
    telegram, connect, make_pipeline, engine, media_store
):
    channel = telegram.add_channel("chan_a", "Channel A")
    first = telegram.post(channel.id, "photo 1", date=START, photo=generate_jpeg(1, label="a"))
    second = telegram.post(
        channel.id, "photo 2", date=START + timedelta(minutes=1), photo=generate_jpeg(2, label="b")
    )
    telegram.faults.fail("GetFileRequest", "FILE_ID_INVALID")  # one download is refused

    report = await make_pipeline().collect(await connect(), spec("chan_a"))

    assert report.ok and report.new == 2 and report.photos == 1
    async with engine.connect() as conn:
        rows = dict(
            (
                await conn.execute(
                    select(post.c.message_id, post_media.c.sha256).join(
                        post_media, post_media.c.post_id == post.c.id
                    )
                )
            ).all()
        )
    # Downloads run concurrently: whichever was refused keeps its metadata, the other is stored.
    served = {
        m.id: hashlib.sha256(telegram.photo_bytes(channel.id, m.id)).hexdigest()
        for m in (first, second)
    }
    assert sorted(rows) == sorted(served)
    missing = [mid for mid, sha in rows.items() if sha is None]
    assert len(missing) == 1
    [kept] = [mid for mid in rows if mid not in missing]
    assert rows[kept] == served[kept]


async def test_a_nul_character_in_a_post_does_not_stall_the_channel(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("chan_a", "Channel A")
    telegram.post(channel.id, "before\x00after", date=START)
    telegram.post(channel.id, "next post", date=START + timedelta(minutes=1))

    report = await make_pipeline().collect(await connect(), spec("chan_a"))

    assert report.ok and report.new == 2  # PostgreSQL cannot store U+0000: it is replaced
    async with engine.connect() as conn:
        texts = (await conn.execute(select(post.c.text, post.c.raw).order_by(post.c.id))).all()
    assert texts[0].text == "before\ufffdafter"
    assert texts[0].raw["message"] == "before\ufffdafter"


# A re-check of the ids a pushed edit names costs only the GetMessages it needs.


async def test_recheck_of_pushed_ids_does_not_call_get_full_channel(
    telegram, connect, make_pipeline, engine
):
    # channels.getFullChannel is one of Telegram's most tightly limited methods; a busy channel
    # that edits its posts would otherwise spend one call per pushed edit and get flood-waited.
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 3)
    pipeline = make_pipeline(now=lambda: START + timedelta(hours=1))
    client = await connect()
    await pipeline.collect(client, spec("chan_a"))
    telegram.edit(channel.id, 2, "post number 1 (corrected)", date=START + timedelta(hours=1))
    telegram.requests.reset()

    report = await pipeline.recheck(client, spec("chan_a"), ids=[2])

    assert report.ok and report.changed == 1
    assert telegram.requests.count("GetMessagesRequest") == 1
    assert telegram.requests.count("GetFullChannelRequest") == 0
    assert await version_texts(engine, 2) == ["post number 1", "post number 1 (corrected)"]


# A cached access hash that Telegram rejects is resolved again, not an error forever.


async def test_logging_in_as_another_account_keeps_collecting_with_the_stored_cursor(
    telegram, connect, make_pipeline, engine
):
    # Access hashes are per Telegram account. The daemon stores them under one account label,
    # so after `monitor login` as another user every cached hash is CHANNEL_INVALID.
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 10)
    pipeline = make_pipeline()
    first = await pipeline.collect(await connect(), spec("chan_a"))
    assert first.new == 10
    fill(telegram, channel.id, 4, start=START + timedelta(days=1))
    telegram.add_account("other")
    client = client_for(telegram, account="other", flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD)
    await client.connect()
    try:
        telegram.requests.reset()
        report = await pipeline.collect(client, spec("chan_a"))
        again = await pipeline.collect(client, spec("chan_a"))
    finally:
        await client.disconnect()

    assert report.error is None and report.new == 4  # resumed from the stored cursor
    assert telegram.requests.count("ResolveUsernameRequest") == 1  # once, then cached again
    assert again.ok and again.new == 0


async def _page_one_with_page_two_held(telegram, connect, media_store):  # noqa: ANN001, ANN202
    """A 250-post channel's pages from the start, page one taken; page two's call is held."""
    channel = telegram.add_channel("chan_a", "Channel A")
    fill(telegram, channel.id, 250)
    client = await connect()
    peer = (await resolve_channel(client, "chan_a")).peer
    first, second = (telegram.faults.hold("GetHistoryRequest") for _ in range(2))
    first.release()  # page one is answered at once; page two's call waits on ``second``
    pages = Collector(client, media_store).new_posts(peer, min_id=0)
    return pages, await anext(pages), second


async def test_the_next_page_is_asked_for_while_this_one_is_stored(telegram, connect, media_store):
    # Telegram's round trip overlaps our work on the page before: the next GetHistory is in
    # flight while the caller still holds this page (over a real network that hides one round
    # trip per page of a backfill).
    pages, page, second = await _page_one_with_page_two_held(telegram, connect, media_store)
    assert [r.message_id for r in page] == list(range(1, 101))
    # The caller has not asked for more, and page two's request has reached Telegram already.
    await asyncio.wait_for(second.arrived.wait(), timeout=10)
    second.release()
    rest = [r.message_id async for batch in pages for r in batch]
    assert rest == list(range(101, 251))
    assert telegram.requests.count("GetHistoryRequest") == 3


async def test_a_pass_closed_early_leaves_no_page_request_running(telegram, connect, media_store):
    pages, _, second = await _page_one_with_page_two_held(telegram, connect, media_store)
    await asyncio.wait_for(second.arrived.wait(), timeout=10)
    # E.g. the collector is stopping: the page asked for ahead is dropped, not waited for.
    await asyncio.wait_for(pages.aclose(), timeout=10)

    reading = [t for t in asyncio.all_tasks() if "history" in repr(t.get_coro())]
    assert reading == []
