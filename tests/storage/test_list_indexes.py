"""Migration 0002: the review queue's and the outbox's indexes, and query plans that use them."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from monitor.cli import app
from storage import create_engine, current_revision, head_revision, upgrade
from storage.review import flag_views_query

NEW_INDEXES = {
    "flag": {
        "ix_flag_created_at_id": ["created_at", "id"],
        "ix_flag_entity_id_created_at_id": ["entity_id", "created_at", "id"],
        "ix_flag_channel_id_created_at_id": ["channel_id", "created_at", "id"],
    },
    "alert_outbox": {"ix_alert_outbox_post_id": ["post_id"]},
}


async def _indexes(url: str, table: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(lambda sync: inspect(sync).get_indexes(table))
    finally:
        await engine.dispose()
    return {ix["name"]: ix["column_names"] for ix in found}


async def _upgrade_to(url: str, revision: str) -> str | None:
    engine = create_engine(url)
    try:
        await upgrade(engine, revision)
        return await current_revision(engine)
    finally:
        await engine.dispose()


def test_db_upgrade_from_0001_creates_the_list_indexes(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    assert asyncio.run(_upgrade_to(db_url, "0001")) == "0001"
    for table, wanted in NEW_INDEXES.items():
        assert not wanted.keys() & asyncio.run(_indexes(db_url, table)).keys()
    monkeypatch.delenv("MONITOR_DATA_DIR", raising=False)
    monkeypatch.setenv("MONITOR_DATABASE_URL", db_url)

    result = CliRunner().invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert f"0001 -> {head_revision()}" in result.output
    for table, wanted in NEW_INDEXES.items():
        indexes = asyncio.run(_indexes(db_url, table))
        assert {name: indexes.get(name) for name in wanted} == wanted


# A PostgreSQL archive big enough that the planner has a real choice: 60,000 posts, a flag on
# every third, 40 entities, 10 channels, one flag a minute.
ARCHIVE = """
INSERT INTO channel (id, username, title, first_seen_at, updated_at)
SELECT c, 'chan' || c, 'Channel ' || c, now(), now() FROM generate_series(1, 10) c;
INSERT INTO entity (id, name, kind, tags, aliases, updated_at)
SELECT 'e' || e, 'Entity ' || e, 'person', '[]', '[]', now() FROM generate_series(1, 40) e;
INSERT INTO post (id, channel_id, message_id, posted_at, first_captured_at, last_checked_at,
                  text, content_hash)
SELECT i, 1 + i % 10, i, TIMESTAMPTZ '2024-01-01' + i * INTERVAL '20 seconds', now(), now(),
       'post ' || i, md5(i::text)
FROM generate_series(1, 60000) i;
INSERT INTO flag (post_id, channel_id, entity_id, aliases, spans, snippet, status, created_at,
                  updated_at)
SELECT i, 1 + i % 10, 'e' || (1 + i % 40), '[]', '[]', 'snippet', 'new',
       TIMESTAMPTZ '2024-01-01' + i * INTERVAL '20 seconds', now()
FROM generate_series(3, 60000, 3) i;
ANALYZE channel;
ANALYZE entity;
ANALYZE post;
ANALYZE flag;
"""


def _plan_nodes(plan: dict) -> list[dict]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes += _plan_nodes(child)
    return nodes


@pytest.mark.parametrize(
    ("filters", "index", "ordered"),
    [
        ({}, "ix_flag_created_at_id", True),
        # `--entity e7` alone is not here: an entity's flags are listed newest post first, so
        # all of them are sorted by their posts' dates (storage.review), and on this 60,000-post
        # archive the planner hashes the flag table for the 100-row page.
        ({"channel": 3}, "ix_flag_channel_id_created_at_id", True),
        ({"since": datetime(2024, 1, 13, tzinfo=UTC)}, "ix_flag_created_at_id", True),
        # A few dozen matches: the planner may fetch them by the index and sort them.
        (
            {"entity_id": "e7", "since": datetime(2024, 1, 13, tzinfo=UTC)},
            ("ix_flag_entity_id", "ix_flag_entity_id_created_at_id"),
            False,
        ),
    ],
)
async def test_flags_list_reads_a_page_through_an_index_not_the_archive(
    engine: AsyncEngine, backend: str, filters: dict, index: str | tuple[str, ...], ordered: bool
):
    if backend != "postgresql":
        pytest.skip("plans checked on PostgreSQL, whose planner weighs table sizes")
    async with engine.begin() as conn:
        for statement in ARCHIVE.split(";\n"):
            if statement.strip():
                await conn.execute(text(statement))
    sql = flag_views_query(**filters).compile(
        dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}
    )
    async with engine.connect() as conn:
        raw = (await conn.execute(text(f"EXPLAIN (FORMAT JSON) {sql}"))).scalar_one()
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    nodes = _plan_nodes(plan)
    scans = {(n["Node Type"], n.get("Relation Name"), n.get("Index Name")) for n in nodes}

    indexes = index if isinstance(index, tuple) else (index,)
    assert any(name in indexes for _, _, name in scans), scans
    assert not any(kind == "Seq Scan" and rel in ("post", "flag") for kind, rel, _ in scans), scans
    if ordered:  # the index gives the order: no sort of every matching flag
        assert not any(n["Node Type"] == "Sort" for n in nodes), scans
