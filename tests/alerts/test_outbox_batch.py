"""Queueing a batch's alerts at once gives the rows one call per post gives, in the same order."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from alerts import Route, enqueue_for_post, enqueue_for_posts
from storage import MediaRecord, link_post_media, upsert_posts
from storage.models import alert_outbox
from tests.alerts.conftest import Desk
from tests.factories import BASE_TIME, make_post

ROUTES = [
    Route.of("all", ["memory://batch-all"]),
    Route.of("people", ["memory://batch-people"], entities=["qais"]),
    Route.of("daily", ["memory://batch-daily"], digest=timedelta(days=1)),
]
NOW = BASE_TIME + timedelta(minutes=5)


async def _flagged_posts(desk: Desk) -> list[tuple[int, list[Any]]]:
    """Three posts with new flags: one with photos, an album's lead, and one whose earlier
    alert is still unsent (a new flag merges into it)."""
    merged = await desk.flag_post("Hezbollah and Qais al-Khazali", ["hezbollah"], message_id=700)
    async with desk.engine.begin() as conn:
        photos = tuple(MediaRecord(position=i, kind="photo", telegram_id=50 + i) for i in (0, 1))
        records = [
            make_post("Qais al-Khazali and Hezbollah", message_id=701, media=photos),
            make_post("Kataib Hezbollah parade", message_id=702, grouped_id=9_001, media=photos),
            make_post("", message_id=703, grouped_id=9_001, media=photos[:1]),
        ]
        stored = await upsert_posts(records, conn=conn, captured_at=BASE_TIME)
        ids = [key.post_id for key in stored.new]
        await link_post_media(list(zip(ids, records, strict=True)), conn=conn, seen_at=BASE_TIME)
        first = await desk.add_flags(conn, ids[0], records[0].text, ["qais", "hezbollah"], NOW)
        album = await desk.add_flags(conn, ids[1], records[1].text, ["kataib"], NOW)
        later = await desk.add_flags(conn, merged, "Hezbollah and Qais al-Khazali", ["qais"], NOW)
    return [(ids[0], first), (merged, later), (ids[1], album)]


async def _rows(conn: AsyncConnection) -> list[tuple[Any, ...]]:
    rows = await conn.execute(select(alert_outbox).order_by(alert_outbox.c.id))
    return [tuple(row._mapping[c] for c in row._mapping if c != "id") for row in rows]


async def test_batch_queues_what_one_call_per_post_queues(engine: AsyncEngine):
    posts = await _flagged_posts(Desk(engine, ROUTES))
    async with engine.connect() as conn:
        for post_id, flags in posts:
            await enqueue_for_post(conn=conn, post_id=post_id, flags=flags, routes=ROUTES, now=NOW)
        one_by_one = await _rows(conn)
        await conn.rollback()
        # The pipeline names the posts it has just inserted: their outbox rows are not read.
        fresh = {posts[0][0], posts[2][0]}
        ids = await enqueue_for_posts(conn=conn, posts=posts, routes=ROUTES, now=NOW, fresh=fresh)
        batched = await _rows(conn)
        await conn.rollback()
    assert batched == one_by_one
    # Every row is new or had the new flag merged in (the two unsent rows of the post at 700).
    assert len(set(ids)) == len(batched) == 8
    kinds = sorted((row[1], row[4]) for row in batched)  # (route, kind)
    assert ("daily", "digest") in kinds and ("people", "alert") in kinds


async def test_batch_refuses_a_post_twice(engine: AsyncEngine):
    posts = await _flagged_posts(Desk(engine, ROUTES))
    async with engine.connect() as conn:
        with pytest.raises(ValueError, match="each post once"):
            await enqueue_for_posts(conn=conn, posts=[posts[0], posts[0]], routes=ROUTES, now=NOW)
