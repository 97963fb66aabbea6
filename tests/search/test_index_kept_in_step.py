"""The search index follows the archive: the collector's transaction indexes each version it
stores; versions stored any other way, and an archive from before the index, are indexed by
`monitor db upgrade` (or the next search) and then found."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text

from monitor.search import index_text, parse_query
from storage import (
    count_pending,
    create_engine,
    search_posts,
    upgrade,
    upsert_channel,
    upsert_posts,
)
from storage.engine import HEAD_REVISION
from storage.models import channel, post, post_version
from tests.factories import BASE_TIME, make_channel, make_post
from tests.search.conftest import cli, search


def _env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {"MONITOR_DATA_DIR": str(tmp_path / "data"), "MONITOR_DATABASE_URL": db_url}


async def _index_size(conn) -> int:
    return (await conn.execute(text("SELECT count(*) FROM post_search"))).scalar_one()


async def test_collecting_indexes_every_version_in_the_same_transaction(crafted, engine):
    async with engine.connect() as conn:
        versions = (await conn.execute(select(func.count()).select_from(post_version))).scalar_one()
        assert versions == len(crafted.ids) + 1  # one post was edited
        assert await _index_size(conn) == versions
        assert await count_pending(conn=conn) == 0


async def test_an_index_entry_lives_and_dies_with_its_version(engine):
    query = parse_query("Zarqawi").text_query
    async with engine.connect() as conn:
        await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
        await upsert_posts(
            [make_post("Zarqawi was mentioned")],
            conn=conn,
            captured_at=BASE_TIME,
            index_text=index_text,
        )
        assert len(await search_posts(query, conn=conn)) == 1  # in the storing transaction
        await conn.rollback()
    async with engine.connect() as conn:
        assert await search_posts(query, conn=conn) == []
        assert await _index_size(conn) == 0


def test_versions_stored_without_a_normaliser_are_indexed_by_the_next_search(db_url, tmp_path):
    async def store() -> None:
        engine = create_engine(db_url)
        try:
            await upgrade(engine)
            async with engine.begin() as conn:
                await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
                record = make_post("Muhandis visited Basra")
                await upsert_posts([record], conn=conn, captured_at=BASE_TIME)
                assert await count_pending(conn=conn) == 1
        finally:
            await engine.dispose()

    asyncio.run(store())
    hits = search(_env(db_url, tmp_path), "MUHANDIS")
    assert [h["snippet"] for h in hits] == ["Muhandis visited Basra"]


def test_db_upgrade_indexes_an_archive_from_before_the_index(db_url, tmp_path):
    async def old_archive() -> None:
        engine = create_engine(db_url)
        try:
            await upgrade(engine, "0003")
            async with engine.begin() as conn:
                row = {"id": 42, "username": "old_news", "title": "Old", "first_seen_at": BASE_TIME}
                await conn.execute(insert(channel), [{**row, "updated_at": BASE_TIME}])
                for i, words in enumerate(["قيس الخزعلي في بغداد", "nothing else", "Cui Wei"], 1):
                    await conn.execute(
                        insert(post),
                        [
                            {
                                "id": i,
                                "channel_id": 42,
                                "message_id": i,
                                "posted_at": BASE_TIME + timedelta(hours=i),
                                "first_captured_at": BASE_TIME,
                                "last_checked_at": BASE_TIME,
                                "text": words,
                                "content_hash": f"h{i}",
                            }
                        ],
                    )
                    await conn.execute(
                        insert(post_version),
                        [
                            {
                                "post_id": i,
                                "text": words,
                                "captured_at": BASE_TIME,
                                "content_hash": f"h{i}",
                            }
                        ],
                    )
        finally:
            await engine.dispose()

    asyncio.run(old_archive())
    env = _env(db_url, tmp_path)
    result = cli(env, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert f"upgraded: 0003 -> {HEAD_REVISION}" in result.output
    assert "indexed 3 post versions for search" in result.output
    hits = search(env, "قیس خزعلی")
    assert [(h["channel"], h["message_id"]) for h in hits] == [("old_news", 1)]
    again = cli(env, "db", "upgrade")
    assert "indexed" not in again.output  # nothing left to index


async def test_the_backlog_can_be_indexed_a_few_batches_per_transaction(conn):
    from storage import index_pending

    await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
    await upsert_posts(
        [make_post(f"Samarra {i}") for i in range(5)], conn=conn, captured_at=BASE_TIME
    )
    assert await count_pending(conn=conn) == 5
    assert await index_pending(index_text, conn=conn, batch=2, limit=3) == 4  # whole batches
    assert await count_pending(conn=conn) == 1
    assert len(await search_posts(parse_query("samarra").text_query, conn=conn)) == 4
    assert await index_pending(index_text, conn=conn, batch=2) == 1
    assert len(await search_posts(parse_query("samarra").text_query, conn=conn)) == 5
