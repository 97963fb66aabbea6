"""Catching up after being offline, with Telethon's own machinery (a persistent session whose update
state is kept, ``catch_up=True``), and the difference requests behind it."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telethon import TelegramClient, events
from telethon.tl import functions, types

from monitor.simulator import API_HASH, API_ID, Backend, SimChannel, SimulatorServer, client_for
from monitor.simulator.clients import write_session_file
from monitor.simulator.scenario import load_scenario
from tests.simulator.conftest import fill

WAIT = 10  # seconds; only a guard against hanging, never a timing assertion


class Recorder:
    """Every NewMessage, MessageEdited and MessageDeleted event a client's handlers receive."""

    def __init__(self, client: TelegramClient) -> None:
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        client.add_event_handler(self._new, events.NewMessage())
        client.add_event_handler(self._edited, events.MessageEdited())
        client.add_event_handler(self._deleted, events.MessageDeleted())

    async def _new(self, event: events.NewMessage.Event) -> None:
        await self.queue.put(("new", event.message.text))

    async def _edited(self, event: events.MessageEdited.Event) -> None:
        await self.queue.put(("edit", event.message.text))

    async def _deleted(self, event: events.MessageDeleted.Event) -> None:
        await self.queue.put(("delete", event.deleted_ids))

    async def take(self, n: int) -> list[tuple[str, Any]]:
        return [await asyncio.wait_for(self.queue.get(), WAIT) for _ in range(n)]


@asynccontextmanager
async def online(
    backend: Backend, session: Path, *, catch_up: bool = False
) -> AsyncIterator[tuple[TelegramClient, Recorder]]:
    """A client on a SQLite session file; its handlers are registered before it connects, so
    they see what ``catch_up`` brings. Disconnecting saves its update state in the file."""
    client = client_for(backend, session=str(session), catch_up=catch_up)
    recorder = Recorder(client)
    await client.connect()
    try:
        yield client, recorder
    finally:
        await client.disconnect()


async def _go_offline_joined(backend: Backend, channel: SimChannel, session: Path) -> None:
    """Join, see one live post (Telethon now tracks the channel's pts), disconnect."""
    async with online(backend, session) as (client, recorder):
        await client(functions.channels.JoinChannelRequest("militia_media"))
        backend.post(channel.id, "seen live")
        assert await recorder.take(1) == [("new", "seen live")]


SCENARIO = """
synthetic: true
seed: 5
channels:
  - {key: office, username: office_sim, title: "Office", joined: true}
timeline:
  - {post: office, ref: first, at: 2024-05-13T09:00:00Z, text: "statement one"}
  - {post: office, ref: second, after: 1h, text: "statement two"}
  - {post: office, after: 1h, text: "statement three"}
  # played live, while the client is offline
  - {post: office, in: 10s, text: "offline one"}
  - {post: office, in: 20s, text: "offline two"}
  - {edit: first, in: 30s, text: "statement one (corrected)"}
  - {delete: second, in: 40s}
  - {post: office, in: 50s, text: "offline three"}
"""


async def test_offline_posts_edit_and_deletion_reach_handlers_on_catch_up(tmp_path: Path) -> None:
    path = tmp_path / "office.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    scenario = load_scenario(path)
    scenario.apply_history()
    backend, office = scenario.backend, scenario.channels["office"]
    session = tmp_path / "reader.session"
    async with online(backend, session) as (client, _):
        [dialog] = await client.get_dialogs()  # Telethon now tracks the channel's pts
        assert dialog.entity.id == office.id

    assert await scenario.play_live(speed=math.inf) == 5  # while the client is offline
    backend.requests.reset()
    async with online(backend, session, catch_up=True) as (client, recorder):
        received = await recorder.take(5)  # handlers run as tasks: compare in any order
        assert sorted(received, key=repr) == sorted(
            [
                ("new", "offline one"),
                ("new", "offline two"),
                ("edit", "statement one (corrected)"),
                ("delete", [2]),
                ("new", "offline three"),
            ],
            key=repr,
        )
        backend.post(office.id, "live again")  # the client's pts is right: no gap, no repeat
        assert await recorder.take(1) == [("new", "live again")]
    assert backend.requests.count("GetDifferenceRequest") == 1
    assert backend.requests.count("GetHistoryRequest") == 0


async def test_a_plain_telethon_program_catches_up_over_tcp(
    backend: Backend, channel: SimChannel, tmp_path: Path
) -> None:
    """What ``monitor simulator serve --session-file`` offers other programs: a default
    ``TelegramClient`` on the written session file, catching up after a restart."""
    backend.join("default", channel.id)
    fill(backend, channel, 3)
    async with SimulatorServer(backend) as server:
        path = write_session_file(tmp_path / "sim", host=server.host, port=server.port)

        def program(catch_up: bool) -> TelegramClient:
            return TelegramClient(str(path), API_ID, API_HASH, catch_up=catch_up)

        client = program(catch_up=False)
        await client.connect()
        await client.get_dialogs()
        await client.disconnect()
        backend.post(channel.id, "while the program was stopped")
        backend.edit(channel.id, 3, "post number 3, edited")
        client = program(catch_up=True)
        recorder = Recorder(client)
        await client.connect()
        try:
            received = await recorder.take(2)
        finally:
            await client.disconnect()
    assert sorted(received) == [
        ("edit", "post number 3, edited"),
        ("new", "while the program was stopped"),
    ]


async def test_a_longer_backlog_comes_through_channel_difference(
    backend: Backend, channel: SimChannel, tmp_path: Path
) -> None:
    session = tmp_path / "reader.session"
    await _go_offline_joined(backend, channel, session)
    fill(backend, channel, 30)  # more than getDifference gives inline: UpdateChannelTooLong
    backend.requests.reset()
    async with online(backend, session, catch_up=True) as (_, recorder):
        received = await recorder.take(30)
    assert sorted(text for _, text in received) == sorted(f"post number {i}" for i in range(1, 31))
    assert backend.requests.count("GetChannelDifferenceRequest") == 1


async def test_past_the_limit_the_channel_difference_is_too_long(
    backend: Backend, channel: SimChannel, tmp_path: Path
) -> None:
    session = tmp_path / "reader.session"
    await _go_offline_joined(backend, channel, session)
    fill(backend, channel, 150)
    backend.requests.reset()
    async with online(backend, session, catch_up=True) as (_, recorder):
        # Telethon takes the dialog's pts from the too-long answer, asks once more (empty) and
        # delivers nothing of the backlog: it expects the program to refetch history.
        await _until(lambda: backend.requests.count("GetChannelDifferenceRequest") == 2)
        backend.post(channel.id, "live after the gap")  # not a gap: the pts was taken
        assert await recorder.take(1) == [("new", "live after the gap")]
    names = backend.requests.names()
    assert "GetHistoryRequest" not in names


async def test_a_fresh_login_with_catch_up_gets_no_history(
    backend: Backend, channel: SimChannel, tmp_path: Path
) -> None:
    backend.join("default", channel.id)
    fill(backend, channel, 5)
    async with online(backend, tmp_path / "new.session", catch_up=True) as (_, recorder):
        backend.post(channel.id, "first live post")
        assert await recorder.take(1) == [("new", "first live post")]


async def _until(condition: Any) -> None:
    for _ in range(WAIT * 100):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


# -- the requests themselves -------------------------------------------------------------------


async def _input_channel(client: TelegramClient) -> types.InputChannel:
    peer = await client.get_input_entity("militia_media")
    return types.InputChannel(peer.channel_id, peer.access_hash)


async def test_channel_difference_empty_full_and_too_long(
    backend: Backend, channel: SimChannel, connect
) -> None:
    fill(backend, channel, 3)
    client = await connect()
    entity = await _input_channel(client)

    def ask(pts: int, limit: int = 100) -> Any:
        return client(
            functions.updates.GetChannelDifferenceRequest(
                channel=entity, filter=types.ChannelMessagesFilterEmpty(), pts=pts, limit=limit
            )
        )

    empty = await ask(channel.pts)
    assert isinstance(empty, types.updates.ChannelDifferenceEmpty) and empty.pts == channel.pts
    start = channel.pts
    backend.pin(channel.id, 3)
    backend.post(channel.id, "new")
    backend.delete(channel.id, [1])
    diff = await ask(start)
    assert isinstance(diff, types.updates.ChannelDifference) and diff.final
    assert diff.pts == channel.pts == start + 3
    assert [m.message for m in diff.new_messages] == ["new"]
    assert [type(u).__name__ for u in diff.other_updates] == [
        "UpdatePinnedChannelMessages",
        "UpdateDeleteChannelMessages",
    ]
    fill(backend, channel, 10)
    too_long = await ask(start, limit=5)
    assert isinstance(too_long, types.updates.ChannelDifferenceTooLong)
    assert too_long.dialog.pts == channel.pts and too_long.dialog.top_message == 14
    assert [m.id for m in too_long.messages] == [14, 13, 12, 11, 10]
    assert [c.id for c in too_long.chats] == [channel.id]


async def test_get_difference_gives_few_updates_inline_and_many_as_too_long(
    backend: Backend, channel: SimChannel, connect
) -> None:
    other = backend.add_channel("other_news", "Other News")
    for joined in (channel, other):
        backend.join("default", joined.id)
    fill(backend, channel, 2)
    client = await connect()
    state = await client(functions.updates.GetStateRequest())

    def since(date: Any) -> Any:
        return client(functions.updates.GetDifferenceRequest(pts=state.pts, date=date, qts=0))

    assert isinstance(await since(state.date), types.updates.DifferenceEmpty)
    start = channel.pts
    backend.post(channel.id, "kept")
    gone = backend.post(channel.id, "posted and deleted while away")
    backend.edit(channel.id, gone.id, "edited, then deleted")
    backend.delete(channel.id, [gone.id])
    for i in range(25):
        backend.post(other.id, f"busy {i}")
    diff = await since(state.date)
    assert isinstance(diff, types.updates.Difference)
    assert diff.state.pts == state.pts and diff.state.date >= state.date
    by_type = [(type(u).__name__, u.pts, getattr(u, "pts_count", None)) for u in diff.other_updates]
    inline = [
        ("UpdateNewChannelMessage", start + 1, 1),
        # the deleted post's new-message and edit updates are left out; the deletion carries
        # their pts, so the client sees no gap
        ("UpdateDeleteChannelMessages", start + 4, 3),
    ]
    too_long = [("UpdateChannelTooLong", other.pts, None)]
    assert by_type == (inline + too_long if channel.id < other.id else too_long + inline)
    assert {c.id for c in diff.chats} == {channel.id, other.id}
