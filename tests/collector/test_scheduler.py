"""Scheduling: flood waits park one channel only, errors back off, reloads change the jobs."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from monitor.config import parse_watchlist
from monitor.scheduler import ChannelScheduler, backoff
from monitor.simulator.photos import generate_jpeg
from storage import get_state
from tests.telegram_fixtures import START, fill, spec


class Clock:
    def __init__(self) -> None:
        self.now = START + timedelta(days=30)

    def __call__(self):  # noqa: ANN204
        return self.now


async def test_flood_wait_parks_one_channel_and_the_others_are_collected(
    telegram, connect, make_pipeline, engine
):
    ids = {}
    for name in ("chan_a", "chan_b", "chan_c"):
        ids[name] = telegram.add_channel(name, name.upper()).id
        fill(telegram, ids[name], 10)
    clock = Clock()
    client = await connect()
    scheduler = ChannelScheduler(make_pipeline(now=clock), client, now=clock)
    scheduler.specs = {name: spec(name) for name in ids}
    for name in ids:
        await scheduler.poll(name)
    for name in ids:
        fill(telegram, ids[name], 5, start=START + timedelta(days=1))
    # Telegram answers chan_a's next history request with a two-minute flood wait.
    telegram.faults.flood_wait("GetHistoryRequest", 120, on_call=1)

    a = await scheduler.poll("chan_a")
    b = await scheduler.poll("chan_b")
    c = await scheduler.poll("chan_c")

    assert a.parked_until == clock.now + timedelta(seconds=120)
    assert (b.ok, b.new, c.ok, c.new) == (True, 5, True, 5)
    async with engine.connect() as conn:  # parked in storage: a restart respects it too
        state = await get_state("default", ids["chan_a"], conn=conn)
    assert state.flood_wait_until == a.parked_until

    telegram.requests.reset()
    still_parked = await scheduler.poll("chan_a")
    assert still_parked.parked_until == a.parked_until
    assert telegram.requests.count() == 0  # nothing is sent for a parked channel

    clock.now += timedelta(seconds=121)
    # Telethon keeps its own wall-clock note of the wait; a new connection stands in for it
    # having expired, as it would have after two real minutes.
    scheduler.client = await connect()
    resumed = await scheduler.poll("chan_a")
    assert resumed.ok and resumed.new == 5


async def test_repeated_errors_back_off_exponentially_up_to_an_hour():
    every = timedelta(minutes=2)
    assert [backoff(every, n) for n in range(5)] == [
        every,
        every,
        every * 2,
        every * 4,
        every * 8,
    ]
    assert backoff(every, 20) == timedelta(hours=1)


async def test_a_changed_watchlist_adds_removes_and_reschedules_jobs(
    telegram, connect, make_pipeline
):
    scheduler = ChannelScheduler(make_pipeline(), await connect())
    before = parse_watchlist(
        "channels:\n  - handle: '@chan_a'\n  - handle: '@chan_b'\n    poll_every: 2m\n"
    )
    after = parse_watchlist(
        "channels:\n  - handle: '@chan_b'\n    poll_every: 30s\n  - handle: '@chan_c'\n"
    )
    scheduler.apply(before)
    assert {job.id for job in scheduler.scheduler.get_jobs()} == {
        "poll:chan_a",
        "recheck:chan_a",
        "poll:chan_b",
        "recheck:chan_b",
    }

    scheduler.apply(after)

    jobs = {job.id: job for job in scheduler.scheduler.get_jobs()}
    assert set(jobs) == {"poll:chan_b", "recheck:chan_b", "poll:chan_c", "recheck:chan_c"}
    assert jobs["poll:chan_b"].trigger.interval == timedelta(seconds=30)


async def test_the_account_wide_limit_bounds_concurrent_passes(telegram, connect, make_pipeline):
    import asyncio

    client = await connect()

    async def busiest(limit: int, prefix: str) -> int:
        names = [f"{prefix}_{c}" for c in "abcd"]
        for name in names:
            fill(telegram, telegram.add_channel(name, name).id, 3)
        active = peak = 0
        overlap = asyncio.Event()

        async def slow_step(batch):  # noqa: ANN001 - slow work after each commit (e.g. alerts)
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            if active > 1:
                overlap.set()
            # Linger until another pass joins: deterministic overlap when the limit allows it
            # (bounded; with a limit of one, nobody can join and each step waits briefly).
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(overlap.wait(), 0.2 if limit == 1 else 30)
            active -= 1

        scheduler = ChannelScheduler(
            make_pipeline(after_commit=[slow_step]), client, max_concurrent=limit
        )
        scheduler.specs = {name: spec(name) for name in names}
        reports = await asyncio.gather(*(scheduler.poll(name) for name in names))
        assert all(r.new == 3 for r in reports)
        return peak

    assert await busiest(1, "one") == 1
    assert await busiest(4, "four") > 1  # the same passes do overlap without the limit


async def _eventually(check, *, seconds: float = 10.0) -> None:  # noqa: ANN001
    """Wait for an async condition (bounded); pushed updates arrive on their own schedule."""

    for _ in range(int(seconds / 0.05)):
        if await check():
            return
    raise AssertionError("condition not reached")


async def test_pushed_edits_and_deletions_of_old_posts_are_recorded(
    telegram, connect, make_pipeline, engine
):
    import asyncio

    from sqlalchemy import func, select

    from monitor.service import follow_updates
    from storage.models import post, post_version

    channel = telegram.add_channel("chan_a", "A")
    telegram.join("default", channel.id)  # the account follows the channel: updates are pushed
    old = telegram.post(channel.id, "statement of 2024", date=START)  # far outside the window
    other = telegram.post(channel.id, "another", date=START + timedelta(minutes=1))
    client = await connect()
    scheduler = ChannelScheduler(make_pipeline(), client)
    scheduler.specs = {"chan_a": spec("chan_a")}
    await scheduler.poll("chan_a")
    follow_updates(client, scheduler)

    telegram.edit(channel.id, old.id, "statement of 2024 (amended)")
    telegram.delete(channel.id, [other.id])

    async def recorded() -> bool:
        await asyncio.sleep(0.05)
        async with engine.connect() as conn:
            versions = (
                await conn.execute(select(func.count()).select_from(post_version))
            ).scalar_one()
            deleted = (
                await conn.execute(select(post.c.deleted_at).where(post.c.message_id == other.id))
            ).scalar_one()
        return versions == 3 and deleted is not None

    await _eventually(recorded)


class BlockingPipeline:
    """A stand-in pipeline whose passes start, are recorded, and wait until released."""

    def __init__(self) -> None:
        import asyncio

        self.stopping = asyncio.Event()
        self.channel_keys: dict[int, str] = {}
        self.started: list[str] = []
        self.release: dict[str, asyncio.Event] = {}
        self.flushes = 0

    async def collect(self, client, spec):  # noqa: ANN001, ANN201
        import asyncio

        from monitor.pipeline import ChannelReport

        self.started.append(spec.key)
        await self.release.setdefault(spec.key, asyncio.Event()).wait()
        return ChannelReport(spec.key)

    async def flush(self) -> int:
        self.flushes += 1
        return 0

    def let_go(self, key: str) -> None:
        import asyncio

        self.release.setdefault(key, asyncio.Event()).set()


async def _settle(condition, what: str) -> None:  # noqa: ANN001
    """Let the event loop run until ``condition()`` holds (bounded; no wall-clock waits)."""
    import asyncio

    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"not reached: {what}")


async def test_pushed_polls_run_before_queued_scheduled_polls_when_every_slot_is_busy():
    import asyncio

    pipeline = BlockingPipeline()
    scheduler = ChannelScheduler(pipeline, client=None, max_concurrent=2, pushed_slots=1)
    scheduler.specs = {name: spec(name) for name in ("sched_a", "sched_b", "sched_c", "sched_d")}
    scheduler.specs |= {name: spec(name) for name in ("push_p", "push_q")}
    # Scheduled polls fill both slots; two more wait for one.
    for name in ("sched_a", "sched_b", "sched_c", "sched_d"):
        await scheduler._due(name, "poll")
    await _settle(lambda: len(pipeline.started) == 2, "two scheduled passes running")
    assert pipeline.started == ["sched_a", "sched_b"]

    scheduler.nudge("push_p")  # a pushed update: the slot kept for pushed work takes it at once
    await _settle(lambda: len(pipeline.started) == 3, "the pushed pass running")
    scheduler.nudge("push_q")  # every slot busy now: it waits, in the pushed lane
    await _settle(lambda: scheduler._slots.waiting == 3, "the pushed pass waiting")
    scheduler.nudge("sched_d")  # a queued scheduled poll named by an update moves up too
    for _ in range(20):
        await asyncio.sleep(0)
    assert pipeline.started == ["sched_a", "sched_b", "push_p"]

    for name in ("sched_a", "sched_b", "push_p", "push_q", "sched_d", "sched_c"):
        pipeline.let_go(name)
    await _settle(lambda: len(pipeline.started) == 6, "every pass run")
    await _settle(lambda: not scheduler._busy, "every pass finished")

    assert pipeline.started == ["sched_a", "sched_b", "push_p", "push_q", "sched_d", "sched_c"]
    assert scheduler.totals["polls"] == 6


async def test_a_poll_slower_than_its_interval_skips_runs_quietly_instead_of_piling_them_up(
    caplog,
):
    import asyncio
    import logging

    from apscheduler.triggers.interval import IntervalTrigger

    pipeline = BlockingPipeline()
    scheduler = ChannelScheduler(pipeline, client=None)
    caplog.set_level(logging.WARNING)
    scheduler.start(parse_watchlist("channels:\n  - handle: '@slow_chan'\n    poll_every: 10s\n"))
    try:
        # A run every 20 ms, and a pass that takes until released.
        scheduler.scheduler.reschedule_job("poll:slow_chan", trigger=IntervalTrigger(seconds=0.02))
        for _ in range(500):
            if scheduler.totals["skipped"] >= 5:
                break
            await asyncio.sleep(0.02)

        assert scheduler.totals["skipped"] >= 5
        assert pipeline.started == ["slow_chan"]  # one pass at a time, no queue of runs
        assert len(scheduler._pending) == 1
        assert not [r for r in caplog.records if "maximum number of running" in r.getMessage()]
        assert not [r for r in caplog.records if r.name.startswith("apscheduler")]

        pipeline.let_go("slow_chan")
        await _settle(lambda: scheduler.totals["polls"] >= 1, "the slow pass finished")
    finally:
        await scheduler.shutdown(grace=1)
    assert pipeline.flushes >= 1  # idle polls' times are written on the way out


async def test_new_channels_first_polls_are_spread_out(telegram, connect, make_pipeline):
    scheduler = ChannelScheduler(make_pipeline(), await connect())
    channels = "".join(f"  - handle: '@spread_{i:04d}'\n" for i in range(500))
    scheduler.apply(parse_watchlist(f"defaults: {{poll_every: 10s}}\nchannels:\n{channels}"))

    firsts = sorted(
        job.next_run_time for job in scheduler.scheduler.get_jobs() if job.id.startswith("poll:")
    )
    assert len(firsts) == 500
    assert firsts[-1] - firsts[0] > timedelta(seconds=5)  # ~10 s: not all at once
    assert firsts[-1] - firsts[0] < timedelta(seconds=11)  # about one interval at most
    rechecks = sorted(
        job.next_run_time for job in scheduler.scheduler.get_jobs() if job.id.startswith("recheck:")
    )
    # Every channel is re-checked soon after start (catch-up after downtime), spread out too.
    assert rechecks[-1] - rechecks[0] > timedelta(seconds=30)  # not all at once
    assert rechecks[-1] - firsts[0] < timedelta(minutes=5)  # not left for the 30-minute re-check


async def _fail_post_inserts(engine, message: str) -> None:
    """Every insert into ``post`` fails inside the database, as a lock or a full disk would."""
    from sqlalchemy import text

    async with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execute(
                text(
                    "CREATE TRIGGER fail_posts BEFORE INSERT ON post "
                    f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE FUNCTION fail_posts() RETURNS trigger LANGUAGE plpgsql AS "
                    f"$$ BEGIN RAISE EXCEPTION '{message}'; END $$"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER fail_posts BEFORE INSERT ON post "
                    "FOR EACH ROW EXECUTE FUNCTION fail_posts()"
                )
            )


async def test_a_batch_the_database_refuses_counts_as_an_error_backs_off_and_shows_in_status(
    telegram, connect, make_pipeline, engine, db_url, tmp_path
):
    from monitor.settings import Settings
    from monitor.status import collect_status

    channel = telegram.add_channel("chan_db", "DB")
    fill(telegram, channel.id, 5)
    clock = Clock()
    scheduler = ChannelScheduler(make_pipeline(now=clock), await connect(), now=clock)
    watchlist = parse_watchlist("channels:\n  - handle: '@chan_db'\n    poll_every: 2m\n")
    scheduler.apply(watchlist)
    await _fail_post_inserts(engine, "database or disk is full")

    first = await scheduler.poll("chan_db")
    job = scheduler.scheduler.get_job("poll:chan_db")
    after_first = job.next_run_time
    clock.now += timedelta(minutes=2)
    second = await scheduler.poll("chan_db")
    job = scheduler.scheduler.get_job("poll:chan_db")

    assert first.error and "database or disk is full" in first.error
    assert second.error and not second.ok
    assert scheduler.totals["errors"] == 2
    # Backed off: two minutes after the first failure, four after the second.
    assert after_first == START + timedelta(days=30, minutes=2)
    assert job.next_run_time == clock.now + timedelta(minutes=4)
    channels_file = tmp_path / "channels.yaml"
    channels_file.write_text("channels:\n  - handle: '@chan_db'\n    poll_every: 2m\n")
    settings = Settings(data_dir=tmp_path, channels_file=channels_file, database_url=db_url)
    rows, _ = await collect_status(settings)
    assert rows[0]["errors"] == 2
    assert "database or disk is full" in rows[0]["last_error"]
    assert "database or disk is full" in rows[0]["note"]


async def test_the_recheck_runs_every_30_minutes(telegram, connect, make_pipeline):
    from monitor.pipeline import RECHECK_WINDOW

    scheduler = ChannelScheduler(make_pipeline(), await connect())
    scheduler.apply(parse_watchlist("channels:\n  - handle: '@chan_a'\n"))

    recheck = scheduler.scheduler.get_job("recheck:chan_a")
    assert recheck.trigger.interval == timedelta(minutes=30)
    # After a run (the catch-up at start, say), the next comes 30 minutes on (up to 30 s jitter).
    ran = recheck.next_run_time
    after = recheck.trigger.get_next_fire_time(ran, ran)
    assert timedelta(minutes=30) <= after - ran <= timedelta(minutes=30, seconds=30)
    assert RECHECK_WINDOW >= timedelta(minutes=30)  # each re-check overlaps the previous one


async def test_after_telegram_reconnects_every_channel_is_rechecked_soon(
    telegram, connect, make_pipeline
):
    import asyncio

    from monitor.service import catch_up_after_reconnects

    for name in ("chan_a", "chan_b"):
        fill(telegram, telegram.add_channel(name, name.upper()).id, 3)
    clock = Clock()
    client = await connect()
    scheduler = ChannelScheduler(make_pipeline(now=clock), client, now=clock)
    scheduler.apply(parse_watchlist("channels:\n  - handle: '@chan_a'\n  - handle: '@chan_b'\n"))
    rechecks = [scheduler.scheduler.get_job(f"recheck:{n}") for n in ("chan_a", "chan_b")]
    for job in rechecks:  # the catch-up at start has run: the next re-check is far off
        job.modify(next_run_time=clock.now + timedelta(minutes=25))
    catch_up_after_reconnects(client, scheduler)
    telegram.faults.drop_connection("GetHistoryRequest")  # the connection drops mid-poll

    report = await scheduler.poll("chan_a")

    assert report.ok and report.new == 3  # Telethon reconnected and the poll went on
    soon = clock.now + timedelta(minutes=1)
    for _ in range(200):  # the reconnect callback runs as its own task
        if all(scheduler.scheduler.get_job(j.id).next_run_time < soon for j in rechecks):
            break
        await asyncio.sleep(0.01)
    assert [scheduler.scheduler.get_job(j.id).next_run_time < soon for j in rechecks] == [
        True,
        True,
    ]


class StalledFlushPipeline(BlockingPipeline):
    """Writing the poll times hangs (a locked database), so shutdown lands mid-write."""

    async def flush(self) -> int:
        import asyncio

        self.flushes += 1
        await asyncio.Event().wait()
        return 0


async def test_shutdown_during_a_running_job_logs_no_error(caplog):
    import asyncio
    import logging

    from apscheduler.triggers.interval import IntervalTrigger

    pipeline = StalledFlushPipeline()
    scheduler = ChannelScheduler(pipeline, client=None)
    caplog.set_level(logging.INFO)
    scheduler.start(parse_watchlist("channels:\n  - handle: '@chan_a'\n    poll_every: 1h\n"))
    scheduler.scheduler.reschedule_job("flush", trigger=IntervalTrigger(seconds=0.02))
    for _ in range(500):
        if pipeline.flushes:
            break
        await asyncio.sleep(0.02)
    assert pipeline.flushes  # the flush job is running (and stuck)

    await scheduler.shutdown(grace=1)
    for _ in range(10):
        await asyncio.sleep(0)

    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# Telegram's other flood errors park a channel like FLOOD_WAIT does.


async def test_flood_premium_wait_on_a_photo_download_parks_the_channel_not_an_error(
    telegram, connect, make_pipeline, engine
):
    # Telegram answers upload.getFile of non-Premium accounts with FLOOD_PREMIUM_WAIT_<s>,
    # which Telethon raises as FloodPremiumWaitError (not a FloodWaitError subclass).
    channel = telegram.add_channel("chan_a", "Channel A")
    telegram.post(channel.id, "photo", date=START, photo=generate_jpeg(5, label="p"))
    telegram.faults.flood_wait("GetFileRequest", 600, error="FLOOD_PREMIUM_WAIT")
    clock = Clock()

    report = await make_pipeline(now=clock).collect(await connect(), spec("chan_a"))

    assert report.error is None
    assert report.parked_until == clock.now + timedelta(seconds=600)
    async with engine.connect() as conn:
        state = await get_state("default", channel.id, conn=conn)
    assert state.flood_wait_until == report.parked_until
    assert state.consecutive_errors == 0 and state.last_error is None
