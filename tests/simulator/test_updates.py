"""Edits, deletions and pushed updates (with pts gaps) as the real client sees them."""

from __future__ import annotations

import asyncio

from telethon import events
from telethon.tl import functions, types

from monitor.simulator import Backend, SimChannel
from tests.simulator.conftest import T0, fill

WAIT = 10  # seconds; only a guard against hanging, never a timing assertion


async def test_edits_and_deletions_visible_on_refetch(backend, channel, connect) -> None:
    fill(backend, channel, 5)
    client = await connect()
    before = await client.get_messages("militia_media", ids=[2, 3])
    assert [m.text for m in before] == ["post number 2", "post number 3"]
    assert before[0].edit_date is None
    backend.edit(channel.id, 2, "post number 2 (corrected)")
    backend.delete(channel.id, [3])
    after = await client.get_messages("militia_media", ids=[2, 3, 99])
    assert after[0].text == "post number 2 (corrected)" and after[0].edit_date is not None
    assert after[1] is None and after[2] is None
    history = [m.id async for m in client.iter_messages("militia_media", wait_time=0)]
    assert history == [5, 4, 2, 1]


async def _joined_client(backend: Backend, connect) -> object:
    client = await connect()
    await client(functions.channels.JoinChannelRequest("militia_media"))
    return client


async def test_pushed_post_fires_new_message(
    backend: Backend, channel: SimChannel, connect
) -> None:
    client = await _joined_client(backend, connect)
    received: asyncio.Queue[events.NewMessage.Event] = asyncio.Queue()
    client.add_event_handler(received.put, events.NewMessage(chats=[channel.id]))
    backend.post(channel.id, "breaking: live post", date=T0)
    event = await asyncio.wait_for(received.get(), WAIT)
    assert event.message.text == "breaking: live post"
    assert event.chat_id == -1000000000000 - channel.id


async def test_pushed_edit_and_delete_fire_events(
    backend: Backend, channel: SimChannel, connect
) -> None:
    posted = backend.post(channel.id, "first version")
    client = await _joined_client(backend, connect)
    edits: asyncio.Queue[events.MessageEdited.Event] = asyncio.Queue()
    deletions: asyncio.Queue[events.MessageDeleted.Event] = asyncio.Queue()
    client.add_event_handler(edits.put, events.MessageEdited())
    client.add_event_handler(deletions.put, events.MessageDeleted())
    backend.edit(channel.id, posted.id, "second version")
    backend.delete(channel.id, [posted.id])
    assert (await asyncio.wait_for(edits.get(), WAIT)).message.text == "second version"
    assert (await asyncio.wait_for(deletions.get(), WAIT)).deleted_ids == [posted.id]


async def test_missed_update_is_recovered_with_channel_difference(
    backend: Backend, channel: SimChannel, connect
) -> None:
    client = await _joined_client(backend, connect)
    received: asyncio.Queue[str] = asyncio.Queue()

    async def on_new(event: events.NewMessage.Event) -> None:
        await received.put(event.message.text)

    client.add_event_handler(on_new, events.NewMessage())
    backend.post(channel.id, "one")
    assert await asyncio.wait_for(received.get(), WAIT) == "one"
    backend.requests.reset()
    backend.drop_next_updates(1)
    backend.post(channel.id, "two (push lost)")
    backend.post(channel.id, "three")
    texts = {await asyncio.wait_for(received.get(), WAIT) for _ in range(2)}
    assert texts == {"two (push lost)", "three"}
    assert backend.requests.count("GetChannelDifferenceRequest") >= 1


async def test_channel_difference_pages_edits_and_deletes(
    backend: Backend, channel: SimChannel, connect
) -> None:
    fill(backend, channel, 3)
    start = channel.pts
    backend.edit(channel.id, 1, "edited")
    backend.delete(channel.id, [2])
    backend.post(channel.id, "new")
    client = await connect()
    entity = await client.get_input_entity("militia_media")
    diff = await client(
        functions.updates.GetChannelDifferenceRequest(
            channel=entity, filter=types.ChannelMessagesFilterEmpty(), pts=start, limit=100
        )
    )
    assert diff.final and diff.pts == channel.pts
    assert [m.message for m in diff.new_messages] == ["new"]
    kinds = [type(u).__name__ for u in diff.other_updates]
    assert kinds == ["UpdateEditChannelMessage", "UpdateDeleteChannelMessages"]


async def test_only_joined_channels_push_updates(
    backend: Backend, channel: SimChannel, connect
) -> None:
    other = backend.add_channel("other_news", "Other News")
    client = await connect()
    await client(functions.channels.JoinChannelRequest("other_news"))  # not militia_media
    received: asyncio.Queue[str] = asyncio.Queue()

    async def on_new(event: events.NewMessage.Event) -> None:
        await received.put(event.message.text)

    client.add_event_handler(on_new, events.NewMessage())
    backend.post(channel.id, "not joined: never pushed")
    backend.post(other.id, "joined: pushed")
    # Pushes on one connection arrive in order, so a push of the first post would come first.
    assert await asyncio.wait_for(received.get(), WAIT) == "joined: pushed"
