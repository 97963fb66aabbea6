"""Newest first means by the post's date, whatever order the archive captured posts in; date
bounds are inclusive to the second; one post is one hit however many versions match."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import insert, text

from monitor.search import index_text, parse_query
from storage import PostFilters, search_posts, upsert_channel, upsert_posts
from storage.models import post, post_version
from storage.search_index import DOC_SHIFT, index_versions
from tests.factories import BASE_TIME, make_channel, make_post


async def _store(conn, records, at=BASE_TIME):
    await upsert_posts(records, conn=conn, captured_at=at, index_text=index_text)


async def test_the_newest_posts_come_first_even_when_captured_last(conn):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    records = [
        make_post(f"report {i} from Basra", posted_at=BASE_TIME - timedelta(days=i))
        for i in range(40)
    ]
    random.Random(3).shuffle(records)
    for i in range(0, 40, 7):  # several batches, in shuffled order
        await _store(conn, records[i : i + 7])
    query = parse_query("basra").text_query
    hits = await search_posts(query, conn=conn, limit=5)
    assert [h["text"] for h in hits] == [f"report {i} from Basra" for i in range(5)]
    ranked = await search_posts(query, conn=conn, limit=40, sort="rank")
    assert len(ranked) == 40


async def test_date_bounds_are_inclusive_to_the_second(conn):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    times = [BASE_TIME + timedelta(seconds=s) for s in (-1, 0, 59, 60)]
    await _store(conn, [make_post("Najaf", posted_at=t) for t in times])
    filters = PostFilters(since=BASE_TIME, until=BASE_TIME + timedelta(seconds=59))
    hits = await search_posts(parse_query("najaf").text_query, filters, conn=conn)
    assert sorted(h["posted_at"] for h in hits) == times[1:3]


async def test_a_post_whose_versions_all_match_is_one_hit_naming_the_newest(conn):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    first = make_post("Karbala statement")
    others = [make_post(f"Karbala item {i}", posted_at=first.posted_at) for i in range(3)]
    await _store(conn, [first, *others])
    for n in range(1, 4):
        edit = replace(
            first, text=f"Karbala statement v{n}", edited_at=BASE_TIME + timedelta(hours=n)
        )
        await _store(conn, [edit], at=BASE_TIME + timedelta(hours=n))
    hits = await search_posts(parse_query("karbala").text_query, conn=conn, limit=2)
    assert len(hits) == 2
    hits = await search_posts(parse_query("statement").text_query, conn=conn, limit=1)
    assert [(h["version_number"], h["versions"]) for h in hits] == [(4, 4)]
    assert hits[0]["version_text"] == "Karbala statement v3"


async def test_two_versions_with_the_same_index_key_are_both_found(conn):
    """SQLite keys index entries by post date and version id modulo 2**20; a clash takes the
    next free key instead of failing or replacing the other entry."""
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    rows = []
    for n, version_id in enumerate((7, 7 + (1 << DOC_SHIFT))):
        post_id = (
            await conn.execute(
                insert(post).returning(post.c.id),
                [
                    {
                        "channel_id": make_channel().channel_id,
                        "message_id": 900 + n,
                        "posted_at": BASE_TIME,
                        "first_captured_at": BASE_TIME,
                        "last_checked_at": BASE_TIME,
                        "text": f"Fallujah {n}",
                        "content_hash": f"clash{n}",
                    }
                ],
            )
        ).scalar_one()
        await conn.execute(
            insert(post_version),
            [
                {
                    "id": version_id,
                    "post_id": post_id,
                    "text": f"Fallujah {n}",
                    "captured_at": BASE_TIME,
                    "content_hash": f"clash{n}",
                }
            ],
        )
        rows.append((version_id, post_id, f"Fallujah {n}"))
    for version_id, post_id, words in rows:  # one at a time: the second meets the first's key
        row = type("Row", (), {"id": version_id, "post_id": post_id, "text": words})
        await index_versions([row], index_text, conn=conn)
    hits = await search_posts(parse_query("fallujah").text_query, conn=conn)
    assert sorted(h["text"] for h in hits) == ["Fallujah 0", "Fallujah 1"]
    if conn.dialect.name == "sqlite":
        docs = (await conn.execute(text("SELECT doc FROM search_doc ORDER BY doc"))).scalars()
        first, second = list(docs)
        assert second == first + 1
