"""Review: two writers storing the same channel at once (two collector processes)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import MediaRecord, PostRecord, UpsertResult, upsert_channel, upsert_posts
from storage.models import post, post_media, post_metric, post_version
from tests.factories import BASE_TIME, edited, make_channel, make_post


async def counts(engine: AsyncEngine) -> list[int]:
    async with engine.connect() as conn:
        return [
            (await conn.execute(select(func.count()).select_from(t))).scalar_one()
            for t in (post, post_version, post_metric, post_media)
        ]


async def store_twice_at_once(engine: AsyncEngine, batch: Sequence[PostRecord]) -> UpsertResult:
    """The first writer stores ``batch`` and commits only once the second is blocked behind it."""
    writing = asyncio.Event()

    def watch(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("INSERT INTO post"):
            writing.set()

    async def second() -> UpsertResult:
        async with engine.begin() as conn:
            return await upsert_posts(batch, conn=conn, captured_at=BASE_TIME)

    async with engine.begin() as first:
        await upsert_posts(batch, conn=first, captured_at=BASE_TIME)
        event.listen(engine.sync_engine, "before_cursor_execute", watch)
        try:
            other = asyncio.create_task(second())
            await writing.wait()
        finally:
            event.remove(engine.sync_engine, "before_cursor_execute", watch)
    return await other


async def test_two_writers_store_the_same_posts_and_edits_once(engine: AsyncEngine):
    async with engine.begin() as conn:
        await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    photo = (MediaRecord(position=0, kind="photo", telegram_id=5),)
    records = [make_post(f"post {i}", media=photo) for i in range(3)]
    assert len((await store_twice_at_once(engine, records)).all) == 3
    again = await store_twice_at_once(engine, [edited(r, r.text + " (edited)") for r in records])
    assert len(again.all) == 3
    assert await counts(engine) == [3, 6, 3, 3]  # posts, versions, metrics, media links
