"""Each health problem, one alert when it starts and one when it ends, with the pipeline
collecting from the simulated Telegram through the real Telethon client and the tracker on a
clock the test moves (an hour of failed polls takes no hour). Alerts are read from the outbox,
where the worker would deliver them from (delivery itself: the daemon test next to this one)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from alerts import Route
from monitor.health import HealthTracker
from storage.models import alert_outbox, channel_health
from tests.telegram_fixtures import START, fill, spec


class Clock:
    def __init__(self) -> None:
        self.now = START + timedelta(days=1)

    def __call__(self) -> Any:
        return self.now


ROUTES = [
    Route.of("desk", ["memory://desk"], health=True),
    Route.of("flags", ["memory://flags"]),  # did not ask for health alerts
    Route.of("other-channels", ["memory://x"], channels=["someone_else"], health=True),
]


@pytest.fixture
async def desk(engine: AsyncEngine, telegram, connect, make_pipeline):
    clock = Clock()
    client = await connect()
    pipeline = make_pipeline(now=clock)

    class Desk:
        tracker = HealthTracker(engine, routes=lambda: ROUTES, now=clock)

        async def pass_(self, channel, *, job: str = "poll"):
            if job == "poll":
                report = await pipeline.collect(client, channel)
            else:
                report = await pipeline.recheck(client, channel)
            await self.tracker.observe(channel, report, job=job)
            return report

    pipeline.after_commit.append(Desk.tracker.after_commit)
    d = Desk()
    d.clock = clock
    await d.tracker.load()
    return d


async def health_rows(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    """(route, event, text) of every health alert queued, in order."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(alert_outbox).where(alert_outbox.c.kind == "health").order_by(alert_outbox.c.id)
        )
        return [
            (r.route, r.payload["message"]["health"], r.payload["message"]["text"]) for r in rows
        ]


async def test_failing_every_poll_for_an_hour_alerts_once_and_recovers_once(
    engine: AsyncEngine, telegram, desk
) -> None:
    channel = telegram.add_channel("alpha_sim", "Alpha")
    fill(telegram, channel.id, 3)
    alpha = spec("alpha_sim", label="Alpha desk")
    assert (await desk.pass_(alpha)).ok
    telegram.faults.fail("GetHistoryRequest", "SIMULATED_OUTAGE", times=1000)
    for minutes in (0, 20, 40, 59):  # failing, but not for an hour yet
        desk.clock.now = START + timedelta(days=1, minutes=minutes)
        assert (await desk.pass_(alpha)).error
    assert await health_rows(engine) == []

    # A restart: a new tracker reads when the streak began.
    desk.tracker = HealthTracker(engine, routes=lambda: ROUTES, now=desk.clock)
    await desk.tracker.load()
    for minutes in (61, 80, 120):
        desk.clock.now = START + timedelta(days=1, minutes=minutes)
        assert (await desk.pass_(alpha)).error
    rows = await health_rows(engine)
    assert [(route, event) for route, event, _ in rows] == [("desk", "failing")]
    assert "every poll of @alpha_sim has failed for 1h 1m" in rows[0][2]
    assert "SIMULATED_OUTAGE" in rows[0][2]

    telegram.faults.clear()
    desk.clock.now += timedelta(minutes=5)
    assert (await desk.pass_(alpha)).ok
    assert (await desk.pass_(alpha)).ok
    rows = await health_rows(engine)
    assert [(route, event) for route, event, _ in rows] == [
        ("desk", "failing"),
        ("desk", "recovered"),
    ]
    assert "@alpha_sim is back to normal (it was failing since" in rows[1][2]
    async with engine.connect() as conn:
        stored = (await conn.execute(select(channel_health))).one()
    assert (stored.problem, stored.failing_since, stored.episode) == (None, None, 1)


async def test_a_short_outage_raises_nothing(engine: AsyncEngine, telegram, desk) -> None:
    channel = telegram.add_channel("alpha_sim", "Alpha")
    fill(telegram, channel.id, 3)
    alpha = spec("alpha_sim")
    await desk.pass_(alpha)
    telegram.faults.fail("GetHistoryRequest", "SIMULATED_OUTAGE", times=2)
    await desk.pass_(alpha)
    desk.clock.now += timedelta(minutes=50)
    await desk.pass_(alpha)
    desk.clock.now += timedelta(minutes=50)  # 100 minutes after the first failure: it works
    assert (await desk.pass_(alpha)).ok
    assert await health_rows(engine) == []


async def test_banned_alerts_at_once(engine: AsyncEngine, telegram, desk) -> None:
    channel = telegram.add_channel("alpha_sim", "Alpha")
    fill(telegram, channel.id, 3)
    alpha = spec("alpha_sim")
    await desk.pass_(alpha)
    telegram.faults.fail("GetHistoryRequest", "CHANNEL_BANNED", times=2)
    await desk.pass_(alpha)
    await desk.pass_(alpha)
    assert [e for _, e, _ in await health_rows(engine)] == ["banned"]
    await desk.pass_(alpha)
    assert [e for _, e, _ in await health_rows(engine)] == ["banned", "recovered"]


async def test_renamed_is_seen_at_the_recheck_and_lasts_until_the_name_is_back(
    engine: AsyncEngine, telegram, desk
) -> None:
    channel = telegram.add_channel("alpha_sim", "Alpha")
    fill(telegram, channel.id, 3)
    alpha = spec("alpha_sim")
    await desk.pass_(alpha)
    telegram.rename_channel(channel.id, username="alpha_renamed")
    await desk.pass_(alpha)  # polls by the cached access hash still work: nothing seen yet
    assert await health_rows(engine) == []
    await desk.pass_(alpha, job="recheck")  # channel info: the username changed
    await desk.pass_(alpha)
    await desk.pass_(alpha, job="recheck")
    rows = await health_rows(engine)
    assert [e for _, e, _ in rows] == ["renamed"]
    assert "it is now @alpha_renamed; change the handle in channels.yaml" in rows[0][2]
    telegram.rename_channel(channel.id, username="alpha_sim")
    await desk.pass_(alpha, job="recheck")
    assert [e for _, e, _ in await health_rows(engine)] == ["renamed", "recovered"]


async def test_a_handle_that_no_longer_resolves_is_reported_renamed(
    engine: AsyncEngine, telegram, desk
) -> None:
    telegram.add_channel("alpha_sim", "Alpha")
    await desk.pass_(spec("gone_sim"))  # never resolved, and Telegram does not know it
    rows = await health_rows(engine)
    assert [e for _, e, _ in rows] == ["renamed"]
    assert "@gone_sim no longer resolves" in rows[0][2]


async def test_silence_needs_silent_after_and_ends_with_a_new_post(
    engine: AsyncEngine, telegram, desk
) -> None:
    quiet = telegram.add_channel("quiet_sim", "Quiet")
    fill(telegram, quiet.id, 3)  # posted on START; the clock is a day later
    await desk.pass_(spec("quiet_sim"))  # silent_after not set: never silent
    assert await health_rows(engine) == []
    watched = spec("quiet_sim", silent_after=timedelta(hours=12))
    await desk.pass_(watched)
    await desk.pass_(watched)
    rows = await health_rows(engine)
    assert [e for _, e, _ in rows] == ["silent"]
    assert "has posted nothing for 23h 58m" in rows[0][2]
    telegram.post(quiet.id, "back", date=desk.clock.now)
    await desk.pass_(watched)
    await desk.pass_(watched)
    assert [e for _, e, _ in await health_rows(engine)] == ["silent", "recovered"]


async def test_private_then_public_in_the_simulator(engine: AsyncEngine, telegram, desk) -> None:
    channel = telegram.add_channel("alpha_sim", "Alpha")
    fill(telegram, channel.id, 2)
    alpha = spec("alpha_sim")
    await desk.pass_(alpha)
    telegram.make_private(channel.id)
    assert telegram.channel_by_username("alpha_sim") is None  # the name is free
    report = await desk.pass_(alpha)
    assert report.problem == "private"
    desk.clock.now += timedelta(hours=2)  # also failing every poll for an hour now: same episode
    assert (await desk.pass_(alpha)).problem == "private"
    assert [e for _, e, _ in await health_rows(engine)] == ["private"]
    telegram.make_public(channel.id)
    assert (await desk.pass_(alpha)).ok
    assert [e for _, e, _ in await health_rows(engine)] == ["private", "recovered"]
