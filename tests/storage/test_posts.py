"""Posts on both backends: idempotent upserts, versions, metrics, deletions, rechecks."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import (
    MediaRecord,
    PostRecord,
    StorageError,
    UpsertResult,
    content_hashes,
    get_post_by_key,
    list_metrics,
    list_versions,
    mark_deleted,
    posts_to_recheck,
    upsert_channel,
    upsert_posts,
)
from storage.models import post, post_media, post_metric, post_version
from storage.records import ForwardedFrom
from tests.factories import BASE_TIME, CHANNEL_ID, edited, make_channel, make_post


async def count(conn: AsyncConnection, table) -> int:
    return (await conn.execute(select(func.count()).select_from(table))).scalar_one()


@pytest.fixture
async def channel_conn(conn: AsyncConnection) -> AsyncConnection:
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    return conn


async def test_same_post_twice_leaves_one_row_and_one_version(channel_conn: AsyncConnection):
    conn = channel_conn
    record = make_post("Hello")
    first = await upsert_posts([record], conn=conn, captured_at=BASE_TIME)
    second = await upsert_posts([record], conn=conn, captured_at=BASE_TIME + timedelta(minutes=5))

    assert [k.message_id for k in first.new] == [record.message_id]
    assert second.new == [] and second.changed == []
    assert second.unchanged == first.new
    assert await count(conn, post) == 1
    assert await count(conn, post_version) == 1
    row = await get_post_by_key(CHANNEL_ID, record.message_id, conn=conn)
    assert row["first_captured_at"] == BASE_TIME
    assert row["last_checked_at"] == BASE_TIME + timedelta(minutes=5)


async def test_edit_adds_a_version_and_keeps_the_first(channel_conn: AsyncConnection):
    conn = channel_conn
    original = make_post("Casualties: 3")
    await upsert_posts([original], conn=conn, captured_at=BASE_TIME)
    later = BASE_TIME + timedelta(hours=2)
    result = await upsert_posts([edited(original, "Casualties: 5")], conn=conn, captured_at=later)

    assert [k.message_id for k in result.changed] == [original.message_id]
    post_id = result.changed[0].post_id
    versions = await list_versions(post_id, conn=conn)
    assert [v["text"] for v in versions] == ["Casualties: 3", "Casualties: 5"]
    assert versions[0]["edited_at"] is None
    assert versions[1]["captured_at"] == later
    row = await get_post_by_key(CHANNEL_ID, original.message_id, conn=conn)
    assert row["text"] == "Casualties: 5"
    assert row["first_captured_at"] == BASE_TIME


async def test_metrics_recorded_only_when_counters_change(channel_conn: AsyncConnection):
    conn = channel_conn
    record = make_post("counted", views=10, reactions={"👍": 1})
    result = await upsert_posts([record], conn=conn, captured_at=BASE_TIME)
    post_id = result.new[0].post_id
    await upsert_posts([record], conn=conn, captured_at=BASE_TIME + timedelta(minutes=1))
    await upsert_posts(
        [replace(record, views=25, reactions={"👍": 3})],
        conn=conn,
        captured_at=BASE_TIME + timedelta(minutes=2),
    )
    observed = [(m["views"], m["reactions"]) for m in await list_metrics(post_id, conn=conn)]
    assert observed == [(10, {"👍": 1}), (25, {"👍": 3})]
    row = await get_post_by_key(CHANNEL_ID, record.message_id, conn=conn)
    assert row["views"] == 25


async def test_batch_with_new_changed_unchanged_and_all_fields(channel_conn: AsyncConnection):
    conn = channel_conn
    fwd_date = BASE_TIME - timedelta(days=1)
    a = make_post("a", forwarded_from=ForwardedFrom(42, 7, fwd_date, "Other"), raw={"_": "Message"})
    b = make_post("b", grouped_id=99)
    await upsert_posts([a, b], conn=conn, captured_at=BASE_TIME)
    c = make_post("c", reply_to_message_id=a.message_id)
    result = await upsert_posts([a, edited(b, "b2"), c, c], conn=conn, captured_at=BASE_TIME)

    assert [k.message_id for k in result.unchanged] == [a.message_id]
    assert [k.message_id for k in result.changed] == [b.message_id]
    assert [k.message_id for k in result.new] == [c.message_id]
    row = await get_post_by_key(CHANNEL_ID, a.message_id, conn=conn)
    assert (row["fwd_from_channel_id"], row["fwd_from_message_id"]) == (42, 7)
    assert row["fwd_from_date"] == fwd_date
    assert row["raw"] == {"_": "Message"}
    hashes = await content_hashes(CHANNEL_ID, [a.message_id, 10**9], conn=conn)
    assert hashes == {a.message_id: a.content_hash}


async def test_unknown_channel_is_a_clear_error(conn: AsyncConnection):
    with pytest.raises(StorageError, match="call upsert_channel"):
        await upsert_posts([make_post(channel_id=5)], conn=conn, captured_at=BASE_TIME)


async def test_deleted_posts_leave_the_recheck_list(channel_conn: AsyncConnection):
    conn = channel_conn
    old = make_post("old", posted_at=BASE_TIME - timedelta(days=10))
    keep, gone = make_post("keep"), make_post("gone")
    await upsert_posts([old, keep, gone], conn=conn, captured_at=BASE_TIME)
    since = BASE_TIME - timedelta(days=2)
    assert await posts_to_recheck(CHANNEL_ID, conn=conn, since=since) == [
        keep.message_id,
        gone.message_id,
    ]
    at = BASE_TIME + timedelta(hours=1)
    assert await mark_deleted(CHANNEL_ID, [gone.message_id], conn=conn, at=at) == 1
    assert await mark_deleted(CHANNEL_ID, [gone.message_id], conn=conn, at=at) == 0
    assert await posts_to_recheck(CHANNEL_ID, conn=conn, since=since) == [keep.message_id]
    row = await get_post_by_key(CHANNEL_ID, gone.message_id, conn=conn)
    assert row["deleted_at"] == at


# upsert_posts: a late, older copy of a message must not roll the post back.


async def test_older_copy_arriving_after_an_edit_keeps_the_edited_text(conn: AsyncConnection):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    original = make_post("Casualties: 3")
    edit = edited(original, "Casualties: 5")
    # The live update brought the edit first; a poll page fetched before the edit lands later.
    first = await upsert_posts([edit], conn=conn, captured_at=BASE_TIME)
    late = await upsert_posts([original], conn=conn, captured_at=BASE_TIME + timedelta(seconds=5))
    assert late.changed == [] and [k.post_id for k in late.unchanged] == [first.new[0].post_id]
    row = await get_post_by_key(CHANNEL_ID, original.message_id, conn=conn)
    assert row is not None
    assert (row["text"], row["edited_at"]) == ("Casualties: 5", edit.edited_at)
    assert row["content_hash"] == edit.content_hash
    # The older text is still kept as a version: nothing seen is lost.
    versions = await list_versions(row["id"], conn=conn)
    assert sorted(v["text"] for v in versions) == ["Casualties: 3", "Casualties: 5"]


# Two writers storing the same channel at once (two collector processes).


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
