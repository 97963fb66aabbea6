"""Queueing and delivery: one row per (post, route), albums as one post, filters, review-gated
routes; sinks, claims, retries and follow-ups as the desk receives them."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from alerts import (
    AlertMessage,
    RetryPolicy,
    Route,
    deliver_due,
    digest_due_at,
    enqueue_for_post,
    list_outbox,
    retry_all_failed,
    sinks_for_routes,
)
from alerts.sinks import MemorySink
from storage import (
    MediaRecord,
    link_post_media,
    list_flags,
    set_flag_status,
    upsert_channel,
    upsert_posts,
)
from storage.models import alert_outbox, post
from tests.alerts.conftest import Desk, Receiver
from tests.factories import BASE_TIME, CHANNEL_ID, make_channel, make_post


async def payloads(engine: AsyncEngine) -> list[AlertMessage]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(alert_outbox.c.payload).order_by(alert_outbox.c.id))
        return [AlertMessage.from_dict(p["message"]) for p in rows.scalars()]


async def test_album_is_one_alert_keyed_by_its_group(engine: AsyncEngine):
    routes = [Route.of("desk", ["memory://album"])]
    desk = Desk(engine, routes)
    group = 7_000_001
    lead = await desk.flag_post(
        "Kataib Hezbollah parade", ["kataib"], grouped_id=group, photos=1, message_id=900
    )
    async with engine.begin() as conn:
        others = [
            make_post(
                "",
                message_id=900 + i,
                grouped_id=group,
                media=(MediaRecord(position=0, kind="photo", telegram_id=i),),
            )
            for i in (1, 2)
        ]
        stored = await upsert_posts(others, conn=conn, captured_at=BASE_TIME)
        await link_post_media(
            [(k.post_id, r) for k, r in zip(stored.new, others, strict=True)],
            conn=conn,
            seen_at=BASE_TIME,
        )
        # The pipeline calling again for the same post (a re-read batch) queues nothing new.
        assert await enqueue_for_post(conn=conn, post_id=lead, routes=routes, now=BASE_TIME) == []
    [row] = await list_outbox(engine)
    assert row.idempotency_key == f"desk:{CHANNEL_ID}:g{group}:alert:0"
    [msg] = await payloads(engine)
    assert msg.photo_count == 1  # photos stored after the alert was queued are not counted
    assert msg.grouped_id == group and msg.message_id == 900


async def test_album_photos_stored_first_are_counted(engine: AsyncEngine):
    routes = [Route.of("desk", ["memory://album2"])]
    await Desk(engine, routes).flag_post("Hezbollah photos", ["hezbollah"], photos=4)
    [msg] = await payloads(engine)
    assert msg.photo_count == 4


async def test_an_albums_alert_counts_the_photos_of_every_message(engine: AsyncEngine):
    sink = f"album-{uuid.uuid4().hex}"  # named sinks live as long as the process
    routes = [Route.of("desk", [f"memory://{sink}"])]
    group = 7_000_002
    members = [
        make_post(
            "",
            message_id=900 + i,
            grouped_id=group,
            media=(MediaRecord(position=0, kind="photo", telegram_id=50 + i),),
        )
        for i in (1, 2)
    ]
    async with engine.begin() as conn:  # the album's other messages, stored in the same pass
        await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
        stored = await upsert_posts(members, conn=conn, captured_at=BASE_TIME)
        await link_post_media(
            [(k.post_id, r) for k, r in zip(stored.new, members, strict=True)],
            conn=conn,
            seen_at=BASE_TIME,
        )
    await Desk(engine, routes).flag_post(
        "Kataib Hezbollah parade", ["kataib"], grouped_id=group, photos=1, message_id=900
    )

    await deliver_due(engine, sinks_for_routes(routes), now=BASE_TIME)

    [delivery] = MemorySink.named(sink).deliveries
    assert delivery.message.message.photo_count == 3
    assert "Photos: 3" in delivery.message.body  # the lead's one photo and the other two


async def test_routes_filter_by_entity_and_channel(engine: AsyncEngine):
    routes = [
        Route.of("all", ["memory://a"]),
        Route.of("people", ["memory://p"], entities=["qais"]),
        Route.of("private", ["memory://c"], channels=[42]),
        Route.of("by-name", ["memory://n"], channels=["@Some_Channel"]),
    ]
    desk = Desk(engine, routes)
    await desk.flag_post("Hezbollah", ["hezbollah"])
    await desk.flag_post("Qais al-Khazali spoke", ["qais"], channel_id=42, message_id=5)
    rows = sorted((r.route, r.post_id) for r in await list_outbox(engine))
    assert [route for route, _ in rows] == ["all", "all", "by-name", "people", "private"]
    private = [m for m in await payloads(engine) if m.route == "private"]
    assert private[0].link == "https://t.me/c/42/5"


async def test_review_gated_route_alerts_after_confirmation(engine: AsyncEngine):
    routes = [
        Route.of("desk", ["memory://d"]),
        Route.of("editors", ["memory://e"], min_status="confirmed"),
    ]
    desk = Desk(engine, routes)
    post_id = await desk.flag_post("Hezbollah", ["hezbollah"])
    assert [r.route for r in await list_outbox(engine)] == ["desk"]
    async with engine.begin() as conn:
        [flag] = await list_flags(conn=conn)
        await set_flag_status(flag.id, "confirmed", conn=conn, by="ana")
        await enqueue_for_post(conn=conn, post_id=post_id, routes=routes, now=BASE_TIME)
    entries = sorted(await list_outbox(engine), key=lambda r: r.id)
    assert [(r.route, r.kind) for r in entries] == [("desk", "alert"), ("editors", "alert")]


async def test_dismissed_flags_do_not_alert(engine: AsyncEngine):
    routes = [Route.of("desk", ["memory://x"])]
    desk = Desk(engine, routes)
    post_id = await desk.flag_post("Hezbollah and Qais al-Khazali", ["hezbollah"])
    async with engine.begin() as conn:
        created = await desk.add_flags(
            conn, post_id, "Hezbollah and Qais al-Khazali", ["qais"], BASE_TIME
        )
        await set_flag_status(created[0].id, "dismissed", conn=conn, by="ana")
        await enqueue_for_post(conn=conn, post_id=post_id, routes=routes, now=BASE_TIME)
    [msg] = await payloads(engine)
    assert msg.entities == ("Hezbollah",)


async def test_digest_rows_are_due_at_the_window_end(engine: AsyncEngine):
    window = timedelta(minutes=10)
    routes = [Route.of("daily", ["memory://dg"], digest=window)]
    now = BASE_TIME + timedelta(minutes=3)
    await Desk(engine, routes).flag_post("Hezbollah", ["hezbollah"], now=now)
    [row] = await list_outbox(engine)
    assert row.kind == "digest"
    assert row.next_attempt_at == digest_due_at(now, window) == BASE_TIME + window


# Delivery: sink identity, stale claims, digest retries, slow sinks against the lease.


async def test_two_urls_on_one_host_both_get_the_alert(engine: AsyncEngine, receiver: Receiver):
    # Two webhooks (or two mailto:// recipients) on the same host have the same safe name.
    routes = [Route.of("desk", [receiver.url("/team-a"), receiver.url("/team-b")])]
    await Desk(engine, routes).flag_post("Hezbollah statement", ["hezbollah"])
    report = await deliver_due(engine, sinks_for_routes(routes), now=BASE_TIME)
    assert report.delivered == 1
    assert sorted(r.path for r in receiver.accepted) == ["/team-a", "/team-b"]


async def test_flag_merged_while_a_worker_is_claiming_is_in_the_sent_alert(
    engine: AsyncEngine, receiver: Receiver
):
    routes = [Route.of("desk", [receiver.url()])]
    desk = Desk(engine, routes)
    text = "Hezbollah and Qais al-Khazali"
    post_id = await desk.flag_post(text, ["hezbollah"])

    claiming = asyncio.Event()

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("UPDATE alert_outbox SET status"):
            claiming.set()

    event.listen(engine.sync_engine, "before_cursor_execute", watch)
    try:
        async with engine.begin() as conn:
            # A re-check flags a second entity; it is merged into the unsent row (uncommitted).
            created = await desk.add_flags(conn, post_id, text, ["qais"], BASE_TIME)
            await enqueue_for_post(
                conn=conn, post_id=post_id, flags=created, routes=routes, now=BASE_TIME
            )
            # The worker reads the row as last committed and blocks claiming it.
            worker = asyncio.create_task(
                deliver_due(engine, sinks_for_routes(routes), now=BASE_TIME)
            )
            await claiming.wait()
        await worker
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", watch)
    [only] = receiver.accepted
    assert "Hezbollah" in only.body["title"] and "Qais al-Khazali" in only.body["title"]


async def test_digest_retried_after_an_outage_is_still_one_message(
    engine: AsyncEngine, receiver: Receiver
):
    window = timedelta(minutes=10)
    routes = [Route.of("daily", [receiver.url("/digest")], digest=window)]
    sinks = sinks_for_routes(routes)
    desk = Desk(engine, routes)
    for i in range(5):
        await desk.flag_post(f"Item {i}: Hezbollah", ["hezbollah"], now=BASE_TIME)
    rng = random.Random(7)
    receiver.mode = "error"
    await deliver_due(engine, sinks, now=BASE_TIME + window, rng=rng)
    receiver.mode = "ok"
    # The worker polls every second while the rows back off.
    for step in range(1, 21):
        now = BASE_TIME + window + timedelta(seconds=step / 2)
        await deliver_due(engine, sinks, now=now, rng=rng)
    digests = receiver.accepted
    assert len(digests) == 1
    assert all(f"Item {i}:" in digests[0].body["message"] for i in range(5))


async def test_slow_sinks_do_not_outlive_the_lease(engine: AsyncEngine, receiver: Receiver):
    """Each sink's timeout is below the lease, but several in a row were not: a second worker
    took the row over while the first was still sending, and resent to the sink that had it."""
    hanging = Receiver(mode="hang")
    hanging.start()
    try:
        urls = [receiver.url("/ok"), *(hanging.url(f"/slow{i}") for i in range(4))]
        routes = [Route.of("desk", urls)]
        await Desk(engine, routes).flag_post("Hezbollah", ["hezbollah"])
        policy = RetryPolicy(
            lease=timedelta(seconds=3),
            send_timeout=timedelta(seconds=1),
            base=timedelta(minutes=1),
        )
        started = datetime.now(UTC)
        first = asyncio.create_task(
            deliver_due(engine, sinks_for_routes(routes), now=started, policy=policy)
        )
        # A second worker (another process) passes once the first one's lease has run out.
        await asyncio.sleep(policy.lease.total_seconds() + 0.3)
        await deliver_due(engine, sinks_for_routes(routes), now=datetime.now(UTC), policy=policy)
        await first
    finally:
        hanging.stop()
    assert [r.path for r in receiver.accepted] == ["/ok"]
    [row] = await list_outbox(engine)
    assert row.status == "pending" and row.attempts == 1


async def test_followup_after_an_edit_highlights_the_edited_text(engine: AsyncEngine):
    routes = [Route.of("desk", ["memory://review-followup"])]
    desk = Desk(engine, routes)
    post_id = await desk.flag_post("Hezbollah statement", ["hezbollah"])
    sinks = {"desk": [MemorySink("review-followup")]}
    await deliver_due(engine, sinks, now=BASE_TIME)
    # The edit moves the first mention and adds a second entity: a follow-up is queued.
    edited = "UPDATE: Qais al-Khazali joins the Hezbollah statement"
    async with engine.begin() as conn:
        await upsert_posts(
            [make_post(edited, message_id=await message_id_of(conn, post_id), edited_at=BASE_TIME)],
            conn=conn,
            captured_at=BASE_TIME,
        )
        created = await desk.add_flags(conn, post_id, edited, ["hezbollah", "qais"], BASE_TIME)
        await enqueue_for_post(conn=conn, post_id=post_id, flags=created, routes=routes)
    rows = sorted(await list_outbox(engine), key=lambda r: r.id)
    assert [r.kind for r in rows] == ["alert", "followup"]
    async with engine.connect() as conn:
        payload = (
            await conn.execute(
                select(alert_outbox.c.payload).where(alert_outbox.c.id == rows[1].id)
            )
        ).scalar_one()
    message = AlertMessage.from_dict(payload["message"])
    assert message.text == edited
    assert sorted(message.text[s.start : s.end] for s in message.spans) == [
        "Hezbollah",
        "Qais al-Khazali",
    ]


async def message_id_of(conn: Any, post_id: int) -> int:
    return int(
        (await conn.execute(select(post.c.message_id).where(post.c.id == post_id))).scalar_one()
    )


async def test_flag_after_retrying_a_partly_sent_alert_is_a_followup(
    engine: AsyncEngine, receiver: Receiver
):
    """A row some sinks already have must not change under its idempotency key: receivers that
    dedupe on the key would drop the new mention."""
    broken = Receiver(mode="error")
    broken.start()
    try:
        routes = [Route.of("desk", [receiver.url("/a"), broken.url("/b")])]
        sinks = sinks_for_routes(routes)
        desk = Desk(engine, routes)
        text = "Hezbollah and Qais al-Khazali"
        post_id = await desk.flag_post(text, ["hezbollah"])
        policy = RetryPolicy(max_attempts=1)
        await deliver_due(engine, sinks, now=BASE_TIME, policy=policy)
        assert [r.status for r in await list_outbox(engine)] == ["failed"]
        await retry_all_failed(engine, now=BASE_TIME)  # the desk retries; /b is still down
        await desk.flag_existing(post_id, text, ["qais"], now=BASE_TIME)
        broken.mode = "ok"
        for _ in range(3):
            await deliver_due(engine, sinks, now=BASE_TIME + timedelta(hours=2), policy=policy)
    finally:
        broken.stop()
    at_a = [r for r in receiver.accepted if r.path == "/a"]
    assert len({r.key for r in at_a}) == len(at_a)  # never the same key twice
    assert any("Qais al-Khazali" in r.body["title"] for r in at_a)
