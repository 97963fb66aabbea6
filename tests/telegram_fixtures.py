"""Fixtures for tests that collect: a simulated Telegram, a real TelegramClient on it, a pipeline.

Imported by the conftest of each test folder that needs them.
"""

from __future__ import annotations

__all__ = [
    "START",
    "connect",
    "fill",
    "make_pipeline",
    "spec",
    "telegram",
    "version_texts",
]

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telethon import TelegramClient

from monitor.config import ChannelSpec
from monitor.pipeline import Pipeline
from monitor.simulator import Backend, client_for
from monitor.telegram import FLOOD_SLEEP_THRESHOLD
from storage.media import MediaStore

START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def spec(username: str, **overrides: object) -> ChannelSpec:
    values: dict[str, object] = {
        "handle": f"@{username}",
        "poll_every": timedelta(minutes=2),
        "backfill": 200,
        "media": ("photo",),
    }
    values.update(overrides)
    return ChannelSpec(**values)  # type: ignore[arg-type]


def fill(telegram: Backend, channel_id: int, n: int, *, start: datetime = START) -> None:
    for i in range(n):
        telegram.post(channel_id, f"post number {i}", date=start + timedelta(minutes=i))


@pytest.fixture
def telegram() -> Backend:
    """An empty simulated Telegram with a fixed clock."""
    return Backend(seed=7)


@pytest.fixture
async def connect(telegram: Backend) -> AsyncIterator[Callable[[], object]]:
    """Factory: a connected, authorised TelegramClient with a fresh session each call."""
    clients: list[TelegramClient] = []

    async def make() -> TelegramClient:
        client = client_for(telegram, flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD)
        await client.connect()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.disconnect()


@pytest.fixture
def make_pipeline(engine: AsyncEngine, media_store: MediaStore) -> Callable[..., Pipeline]:
    def make(**kwargs: object) -> Pipeline:
        return Pipeline(engine=engine, media_store=media_store, **kwargs)  # type: ignore[arg-type]

    return make


async def version_texts(engine: AsyncEngine, message_id: int) -> list[str]:
    """Every stored version's text of ``message_id``, oldest first."""
    from sqlalchemy import select

    from storage.models import post, post_version

    async with engine.connect() as conn:
        rows = await conn.execute(
            select(post_version.c.text)
            .join(post, post.c.id == post_version.c.post_id)
            .where(post.c.message_id == message_id)
            .order_by(post_version.c.id)
        )
        return list(rows.scalars())
