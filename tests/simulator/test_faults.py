"""Fault and limit injection as the real client experiences it."""

from __future__ import annotations

import asyncio

import pytest
from telethon import errors
from telethon.tl import functions

from monitor.simulator import Backend, SimChannel
from tests.simulator.conftest import fill


async def test_flood_wait_below_threshold_is_slept_and_retried(backend, channel, connect) -> None:
    fill(backend, channel, 5)
    client = await connect(flood_sleep_threshold=5)
    await client.get_input_entity("militia_media")
    backend.faults.flood_wait("GetHistoryRequest", 1, on_call=1)
    backend.requests.reset()
    messages = await client.get_messages("militia_media", limit=5)
    assert [m.id for m in messages] == [5, 4, 3, 2, 1]
    calls = [(e.name, e.error) for e in backend.requests.entries]
    assert calls == [("GetHistoryRequest", "FLOOD_WAIT_1"), ("GetHistoryRequest", None)]


async def test_flood_wait_above_threshold_raises(backend, channel, connect) -> None:
    fill(backend, channel, 5)
    client = await connect(flood_sleep_threshold=10)
    backend.faults.flood_wait("GetHistoryRequest", 300, on_call=2)
    await client.get_messages("militia_media", limit=5)  # first call passes
    with pytest.raises(errors.FloodWaitError) as caught:
        await client.get_messages("militia_media", limit=5)
    assert caught.value.seconds == 300


async def test_rate_limit_per_account(backend: Backend, channel: SimChannel, connect) -> None:
    backend.add_account("second")
    backend.faults.rate_limit("GetFullChannelRequest", calls=2, window=3600)
    first = await connect(flood_sleep_threshold=0)
    second = await connect(account="second", flood_sleep_threshold=0)
    for _ in range(2):
        await first(functions.channels.GetFullChannelRequest("militia_media"))
    with pytest.raises(errors.FloodWaitError) as caught:
        await first(functions.channels.GetFullChannelRequest("militia_media"))
    assert 3590 <= caught.value.seconds <= 3600
    await second(functions.channels.GetFullChannelRequest("militia_media"))  # own budget
    assert backend.requests.count("GetFullChannelRequest", account="second") == 1
    assert backend.requests.count("GetFullChannelRequest", account="default") == 3


async def test_banned_channel_is_private(backend, channel, connect) -> None:
    fill(backend, channel, 3)
    client = await connect()
    await client.get_input_entity("militia_media")
    backend.faults.ban(channel.id)
    with pytest.raises(errors.ChannelPrivateError):
        await client.get_messages("militia_media", limit=3)


async def test_unknown_username_is_not_occupied(backend, channel, connect) -> None:
    client = await connect()
    with pytest.raises(ValueError, match="nobody_here"):
        await client.get_entity("nobody_here")
    assert backend.requests.entries[-1].error == "USERNAME_NOT_OCCUPIED"


async def test_unknown_request_answers_an_error_naming_it(backend, connect) -> None:
    client = await connect()
    with pytest.raises(errors.RPCError, match="MESSAGES.GETSAVEDGIFSREQUEST"):
        await client(functions.messages.GetSavedGifsRequest(hash=0))


async def test_dropped_connection_reconnects_and_request_completes(
    backend, channel, connect
) -> None:
    fill(backend, channel, 4)
    client = await connect()
    await client.get_input_entity("militia_media")
    backend.requests.reset()
    backend.faults.drop_connection("GetHistoryRequest")
    messages = await client.get_messages("militia_media", limit=4)
    assert [m.id for m in messages] == [4, 3, 2, 1]
    errors_seen = [e.error for e in backend.requests.entries if e.name == "GetHistoryRequest"]
    assert errors_seen == ["DROPPED", None]
    assert (
        backend.requests.connections["default"] == 1
    )  # the client really reconnected (one new connection)


async def test_slow_request_does_not_block_others(backend, channel, connect) -> None:
    fill(backend, channel, 2)
    client = await connect()
    await client.get_input_entity("militia_media")
    backend.faults.slow("GetHistoryRequest", 0.3)
    history = asyncio.ensure_future(client.get_messages("militia_media", limit=2))
    me = await client.get_me()
    assert me.is_self and not history.done()  # answered while history was still pending
    assert [m.id for m in await history] == [2, 1]


async def test_handler_bug_is_answered_and_logged_with_its_error(
    backend, channel, connect, monkeypatch
) -> None:
    fill(backend, channel, 2)
    client = await connect(request_retries=0, raise_last_call_error=True)
    await client.get_input_entity("militia_media")

    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("simulated handler bug")

    monkeypatch.setattr("monitor.simulator.handlers.history_page", broken)
    backend.requests.reset()
    with pytest.raises(errors.ServerError, match="SIMULATOR_INTERNAL_ERROR_GETHISTORYREQUEST"):
        await client.get_messages("militia_media", limit=2)
    [entry] = backend.requests.entries
    assert entry.name == "GetHistoryRequest"
    assert entry.error == "SIMULATOR_INTERNAL_ERROR_GETHISTORYREQUEST"
    assert entry.detail == "ZeroDivisionError: simulated handler bug"
