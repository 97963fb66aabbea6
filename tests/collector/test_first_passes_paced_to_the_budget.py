"""A worker starting on many channels paces their first passes to its account's getHistory
budget (Telegram's flood limit, here the simulator's: N calls per 30 s per account), instead of
a burst that Telegram answers with FLOOD_WAIT. Without a budget the same start-up bursts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from monitor.config import parse_watchlist
from monitor.scheduler import ChannelScheduler, first_pass_calls
from tests.telegram_fixtures import fill

BUDGET = 5  # getHistory per 30 s: new channels (one call each) start until 80% is used: 4
CHANNELS = 12


async def _start(telegram, connect, make_pipeline, budget: int | None, prefix: str):
    names = [f"{prefix}_{i:02d}" for i in range(CHANNELS)]
    for name in names:
        fill(telegram, telegram.add_channel(name, name).id, 3)
    watchlist = parse_watchlist(
        "defaults: {poll_every: 1h, backfill: 10, media: []}\nchannels:\n"
        + "".join(f"  - handle: '@{name}'\n" for name in names)
    )
    scheduler = ChannelScheduler(make_pipeline(), await connect(), history_per_30s=budget)
    telegram.requests.reset()
    scheduler.start(watchlist)
    return scheduler, names


def _history(telegram) -> tuple[set[int], int, int]:
    """(channels read, getHistory calls answered, FLOOD_WAIT answers)."""
    calls = [e for e in telegram.requests.entries if e.name == "GetHistoryRequest"]
    floods = sum(1 for e in calls if e.error and e.error.startswith("FLOOD_WAIT"))
    read = {e.channel for e in calls if e.error is None}
    return read, len(calls) - floods, floods


async def test_first_passes_stay_within_the_budget_and_the_rest_wait_for_later_windows(
    telegram, connect, make_pipeline
):
    telegram.faults.rate_limit("GetHistoryRequest", BUDGET, 30.0)
    started = datetime.now(UTC)
    scheduler, names = await _start(telegram, connect, make_pipeline, BUDGET, "paced")
    try:
        await asyncio.sleep(5)
        read, answered, floods = _history(telegram)
        assert floods == 0
        assert len(read) == 4 and answered == 4  # the first window's share, used at once
        later = sorted(
            job.next_run_time
            for name in names
            if (job := scheduler.scheduler.get_job(f"poll:{name}")).next_run_time
            > datetime.now(UTC)
            and job.next_run_time - started < timedelta(minutes=30)
        )
        # The other 8 come 4 per 30 s window (plus the span of a pass and its re-check).
        assert len(later) == 8
        offsets = [(t - started).total_seconds() for t in later]
        assert all(32 < s < 39 for s in offsets[:4]) and all(65 < s < 72 for s in offsets[4:])
    finally:
        await scheduler.shutdown(grace=2)


async def test_without_a_budget_start_up_bursts_into_flood_waits(telegram, connect, make_pipeline):
    telegram.faults.rate_limit("GetHistoryRequest", BUDGET, 30.0)
    scheduler, _ = await _start(telegram, connect, make_pipeline, None, "burst")
    try:
        await asyncio.sleep(5)
        _, answered, floods = _history(telegram)
        assert answered == BUDGET and floods > 0  # what pacing avoids
    finally:
        await scheduler.shutdown(grace=2)


@pytest.mark.parametrize(("backfill", "calls", "first_window"), [(10, 1, 16), (150, 3, 7)])
def test_polls_of_channels_already_started_leave_less_room_for_first_passes(
    make_pipeline, backfill: int, calls: int, first_window: int
):
    """40 channels polled every minute on a 30-per-30 s account: each started channel's polls
    take half a call per window, so first passes thin out as channels start (one at a time at
    the end), never planning more than 80% of the budget. A first pass costs one getHistory
    call for a backfill of up to 100 posts (the newest page), three for 150 (the floor, a full
    page, a short one): fewer of those fit a window."""
    names = [f"minute_{i:02d}" for i in range(40)]
    watchlist = parse_watchlist(
        f"defaults: {{poll_every: 1m, backfill: {backfill}, media: []}}\nchannels:\n"
        + "".join(f"  - handle: '@{name}'\n" for name in names)
    )
    assert first_pass_calls(backfill) == calls
    scheduler = ChannelScheduler(make_pipeline(), None, history_per_30s=30)
    scheduler.apply(watchlist)
    times = sorted(scheduler.scheduler.get_job(f"poll:{name}").next_run_time for name in names)
    window = timedelta(seconds=30)
    for k, t in enumerate(times):
        passes = sum(1 for u in times if t - window < u <= t)
        started = sum(1 for u in times if u <= t - window)  # polling by now, every 60 s
        assert calls * passes + started * 30 / 60 <= 24 + calls, (k, passes, started)
    assert sum(1 for u in times if u - times[0] < window) == first_window
    # Fewer new channels each window as the started ones' polls take their share.
    per_window = [0] * (1 + int((times[-1] - times[0]) / window))
    for t in times:
        per_window[int((t - times[0]) / window)] += 1
    started = [n for n in per_window if n]
    assert len(started) >= 5 and started == sorted(started, reverse=True) and started[-1] < 3


async def test_the_plan_counts_the_calls_a_first_pass_makes(telegram, connect, make_pipeline):
    """What the plan counts per new channel is what a first pass sends: one channel of 250
    posts per backfill, each read once."""
    from tests.telegram_fixtures import spec

    backfills = (0, 1, 100, 101, 150, 200)
    for backfill in backfills:
        fill(telegram, telegram.add_channel(f"long_{backfill}", "Long").id, 250)
    client = await connect()
    pipeline = make_pipeline()
    sent = {}
    for backfill in backfills:
        telegram.requests.reset()
        report = await pipeline.collect(client, spec(f"long_{backfill}", backfill=backfill))
        assert report.ok and report.new == backfill
        sent[backfill] = telegram.requests.count("GetHistoryRequest")
    assert sent == {b: first_pass_calls(b) for b in backfills}


def test_a_first_pass_that_crosses_the_share_starts_in_the_window_that_still_had_room(
    make_pipeline,
):
    """A backfill of 1,000 costs up to 12 calls: two such channels on a 30-per-30 s account
    start together (the second crosses the 80% share, the limiter holds any excess), rather
    than the second waiting half a minute; a third, with the share used up, waits a window."""
    names = ["long_a", "long_b", "long_c"]
    watchlist = parse_watchlist(
        "defaults: {poll_every: 10s, backfill: 1000, media: []}\nchannels:\n"
        + "".join(f"  - handle: '@{name}'\n" for name in names)
    )
    scheduler = ChannelScheduler(make_pipeline(), None, history_per_30s=30)
    scheduler.apply(watchlist)
    a, b, c = (scheduler.scheduler.get_job(f"poll:{name}").next_run_time for name in names)
    assert (b - a).total_seconds() < 1
    assert (c - a).total_seconds() >= 30
