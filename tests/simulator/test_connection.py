"""Connecting: codecs, prepared sessions, signing in, deterministic identifiers."""

from __future__ import annotations

import asyncio

import pytest
from telethon import TelegramClient
from telethon.sessions import MemorySession
from telethon.tl import functions

from monitor.simulator import (
    API_HASH,
    API_ID,
    Backend,
    SimulatorError,
    client_for,
    make_connection,
    parse_address,
)
from tests.simulator.conftest import fill


async def test_abridged_codec_works_too(backend, channel, connect) -> None:
    fill(backend, channel, 3)
    client = await connect(codec="abridged")
    assert [m.id for m in await client.get_messages("militia_media", limit=5)] == [3, 2, 1]


async def test_sign_in_with_code(backend: Backend, connect) -> None:
    account = backend.add_account("fresh", phone="99960000123", authorized=False)
    client = await connect(account="fresh")
    assert not await client.is_user_authorized()
    sent = await client.send_code_request("+99960000123")
    me = await client.sign_in("+99960000123", code="12345", phone_code_hash=sent.phone_code_hash)
    assert me.id == account.user_id and await client.is_user_authorized()


async def test_session_without_simulator_key_is_refused(backend: Backend) -> None:
    client = TelegramClient(
        MemorySession(),
        API_ID,
        API_HASH,
        connection=make_connection(backend),
        connection_retries=0,
        retry_delay=0,
    )
    with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
        await client.connect()
    await client.disconnect()


def test_identifiers_are_deterministic_per_seed() -> None:
    def build(seed: int) -> tuple[int, int, int, bytes]:
        backend = Backend(seed=seed)
        chan = backend.add_channel("same_name", "Same")
        from tests.simulator.conftest import make_jpeg

        msg = backend.post(chan.id, "x", photo=make_jpeg(seed=1))
        assert msg.photo is not None
        return chan.id, chan.access_hash, msg.photo.id, msg.photo.file_reference

    assert build(1) == build(1)
    assert build(1) != build(2)


def test_backend_errors_name_what_is_wrong(backend: Backend, channel) -> None:
    with pytest.raises(SimulatorError, match="already taken"):
        backend.add_channel("militia_media", "Other")
    with pytest.raises(SimulatorError, match="no message 42"):
        backend.edit(channel.id, 42, "x")
    with pytest.raises(SimulatorError, match="no simulated account"):
        client_for(backend, account="ghost")
    with pytest.raises(ValueError, match="HOST:PORT"):
        parse_address("localhost")


async def test_ping_and_future_salts_service_messages(backend, connect) -> None:
    client = await connect()
    pong = await client(functions.PingRequest(ping_id=42))
    assert pong.ping_id == 42
    salts = await client(functions.GetFutureSaltsRequest(num=3))
    assert len(salts.salts) == 3
