"""Delivery through Apprise ``json://`` to a real HTTP server on loopback, on both backends."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from alerts import (
    OutboxWorker,
    RetryPolicy,
    Route,
    deliver_due,
    list_outbox,
    retry_all_failed,
    sinks_for_routes,
)
from storage.models import alert_outbox
from tests.alerts.conftest import Desk, Receiver
from tests.factories import BASE_TIME

POLICY = RetryPolicy(base=timedelta(seconds=10), cap=timedelta(minutes=5), max_attempts=4)
LATER = POLICY.cap + timedelta(seconds=1)  # every backoff has run out by then


async def test_one_delivery_per_route_however_many_entities(
    engine: AsyncEngine, receiver: Receiver
):
    routes = [
        Route.of("desk", [receiver.url("/desk")]),
        Route.of("iraq", [receiver.url("/iraq")], entities=["qais", "kataib"]),
        Route.of("elsewhere", [receiver.url("/other")], channels=[42]),
    ]
    desk = Desk(engine, routes)
    text = "Hezbollah, Qais al-Khazali and Kataib Hezbollah met today."
    await desk.flag_post(text, ["hezbollah", "qais", "kataib"], photos=2)

    report = await deliver_due(engine, sinks_for_routes(routes), now=BASE_TIME, policy=POLICY)

    assert report.delivered == 2
    by_path = {r.path: r for r in receiver.accepted}
    assert sorted(by_path) == ["/desk", "/iraq"]  # channel 42 only for "elsewhere"
    assert len(receiver.requests) == 2
    desk_alert = by_path["/desk"].body
    assert desk_alert["idempotency_key"] == by_path["/desk"].key
    for name in ("Hezbollah", "Qais al-Khazali", "Kataib Hezbollah"):
        assert name in desk_alert["title"]
    assert "Photos: 2" in desk_alert["message"]
    assert "https://t.me/some_channel/" in desk_alert["message"]
    # A second pass finds nothing due: nothing is sent twice.
    again = await deliver_due(engine, sinks_for_routes(routes), now=BASE_TIME + LATER)
    assert again.delivered == 0 and len(receiver.requests) == 2


async def test_down_then_500_then_back_delivers_each_once_in_order(
    engine: AsyncEngine, receiver: Receiver
):
    routes = [Route.of("desk", [receiver.url()])]
    sinks = sinks_for_routes(routes)
    desk = Desk(engine, routes)
    rng = random.Random(7)
    receiver.stop()  # refusing connections
    now = BASE_TIME
    for i in range(20):
        await desk.flag_post(f"Report {i}: Hezbollah statement", ["hezbollah"], now=now)
        now += timedelta(seconds=1)
        report = await deliver_due(engine, sinks, now=now, policy=POLICY, rng=rng)
        assert report.delivered == 0
    assert receiver.requests == []

    receiver.mode = "error"
    receiver.start()
    now += LATER
    report = await deliver_due(engine, sinks, now=now, policy=POLICY, rng=rng)
    assert report.delivered == 0 and report.retrying == 1
    assert [r.answered for r in receiver.requests] == [500]  # later rows wait behind the first

    receiver.mode = "ok"
    now += LATER
    report = await deliver_due(engine, sinks, now=now, policy=POLICY, rng=rng)

    assert report.delivered == 20
    texts = [r.body["message"] for r in receiver.accepted]
    assert [next(i for i in range(20) if f"Report {i}:" in t) for t in texts] == list(range(20))
    keys = [r.key for r in receiver.accepted]
    assert len(set(keys)) == 20
    first, *rest = sorted(await list_outbox(engine), key=lambda r: r.id)
    assert {r.status for r in [first, *rest]} == {"delivered"}
    assert first.attempts >= 3  # refused (maybe more than once), 500, delivered
    assert {r.attempts for r in rest} == {1}  # never tried while the first was failing


async def test_gives_up_after_max_attempts_then_retry_all_failed(
    engine: AsyncEngine, receiver: Receiver
):
    routes = [Route.of("desk", [receiver.url()])]
    sinks = sinks_for_routes(routes)
    await Desk(engine, routes).flag_post("Hezbollah again", ["hezbollah"])
    receiver.mode = "error"
    now = BASE_TIME
    for _ in range(POLICY.max_attempts):
        await deliver_due(engine, sinks, now=now, policy=POLICY)
        now += LATER
    [row] = await list_outbox(engine, status="failed")
    assert row.attempts == POLICY.max_attempts
    assert "500" in (row.last_error or "")
    assert str(receiver.port) in (row.last_error or "")

    receiver.mode = "ok"
    assert await retry_all_failed(engine, now=now) == 1
    report = await deliver_due(engine, sinks, now=now, policy=POLICY)
    assert report.delivered == 1
    assert [r.key for r in receiver.accepted] == [row.idempotency_key]


async def test_followup_when_a_flag_is_added_to_an_alerted_post(
    engine: AsyncEngine, receiver: Receiver
):
    routes = [Route.of("desk", [receiver.url()])]
    sinks = sinks_for_routes(routes)
    desk = Desk(engine, routes)
    text = "Hezbollah statement. Later: Qais al-Khazali responded."
    post_id = await desk.flag_post(text, ["hezbollah"])
    await deliver_due(engine, sinks, now=BASE_TIME)
    await desk.flag_existing(post_id, text, ["qais"], now=BASE_TIME + timedelta(minutes=5))
    # Re-running the enqueue (a re-read batch) adds nothing.
    await desk.flag_existing(post_id, text, ["qais"], now=BASE_TIME + timedelta(minutes=6))
    await deliver_due(engine, sinks, now=BASE_TIME + timedelta(minutes=7))

    first, update = receiver.accepted
    assert first.key.endswith(":alert:0") and update.key.endswith(":followup:1")
    assert update.body["title"].startswith("Update:")
    assert "now mentions Qais al-Khazali" in update.body["message"]


async def test_a_flag_arriving_before_the_alert_left_is_merged(
    engine: AsyncEngine, receiver: Receiver
):
    routes = [Route.of("desk", [receiver.url()])]
    desk = Desk(engine, routes)
    text = "Hezbollah and Qais al-Khazali"
    post_id = await desk.flag_post(text, ["hezbollah"])
    await desk.flag_existing(post_id, text, ["qais"], now=BASE_TIME)
    await deliver_due(engine, sinks_for_routes(routes), now=BASE_TIME)
    [only] = receiver.accepted
    assert "Hezbollah" in only.body["title"] and "Qais al-Khazali" in only.body["title"]


async def test_digest_route_gets_one_message_for_many_flags(
    engine: AsyncEngine, receiver: Receiver
):
    window = timedelta(minutes=10)
    routes = [
        Route.of("daily", [receiver.url("/digest")], digest=window),
        Route.of("desk", [receiver.url("/desk")]),
    ]
    sinks = sinks_for_routes(routes)
    desk = Desk(engine, routes)
    for i in range(6):
        await desk.flag_post(
            f"Item {i}: Hezbollah", ["hezbollah"], now=BASE_TIME + timedelta(minutes=i)
        )
        await deliver_due(engine, sinks, now=BASE_TIME + timedelta(minutes=i))
    assert [r.path for r in receiver.accepted] == ["/desk"] * 6  # digest waits for its window

    await deliver_due(engine, sinks, now=BASE_TIME + window)
    digests = [r for r in receiver.accepted if r.path == "/digest"]
    assert len(digests) == 1
    assert digests[0].body["title"].startswith("Digest: 6 alerts")
    assert all(f"Item {i}:" in digests[0].body["message"] for i in range(6))
    async with engine.connect() as conn:
        statuses = set((await conn.execute(select(alert_outbox.c.status))).scalars())
    assert statuses == {"delivered"}


async def test_worker_delivers_after_wake_and_drain_flushes(
    engine: AsyncEngine, receiver: Receiver
):
    routes = [
        Route.of("desk", [receiver.url()]),
        Route.of("daily", [receiver.url("/digest")], digest=timedelta(hours=1)),
    ]
    worker = OutboxWorker(engine, sinks_for_routes(routes), policy=POLICY)
    desk = Desk(engine, routes)
    now = datetime.now(UTC)
    await desk.flag_post("Hezbollah one", ["hezbollah"], now=now)
    await desk.flag_post("Hezbollah two", ["hezbollah"], now=now)
    worker.wake()
    report = await worker.drain(timeout=30)
    assert report.remaining == 0
    assert sorted(r.path for r in receiver.accepted) == ["/digest", "/hook", "/hook"]


async def test_run_forever_delivers_on_wake_and_stops(engine: AsyncEngine, receiver: Receiver):
    routes = [Route.of("desk", [receiver.url()])]
    # A poll interval far beyond the test timeout: only wake() can make this delivery happen.
    worker = OutboxWorker(engine, sinks_for_routes(routes), policy=POLICY, poll_interval=3600)
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    await asyncio.sleep(0)
    await Desk(engine, routes).flag_post("Hezbollah now", ["hezbollah"], now=datetime.now(UTC))
    worker.wake()
    assert await asyncio.to_thread(receiver.arrived.wait, 60)
    stop.set()
    await asyncio.wait_for(task, 60)
    assert len(receiver.accepted) == 1 and worker.totals.delivered == 1


async def test_rows_of_a_route_removed_from_the_config_fail_at_once_and_can_be_retried(
    engine: AsyncEngine,
):
    from alerts import OutboxWorker, retry_all_failed
    from alerts.sinks.memory import MemorySink

    routes = [Route.of("old-desk", ["memory://old"])]
    await Desk(engine, routes).flag_post("Hezbollah statement", ["hezbollah"])

    worker = OutboxWorker(engine, {}, policy=POLICY)  # the route is gone from channels.yaml
    report = await worker.drain(5)

    assert (report.failed, report.remaining) == (1, 0)  # no waiting out the backoff
    [row] = await list_outbox(engine, status="failed")
    assert "route 'old-desk' is not configured" in row.last_error
    assert "monitor alerts retry --all-failed" in row.last_error

    sink = MemorySink()
    worker.sinks = {"old-desk": [sink]}  # the route is restored
    assert await retry_all_failed(engine) == 1
    assert (await worker.drain(5)).delivered == 1
    assert len(sink.deliveries) == 1
