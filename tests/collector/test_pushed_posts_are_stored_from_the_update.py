"""A new post Telegram pushes to a joined account is stored from the update itself, which
carries the whole message: no getHistory call is spent on it, so an account's history budget
goes to polls. The stored post is the one a history read would have stored (text, time, photo
bytes, raw message). Only posts that follow the stored cursor with no gap are taken this way;
a gap (an update never delivered) is read from the history, and a scheduled poll that a push
moved up still reads it: polling stays the safety net."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

from sqlalchemy import select

from monitor.collector import raw_json
from monitor.config import parse_watchlist
from monitor.scheduler import ChannelScheduler
from monitor.service import follow_updates
from monitor.simulator.photos import generate_jpeg
from storage.models import post, post_media
from tests.telegram_fixtures import START, fill, spec

HISTORY = "GetHistoryRequest"


async def _archive(engine, channel_id: int) -> dict[int, tuple]:  # noqa: ANN001
    """What an analyst cites, per message id: text, posting time, photo hashes, raw message."""
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(post.c.message_id, post.c.text, post.c.posted_at, post.c.raw, post.c.id)
                .where(post.c.channel_id == channel_id)
                .order_by(post.c.message_id)
            )
        ).all()
        photos = (
            await conn.execute(
                select(post_media.c.post_id, post_media.c.sha256).order_by(
                    post_media.c.post_id, post_media.c.position
                )
            )
        ).all()
    by_post: dict[int, list[str | None]] = {}
    for post_id, sha in photos:
        by_post.setdefault(post_id, []).append(sha)
    return {r.message_id: (r.text, r.posted_at, by_post.get(r.id, []), r.raw) for r in rows}


async def _until(condition, what: str) -> None:  # noqa: ANN001
    for _ in range(400):  # pushed updates arrive on their own schedule (bounded wait)
        if await condition():
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"not reached: {what}")


def _reads(telegram, channel_id: int) -> int:  # noqa: ANN001
    return sum(
        1 for e in telegram.requests.entries if e.name == HISTORY and e.channel == channel_id
    )


async def test_pushed_posts_are_stored_without_reading_the_history(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("pushed_chan", "Pushed")
    telegram.join("default", channel.id)  # the account follows it: new posts are pushed
    fill(telegram, channel.id, 3)
    client = await connect()
    scheduler = ChannelScheduler(make_pipeline(), client)
    scheduler.specs = {"pushed_chan": spec("pushed_chan")}
    await scheduler.poll("pushed_chan")  # the first pass sets the cursor
    follow_updates(client, scheduler)
    telegram.requests.reset()

    photo = generate_jpeg(4, label="pushed")
    with_photo = telegram.post(channel.id, "statement with a photo", photo=photo)
    plain = telegram.post(channel.id, "a second statement")

    async def stored() -> bool:
        return plain.id in await _archive(engine, channel.id)

    await _until(stored, "both pushed posts stored")
    archive = await _archive(engine, channel.id)
    assert _reads(telegram, channel.id) == 0  # no getHistory spent on them
    assert archive[with_photo.id][0] == "statement with a photo"
    assert archive[with_photo.id][2] == [hashlib.sha256(photo).hexdigest()]  # the posted bytes
    assert archive[plain.id][0] == "a second statement"
    assert not scheduler.is_busy("pushed_chan")
    assert scheduler.reports["pushed_chan"].from_updates

    # What a history read returns for the same posts is what was stored from the updates.
    fetched = await client.get_messages("pushed_chan", ids=[with_photo.id, plain.id])
    assert [archive[m.id][3] for m in fetched] == [raw_json(m) for m in fetched]
    assert [archive[m.id][1] for m in fetched] == [m.date for m in fetched]


async def test_a_pushed_post_after_a_gap_reads_the_history_and_stores_what_was_missed(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("gap_chan", "Gap")
    fill(telegram, channel.id, 3)
    client = await connect()
    pipeline = make_pipeline()
    await pipeline.collect(client, spec("gap_chan"))
    missed = telegram.post(channel.id, "never pushed", date=START + timedelta(days=1))
    latest = telegram.post(channel.id, "pushed after the gap", date=START + timedelta(days=1))
    (message,) = await client.get_messages("gap_chan", ids=[latest.id])  # as the update had it
    telegram.requests.reset()

    report = await pipeline.collect(client, spec("gap_chan"), pushed=[message], read_history=False)

    archive = await _archive(engine, channel.id)
    assert archive[missed.id][0] == "never pushed"  # read from the history, not lost
    assert archive[latest.id][0] == "pushed after the gap"
    assert _reads(telegram, channel.id) >= 1 and report.new == 2
    assert not report.from_updates


async def test_a_pushed_post_already_stored_by_a_poll_is_not_stored_again(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("dup_chan", "Dup")
    fill(telegram, channel.id, 3)
    client = await connect()
    pipeline = make_pipeline()
    await pipeline.collect(client, spec("dup_chan"))
    latest = telegram.post(channel.id, "polled before its update was handled")
    (message,) = await client.get_messages("dup_chan", ids=[latest.id])
    await pipeline.collect(client, spec("dup_chan"))  # a poll got there first
    telegram.requests.reset()

    report = await pipeline.collect(client, spec("dup_chan"), pushed=[message], read_history=False)

    assert (report.ok, report.new, report.changed) == (True, 0, 0)
    assert telegram.requests.count() == 0  # nothing to ask Telegram
    assert sorted(await _archive(engine, channel.id)) == [1, 2, 3, latest.id]


async def test_a_scheduled_poll_moved_up_by_a_push_still_reads_the_history(
    telegram, connect, make_pipeline, engine
):
    busy = telegram.add_channel("busy_chan", "Busy")
    channel = telegram.add_channel("net_chan", "Net")
    fill(telegram, busy.id, 2)
    fill(telegram, channel.id, 2)
    client = await connect()
    release, held = asyncio.Event(), asyncio.Event()

    async def hold(batch) -> None:  # noqa: ANN001 - keeps the one slot busy until released
        if batch.channel_id == busy.id:
            held.set()
            await release.wait()

    scheduler = ChannelScheduler(
        make_pipeline(after_commit=[hold]), client, max_concurrent=1, pushed_slots=0
    )
    scheduler.specs = {"busy_chan": spec("busy_chan"), "net_chan": spec("net_chan")}
    await scheduler.poll("net_chan")
    follow_updates(client, scheduler)
    fill(telegram, busy.id, 1, start=START + timedelta(days=1))
    holding = asyncio.create_task(scheduler.poll("busy_chan"))
    await asyncio.wait_for(held.wait(), 10)  # the slot taken, its history read
    await scheduler._due("net_chan", "poll")  # the scheduled poll, queued behind it
    telegram.join("default", channel.id)
    telegram.requests.reset()
    pushed = telegram.post(channel.id, "pushed while the scheduled poll waits")

    async def promoted() -> bool:  # the update reached the queued poll: it moved up
        return _reads(telegram, channel.id) == 0 and scheduler._inbox != {}

    await _until(promoted, "the update handled")
    release.set()
    await holding

    async def polled() -> bool:
        stored = pushed.id in await _archive(engine, channel.id)
        return stored and not scheduler.is_busy("net_chan")

    await _until(polled, "the poll done")
    assert _reads(telegram, channel.id) == 1  # the history read, though the post was pushed
    assert not scheduler.reports["net_chan"].from_updates


async def _true(value: bool) -> bool:
    return value


async def test_a_post_stored_from_its_update_leaves_the_next_scheduled_poll_where_it_was(
    telegram, connect, make_pipeline
):
    channel = telegram.add_channel("kept_chan", "Kept")
    telegram.join("default", channel.id)
    fill(telegram, channel.id, 2)
    watchlist = parse_watchlist(
        "defaults: {poll_every: 10m, backfill: 5, media: []}\nchannels:\n  - handle: '@kept_chan'\n"
    )
    client = await connect()
    scheduler = ChannelScheduler(make_pipeline(), client, history_per_30s=30)
    scheduler.start(watchlist)
    try:
        await scheduler.poll("kept_chan")
        due_at = scheduler.now() + timedelta(seconds=30)
        scheduler.scheduler.get_job("poll:kept_chan").modify(next_run_time=due_at)
        follow_updates(client, scheduler)

        telegram.post(channel.id, "news pushed to a joined account")
        await _until(lambda: _true(scheduler.reports["kept_chan"].new == 1), "stored")

        # Not read to its newest post by a history read: the safety-net poll keeps its time.
        assert scheduler.reports["kept_chan"].from_updates
        assert scheduler.scheduler.get_job("poll:kept_chan").next_run_time == due_at
    finally:
        await scheduler.shutdown(grace=2)
