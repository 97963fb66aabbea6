"""A post whose counters moved but whose text and edit date did not is not an edit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from storage import list_metrics, list_versions, upsert_channel, upsert_posts
from tests.factories import BASE_TIME, make_channel, make_post


async def test_a_views_only_change_is_a_metric_not_an_edit(conn: AsyncConnection):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    record = make_post("Ceasefire talks resume", views=100, forwards=2, reactions={"👍": 1})
    first = await upsert_posts([record], conn=conn, captured_at=BASE_TIME)
    post_id = first.new[0].post_id

    later = replace(record, views=5_000, forwards=40, reactions={"👍": 9})
    result = await upsert_posts([later], conn=conn, captured_at=BASE_TIME + timedelta(minutes=30))

    assert result.changed == [] and result.new == []
    assert [k.post_id for k in result.unchanged] == [post_id]
    versions = await list_versions(post_id, conn=conn)
    assert [(v["text"], v["edited_at"]) for v in versions] == [("Ceasefire talks resume", None)]
    metrics = await list_metrics(post_id, conn=conn)
    assert [(m["views"], m["forwards"]) for m in metrics] == [(100, 2), (5_000, 40)]
