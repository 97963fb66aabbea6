"""A first pass logs and indexes its new posts from what it inserted, without reading them
back; what it writes is exactly what the stored rows give: `monitor verify` recomputes every
entry from the database and finds nothing wrong, and search finds each post by its date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import upsert_channel, upsert_posts
from storage.capture_verify import verify_archive
from storage.models import capture_log, post, post_version
from storage.search_index import DOC_SHIFT, doc_key
from tests.factories import BASE_TIME, make_channel, make_post

TEHRAN = timezone(timedelta(hours=3, minutes=30))


def normalised(text_: str) -> str:
    return " ".join(text_.casefold().split())


async def test_new_posts_edits_and_repeats_in_one_batch_verify_and_search(
    conn: AsyncConnection, media_store
):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    old = make_post("Before the pass", message_id=10)
    await upsert_posts([old], conn=conn, captured_at=BASE_TIME)
    # Times in another zone, microseconds, Persian text, an edit: what a round trip through the
    # database would turn into UTC must hash the same when it is not read back.
    captured = (BASE_TIME + timedelta(days=1, microseconds=123456)).astimezone(TEHRAN)
    batch = [
        make_post(
            "دیدار هیئت عراقی در بصره",
            message_id=11,
            posted_at=datetime(2024, 5, 13, 9, 0, 7, tzinfo=TEHRAN),
            edited_at=datetime(2024, 5, 13, 9, 30, 0, 500, tzinfo=TEHRAN),
        ),
        make_post("Second new post", message_id=12),
        make_post(
            "Before the pass, edited", message_id=10, edited_at=BASE_TIME + timedelta(hours=2)
        ),
    ]

    result = await upsert_posts(batch, conn=conn, captured_at=captured, index_text=normalised)

    assert [k.message_id for k in result.new] == [11, 12]
    assert [k.message_id for k in result.changed] == [10]
    report = await verify_archive(conn=conn, media_store=media_store)
    assert report.ok, report.mismatches
    assert report.entries == report.versions == 4  # every version logged, once
    # Logged in capture order: the earlier capture first, then this batch by version id.
    logged = (
        (await conn.execute(select(capture_log.c.version_id).order_by(capture_log.c.seq)))
        .scalars()
        .all()
    )
    versions = (
        (
            await conn.execute(
                select(post_version.c.id).order_by(post_version.c.captured_at, post_version.c.id)
            )
        )
        .scalars()
        .all()
    )
    assert logged == versions
    # Indexed under each post's own date (SQLite's document key; PostgreSQL's posted_at): the
    # batch's three versions (the first post was stored without an index function: queued).
    rows = (
        await conn.execute(
            select(post_version.c.id, post.c.posted_at)
            .join(post, post.c.id == post_version.c.post_id)
            .where(post_version.c.captured_at == captured)
        )
    ).all()
    assert len(rows) == 3
    if conn.dialect.name == "sqlite":
        indexed = dict((await conn.execute(text("SELECT version_id, doc FROM search_doc"))).all())
        assert indexed == {v: doc_key(posted, v) for v, posted in rows}
        persian = next(v for v, posted in rows if posted.second == 7)
        assert indexed[persian] >> DOC_SHIFT == int(
            datetime(2024, 5, 13, 5, 30, 7, tzinfo=UTC).timestamp()
        )
    else:
        indexed = dict(
            (await conn.execute(text("SELECT version_id, posted_at FROM post_search"))).all()
        )
        assert indexed == dict(rows)
