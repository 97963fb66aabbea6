"""Simulator tests: an unmodified TelegramClient against the simulated Telegram, offline."""

from __future__ import annotations

import io
import random
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from telethon import TelegramClient

from monitor.simulator import Backend, SimChannel, client_for

T0 = datetime(2024, 5, 13, 9, 0, tzinfo=UTC)


def make_jpeg(width: int = 320, height: int = 240, *, seed: int = 0, noise: bool = False) -> bytes:
    """A real JPEG. ``noise=True`` makes it incompressible (large) for multi-chunk downloads."""
    rng = random.Random(seed)
    if noise:
        image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (rng.randrange(256), 90, 160))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.fixture
def backend() -> Backend:
    return Backend(seed=7)


@pytest.fixture
def channel(backend: Backend) -> SimChannel:
    return backend.add_channel(
        "militia_media", "Media Office", about="Synthetic", participants=1200
    )


def fill(backend: Backend, channel: SimChannel, n: int) -> None:
    for i in range(n):
        backend.post(channel.id, f"post number {i + 1}", date=T0 + timedelta(minutes=i))


@pytest.fixture
async def connect(backend: Backend) -> AsyncIterator[Callable[..., TelegramClient]]:
    """``client = await connect(**kwargs)``: a connected in-process client, closed afterwards."""
    clients: list[TelegramClient] = []

    async def _connect(**kwargs: object) -> TelegramClient:
        client = client_for(backend, **kwargs)  # type: ignore[arg-type]
        await client.connect()
        clients.append(client)
        return client

    yield _connect  # type: ignore[misc]
    for client in clients:
        await client.disconnect()
