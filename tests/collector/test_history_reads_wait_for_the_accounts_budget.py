"""An account's getHistory budget is kept on our side: reads beyond it wait for room in the
window instead of running into FLOOD_WAIT, reads for pushed updates go first, and a channel
just read for a pushed update is not polled again before its interval is up.

The simulator here limits each account to ``CALLS`` getHistory per ``WINDOW`` seconds (a short
window, so the test does not wait half a minute), like Telegram does per 30 s."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from monitor.budget import PUSHED, HistoryBudget
from monitor.config import parse_watchlist
from monitor.scheduler import ChannelScheduler
from monitor.telegram import limit_history
from tests.telegram_fixtures import fill

CALLS = 6
WINDOW = 2.0


def _channels(telegram, n: int, prefix: str) -> list[str]:
    names = [f"{prefix}_{i:02d}" for i in range(n)]
    for name in names:
        fill(telegram, telegram.add_channel(name, name).id, 2)
    return names


def _reads(telegram):
    return [e for e in telegram.requests.entries if e.name == "GetHistoryRequest"]


async def _read_all(client, names: list[str]) -> None:
    peers = [await client.get_input_entity(name) for name in names]
    await asyncio.gather(*(client.get_messages(peer, limit=1) for peer in peers))


async def test_a_burst_beyond_the_budget_waits_for_room_instead_of_flooding(telegram, connect):
    telegram.faults.rate_limit("GetHistoryRequest", CALLS, WINDOW)
    names = _channels(telegram, 3 * CALLS, "burst")
    client = await connect()
    budget = HistoryBudget(CALLS, window=WINDOW)
    limit_history(client, budget)
    telegram.requests.reset()

    await _read_all(client, names)

    reads = _reads(telegram)
    assert [e.error for e in reads] == [None] * len(names)  # every read answered, none flooded
    assert {e.channel for e in reads} == {telegram.channel_by_username(n).id for n in names}
    times = sorted(e.at.timestamp() for e in reads)
    # Never more than the limiter's share of the budget in any window, as Telegram counts.
    assert max(sum(1 for u in times if t <= u < t + WINDOW) for t in times) <= budget.calls
    assert budget.calls < CALLS and budget.waited == len(names) - budget.calls


async def test_without_the_limit_the_same_burst_floods(telegram, connect):
    telegram.faults.rate_limit("GetHistoryRequest", CALLS, WINDOW)
    names = _channels(telegram, 3 * CALLS, "unlimited")
    client = await connect()
    telegram.requests.reset()

    peers = [await client.get_input_entity(n) for n in names]
    results = await asyncio.gather(
        *(client.get_messages(peer, limit=1) for peer in peers), return_exceptions=True
    )

    assert sum(isinstance(r, Exception) for r in results) == len(names) - CALLS
    assert sum(1 for e in _reads(telegram) if e.error) == len(names) - CALLS


async def test_a_read_for_a_pushed_update_goes_ahead_of_queued_polls(telegram, connect):
    telegram.faults.rate_limit("GetHistoryRequest", CALLS, WINDOW)
    names = _channels(telegram, 12, "lanes")
    client = await connect()
    budget = HistoryBudget(CALLS, window=WINDOW, share=1.0)
    limit_history(client, budget)
    peers = {n: await client.get_input_entity(n) for n in names}
    telegram.requests.reset()

    scheduled = [asyncio.create_task(client.get_messages(peers[n], limit=1)) for n in names[:-1]]
    await asyncio.sleep(0.2)  # the window is full: five scheduled reads wait

    async def pushed() -> None:
        PUSHED.set(True)
        await client.get_messages(peers[names[-1]], limit=1)

    await asyncio.gather(asyncio.create_task(pushed()), *scheduled)

    order = [e.channel for e in _reads(telegram)]
    assert all(e.error is None for e in _reads(telegram))
    assert order.index(telegram.channel_by_username(names[-1]).id) == CALLS  # first after room


async def test_a_channel_read_for_a_pushed_update_is_next_polled_an_interval_later(
    telegram, connect, make_pipeline
):
    (name,) = _channels(telegram, 1, "pushed")
    watchlist = parse_watchlist(
        f"defaults: {{poll_every: 10m, backfill: 5, media: []}}\nchannels:\n  - handle: '@{name}'\n"
    )
    scheduler = ChannelScheduler(make_pipeline(), await connect(), history_per_30s=30)
    scheduler.start(watchlist)
    try:
        job = scheduler.scheduler.get_job(f"poll:{name}")
        await scheduler.poll(name)  # the first pass, now
        job.modify(next_run_time=scheduler.now() + timedelta(seconds=30))  # due again soon
        telegram.post(telegram.channel_by_username(name).id, "news pushed to a joined account")

        scheduler.nudge(name)  # what an update handler does for a new post
        for _ in range(200):  # the pushed poll runs in its own task
            if not scheduler.is_busy(name):
                break
            await asyncio.sleep(0.05)

        assert scheduler.reports[name].new == 1
        due = scheduler.scheduler.get_job(f"poll:{name}").next_run_time - scheduler.now()
        assert timedelta(minutes=9, seconds=55) < due <= timedelta(minutes=10)
    finally:
        await scheduler.shutdown(grace=2)
