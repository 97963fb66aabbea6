"""The dialog list (joined channels) through an unmodified TelegramClient."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telethon.tl import functions, types

from monitor.simulator import Backend, SimChannel, client_for
from monitor.simulator.scenario import ScenarioError, load_scenario
from tests.simulator.conftest import T0


def _channels(backend: Backend, n: int, *, join: bool = True) -> list[SimChannel]:
    """``n`` channels, channel i's only post at T0 + i minutes (so the last is the newest)."""
    made = []
    for i in range(n):
        channel = backend.add_channel(f"dialog_{i:03d}", f"Dialog {i}")
        backend.post(channel.id, f"latest in {i}", date=T0 + timedelta(minutes=i))
        if join:
            backend.join("default", channel.id)
        made.append(channel)
    return made


async def test_get_dialogs_lists_joined_channels_newest_first(backend, connect) -> None:
    joined = _channels(backend, 3)
    backend.add_channel("not_joined", "Not joined")
    backend.post(joined[0].id, "a newer post moves this channel to the top", date=T0 + timedelta(1))
    client = await connect()
    backend.requests.reset()
    dialogs = await client.get_dialogs()
    assert [d.name for d in dialogs] == ["Dialog 0", "Dialog 2", "Dialog 1"]
    assert dialogs.total == 3
    top = dialogs[0]
    assert top.is_channel and top.entity.access_hash == joined[0].access_hash
    assert top.message.text == "a newer post moves this channel to the top"
    assert top.message.id == 2 and top.dialog.pts == joined[0].pts
    assert backend.requests.counts() == {"GetDialogsRequest": 1}


async def test_iter_dialogs_pages_through_more_than_a_hundred(backend, connect) -> None:
    channels = _channels(backend, 130)
    client = await connect()
    backend.requests.reset()
    names = [d.name async for d in client.iter_dialogs()]
    assert names == [c.title for c in reversed(channels)]
    assert backend.requests.count("GetDialogsRequest") == 2
    assert (await client.get_dialogs(limit=0)).total == 130
    older = await client.get_dialogs(limit=5, offset_date=T0 + timedelta(minutes=10))
    # A top message at exactly offset_date is included (Telethon also keeps it).
    assert [d.name for d in older] == [f"Dialog {i}" for i in (10, 9, 8, 7, 6)]


async def test_dialogs_answer_types_follow_telegram(backend, connect) -> None:
    _channels(backend, 3)
    client = await connect()
    whole = await client(
        functions.messages.GetDialogsRequest(None, 0, types.InputPeerEmpty(), 100, 0)
    )
    part = await client(functions.messages.GetDialogsRequest(None, 0, types.InputPeerEmpty(), 2, 0))
    assert isinstance(whole, types.messages.Dialogs) and len(whole.dialogs) == 3
    assert isinstance(part, types.messages.DialogsSlice) and part.count == 3
    assert len(part.dialogs) == 2 and len(part.messages) == 2 and len(part.chats) == 2
    assert await client.get_dialogs(archived=True) == []


async def test_banned_and_left_channels_leave_the_dialog_list(backend, connect) -> None:
    a, b, c = _channels(backend, 3)
    backend.faults.ban(b.id, account="default")
    client = await connect()
    await client(functions.channels.LeaveChannelRequest(await client.get_input_entity(c.username)))
    assert [d.name for d in await client.get_dialogs()] == ["Dialog 0"]


async def test_get_peer_dialogs_answers_for_the_peers_asked(backend, connect) -> None:
    a, b = _channels(backend, 2)
    outsider = backend.add_channel("outsider", "Outsider")
    client = await connect()
    peers = [await client.get_input_entity(x.username) for x in (a, b, outsider)]
    result = await client(
        functions.messages.GetPeerDialogsRequest([types.InputDialogPeer(p) for p in peers])
    )
    assert isinstance(result, types.messages.PeerDialogs)
    assert [d.peer.channel_id for d in result.dialogs] == [a.id, b.id]
    assert [m.message for m in result.messages] == ["latest in 0", "latest in 1"]
    assert isinstance(result.state, types.updates.State)


async def test_get_dialog_filters_is_empty(backend, connect) -> None:
    client = await connect()
    result = await client(functions.messages.GetDialogFiltersRequest())
    assert isinstance(result, types.messages.DialogFilters)
    assert result.filters == [] and not result.tags_enabled


JOINED_SCENARIO = """
synthetic: true
seed: 3
channels:
  - {key: a, username: joined_sim, title: "Joined", joined: true}
  - {key: b, username: other_sim, title: "Other"}
timeline:
  - {post: a, at: 2024-01-01T00:00:00Z, text: "hello"}
  - {post: b, at: 2024-01-02T00:00:00Z, text: "not in the dialogs"}
"""


async def test_scenario_channels_marked_joined_are_the_dialogs(tmp_path: Path) -> None:
    path = tmp_path / "joined.yaml"
    path.write_text(JOINED_SCENARIO)
    scenario = load_scenario(path, now=datetime(2026, 1, 1, tzinfo=UTC))
    scenario.apply_history()
    client = client_for(scenario.backend)
    await client.connect()
    try:
        dialogs = await client.get_dialogs()
    finally:
        await client.disconnect()
    assert [(d.name, d.message.text) for d in dialogs] == [("Joined", "hello")]
    path.write_text(JOINED_SCENARIO.replace("joined: true", "joined: yes please"))
    with pytest.raises(ScenarioError, match="'joined' must be true or false"):
        load_scenario(path)
