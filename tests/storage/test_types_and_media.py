"""UTC datetimes on both backends, and content-addressed media files."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import MediaStore, get_post_by_key, list_post_media, upsert_channel, upsert_posts
from storage.models import media, post
from storage.records import MediaRecord
from tests.factories import BASE_TIME, CHANNEL_ID, make_channel, make_post

PHOTO = b"\xff\xd8\xff\xe0" + b"not really a jpeg" * 100


async def test_datetimes_come_back_aware_utc(conn: AsyncConnection):
    tehran = timezone(timedelta(hours=3, minutes=30))
    posted = datetime(2026, 3, 1, 9, 15, 30, 123456, tzinfo=tehran)
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    record = make_post("tz", posted_at=posted)
    await upsert_posts([record], conn=conn, captured_at=BASE_TIME)
    row = await get_post_by_key(CHANNEL_ID, record.message_id, conn=conn)
    assert row["posted_at"] == posted
    assert row["posted_at"].utcoffset() == timedelta(0)
    assert row["posted_at"].replace(tzinfo=None) == datetime(2026, 3, 1, 5, 45, 30, 123456)
    # SQL comparisons are in UTC too, whatever zone the bound value carries
    for since, expected in [
        (datetime(2026, 3, 1, 5, 45, tzinfo=UTC), 1),
        (posted, 1),
        (datetime(2026, 3, 1, 9, 0, tzinfo=tehran), 1),
        (datetime(2026, 3, 1, 5, 46, tzinfo=UTC), 0),
    ]:
        query = select(func.count()).where(post.c.posted_at >= since)
        assert (await conn.execute(query)).scalar_one() == expected, since


async def test_sqlite_stores_the_text_sqlalchemys_datetime_wrote(conn: AsyncConnection):
    # SQLite compares and sorts the stored text: rows written now must match rows written by
    # earlier versions (through SQLAlchemy's DATETIME), to the character, or ranges break.
    if conn.dialect.name != "sqlite":
        pytest.skip("PostgreSQL stores timestamptz, not text")
    from sqlalchemy.dialects.sqlite import DATETIME

    legacy = DATETIME().bind_processor(conn.dialect)
    tehran = timezone(timedelta(hours=3, minutes=30))
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    values = [
        datetime(2026, 3, 1, 9, 15, 30, tzinfo=tehran),  # no microseconds: still six zeros
        datetime(2026, 3, 1, 9, 15, 30, 7, tzinfo=UTC),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=timezone(timedelta(hours=-5))),
    ]
    for i, value in enumerate(values):
        await upsert_posts(
            [make_post(f"t{i}", message_id=900 + i, posted_at=value)],
            conn=conn,
            captured_at=BASE_TIME,
        )
    rows = await conn.exec_driver_sql(
        "SELECT posted_at FROM post WHERE message_id >= 900 ORDER BY message_id"
    )
    expected = [legacy(v.astimezone(UTC).replace(tzinfo=None)) for v in values]
    assert [r[0] for r in rows] == expected
    assert expected[0] == "2026-03-01 05:45:30.000000"


async def test_naive_datetime_is_rejected(conn: AsyncConnection):
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    naive = datetime(2026, 3, 1, 9, 15)
    with pytest.raises(StatementError, match="naive datetime 2026-03-01T09:15:00"):
        await upsert_posts([make_post(posted_at=naive)], conn=conn, captured_at=BASE_TIME)


async def test_same_bytes_stored_once_file_and_row(conn: AsyncConnection, media_store: MediaStore):
    first = media_store.put(PHOTO, ext="jpg")
    path = media_store.path_of(first.relpath)
    mtime = path.stat().st_mtime_ns
    second = media_store.put(PHOTO, ext=".JPG")
    assert second == first
    assert first.relpath == f"{first.sha256[:2]}/{first.sha256[2:4]}/{first.sha256}.jpg"
    assert path.read_bytes() == PHOTO and path.stat().st_mtime_ns == mtime
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    assert media_store.verify(first.sha256)

    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    item = MediaRecord(
        position=0,
        kind="photo",
        telegram_id=555,
        sha256=first.sha256,
        mime="image/jpeg",
        size=first.size,
        path=first.relpath,
    )
    a, b = make_post("one", media=(item,)), make_post("two", media=(item,))
    result = await upsert_posts([a, b], conn=conn, captured_at=BASE_TIME)
    await upsert_posts([a], conn=conn, captured_at=BASE_TIME)
    assert (await conn.execute(select(func.count()).select_from(media))).scalar_one() == 1
    links = await list_post_media(result.new[1].post_id, conn=conn)
    assert [(m["kind"], m["sha256"], m["telegram_id"]) for m in links] == [
        ("photo", first.sha256, 555)
    ]


async def test_corrupted_file_fails_verification(media_store: MediaStore):
    stored = media_store.put(PHOTO, ext="jpg")
    media_store.path_of(stored.relpath).write_bytes(b"tampered")
    assert not media_store.verify(stored.sha256)
    assert not media_store.verify("0" * 64)


def test_paths_cannot_escape_the_store(media_store: MediaStore):
    from storage import StorageError

    with pytest.raises(StorageError, match="not inside the media store"):
        media_store.path_of("../../etc/passwd")


async def test_edit_seen_without_download_keeps_the_photo_link(
    conn: AsyncConnection, media_store: MediaStore
):
    stored = media_store.put(PHOTO, ext="jpg")
    photo = MediaRecord(
        0,
        "photo",
        telegram_id=555,
        sha256=stored.sha256,
        mime="image/jpeg",
        size=stored.size,
        path=stored.relpath,
    )
    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    original = make_post("caption", media=(photo,))
    result = await upsert_posts([original], conn=conn, captured_at=BASE_TIME)
    # a re-check converts without downloading: same photo id, no sha256
    recheck = replace(
        original,
        text="caption (edited)",
        edited_at=BASE_TIME,
        media=(MediaRecord(0, "photo", telegram_id=555),),
    )
    again = await upsert_posts([recheck], conn=conn, captured_at=BASE_TIME)
    assert again.changed == result.new
    [link] = await list_post_media(result.new[0].post_id, conn=conn)
    assert (link["sha256"], link["size"]) == (stored.sha256, stored.size)
    row = await get_post_by_key(CHANNEL_ID, original.message_id, conn=conn)
    assert row["raw"] is None
