"""Joining and leaving channels through an unmodified TelegramClient: the dialog list follows,
an admin's removal too, and a join held unanswered by a client that goes away never happens."""

from __future__ import annotations

import asyncio

from telethon.tl import functions, types

from monitor.simulator import Backend


async def _dialog_names(client) -> list[str]:  # noqa: ANN001
    return sorted([d.name async for d in client.iter_dialogs()])


async def test_join_leave_and_removal_show_in_the_dialogs(backend: Backend, connect) -> None:
    a = backend.add_channel("join_a", "Join A")
    b = backend.add_channel("join_b", "Join B")
    client = await connect()
    for channel in (a, b):
        peer = types.InputChannel(channel.id, channel.access_hash_for("default"))
        await client(functions.channels.JoinChannelRequest(peer))
    assert await _dialog_names(client) == ["Join A", "Join B"]
    peer_a = types.InputChannel(a.id, a.access_hash_for("default"))
    await client(functions.channels.LeaveChannelRequest(peer_a))
    assert await _dialog_names(client) == ["Join B"]
    backend.remove_member("default", b.id)  # the admin removes the account
    assert await _dialog_names(client) == []
    assert backend.channel(b.id).joined == set()


async def test_a_held_join_whose_client_disconnects_never_happens(
    backend: Backend, connect
) -> None:
    channel = backend.add_channel("held_join", "Held")
    peer = types.InputChannel(channel.id, channel.access_hash_for("default"))
    held = backend.faults.hold("JoinChannelRequest")
    client = await connect()
    request = asyncio.ensure_future(client(functions.channels.JoinChannelRequest(peer)))
    await asyncio.wait_for(held.arrived.wait(), 10)
    await client.disconnect()
    request.cancel()
    held.release()
    await asyncio.sleep(0.2)
    assert channel.joined == set()


async def test_a_join_held_after_it_applied_has_happened(backend: Backend, connect) -> None:
    channel = backend.add_channel("late_answer", "Late")
    peer = types.InputChannel(channel.id, channel.access_hash_for("default"))
    held = backend.faults.hold("JoinChannelRequest", applied=True)
    client = await connect()
    request = asyncio.ensure_future(client(functions.channels.JoinChannelRequest(peer)))
    await asyncio.wait_for(held.arrived.wait(), 10)
    await asyncio.sleep(0.1)
    assert channel.joined == {"default"}
    assert not request.done()
    held.release()
    await asyncio.wait_for(request, 10)
