"""Queueing: one row per (post, route), albums as one post, filters, review-gated routes."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from alerts import (
    AlertMessage,
    Route,
    deliver_due,
    digest_due_at,
    enqueue_for_post,
    list_outbox,
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
from storage.models import alert_outbox
from tests.alerts.conftest import Desk
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
