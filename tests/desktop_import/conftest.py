"""Fixtures for importing Telegram Desktop exports: the seed scenario and its archives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.importers.desktop import ImportReport, import_desktop_export
from monitor.pipeline import Pipeline
from monitor.simulator import client_for
from monitor.simulator.scenario import Scenario, load_scenario
from monitor.telegram import FLOOD_SLEEP_THRESHOLD
from storage.engine import create_engine
from storage.media import MediaStore
from storage.models import media, post, post_media, post_version
from tests.conftest import copy_private
from tests.telegram_fixtures import spec

NOW = datetime(2025, 1, 1, tzinfo=UTC)  # the seed's history is applied up to here
MEDIA_OFFICE = "khazali_media_sim"
NEWS_EN = "iraq_news_en_sim"


@pytest.fixture
def seed() -> Scenario:
    scenario = load_scenario("seed", now=NOW)
    scenario.apply_history()
    return scenario


async def collect(scenario: Scenario, engine: AsyncEngine, store: MediaStore, *names: str) -> None:
    """Collect channels from the simulated Telegram with the real collector and pipeline."""
    client = client_for(scenario.backend, flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD)
    await client.connect()
    try:
        for name in names:
            report = await Pipeline(engine=engine, media_store=store).collect(
                client, spec(name, backfill=10_000)
            )
            assert report.error is None, report.error
    finally:
        await client.disconnect()


@pytest.fixture
async def reference(tmp_path: Path, migrated_sqlite: Path) -> Any:
    """A second archive (SQLite, a copy of the session's migrated file), for collecting the same
    channels to compare with."""
    copy_private(migrated_sqlite, tmp_path / "reference" / "monitor.db")
    engine = create_engine(f"sqlite+aiosqlite:///{(tmp_path / 'reference' / 'monitor.db')}")
    yield engine, MediaStore(tmp_path / "reference" / "media")
    await engine.dispose()


@pytest.fixture
def run_import(engine: AsyncEngine, media_store: MediaStore) -> Callable[..., Any]:
    async def run(path: Path, **kwargs: Any) -> ImportReport:
        return await import_desktop_export(path, engine=engine, media_store=media_store, **kwargs)

    return run


async def archive(engine: AsyncEngine, channel_id: int) -> dict[int, tuple[Any, ...]]:
    """message id -> (text, posted_at, edited_at, reply_to, forwarded, photo sha256s)."""
    async with engine.connect() as conn:
        photos: dict[int, list[str]] = {}
        rows = await conn.execute(
            select(post.c.message_id, post_media.c.sha256)
            .join(post_media, post_media.c.post_id == post.c.id)
            .where(post.c.channel_id == channel_id, post_media.c.kind == "photo")
            .order_by(post.c.message_id, post_media.c.position)
        )
        for message_id, sha256 in rows:
            photos.setdefault(message_id, []).append(sha256)
        rows = await conn.execute(select(post).where(post.c.channel_id == channel_id))
        return {
            row.message_id: (
                row.text,
                row.posted_at,
                row.edited_at,
                row.reply_to_message_id,
                row.fwd_from_channel_id is not None or row.fwd_from_name is not None,
                tuple(photos.get(row.message_id, ())),
            )
            for row in rows
        }


async def counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table.name: (await conn.execute(select(func.count()).select_from(table))).scalar_one()
            for table in (post, post_version, post_media, media)
        }


async def provenances(engine: AsyncEngine, channel_id: int) -> dict[int, list[tuple[str, Any]]]:
    """message id -> [(provenance, source), ...] of its versions, oldest first."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(post.c.message_id, post_version.c.provenance, post_version.c.source)
            .join(post, post.c.id == post_version.c.post_id)
            .where(post.c.channel_id == channel_id)
            .order_by(post.c.message_id, post_version.c.id)
        )
        found: dict[int, list[tuple[str, Any]]] = {}
        for message_id, provenance, source in rows:
            found.setdefault(message_id, []).append((provenance, source))
        return found
