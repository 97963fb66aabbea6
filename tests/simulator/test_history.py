"""Resolving, paging and searching history through an unmodified TelegramClient."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telethon.tl import functions, types

from monitor.simulator import Backend, SimChannel, SimMessage, client_for
from monitor.simulator.handlers import history_page
from tests.simulator.conftest import T0, fill


async def test_resolve_username_once_then_cached_in_session(
    backend: Backend, channel: SimChannel, tmp_path: Path
) -> None:
    session_file = str(tmp_path / "worker.session")
    client = client_for(backend, session=session_file)
    await client.connect()
    first = await client.get_entity("militia_media")
    await client.get_input_entity("militia_media")
    await client.get_input_entity("@militia_media")
    await client.disconnect()
    assert (first.id, first.title, first.access_hash) == (
        channel.id,
        "Media Office",
        channel.access_hash,
    )
    assert backend.requests.count("ResolveUsernameRequest") == 1

    again = client_for(backend, session=session_file)  # a restart with the same session file
    await again.connect()
    peer = await again.get_input_entity("militia_media")
    await again.disconnect()
    assert isinstance(peer, types.InputPeerChannel) and peer.channel_id == channel.id
    assert backend.requests.count("ResolveUsernameRequest") == 1


async def test_250_posts_take_three_history_calls(backend, channel, connect) -> None:
    fill(backend, channel, 250)
    client = await connect()
    backend.requests.reset()
    messages = [m async for m in client.iter_messages("militia_media", limit=None, wait_time=0)]
    assert [m.id for m in messages] == list(range(250, 0, -1))
    assert messages[0].text == "post number 250" and messages[0].post
    assert backend.requests.count("GetHistoryRequest") == 3


async def test_min_id_returns_only_newer_posts(backend, channel, connect) -> None:
    fill(backend, channel, 250)
    client = await connect()
    newer = [
        m.id
        async for m in client.iter_messages("militia_media", min_id=230, reverse=True, wait_time=0)
    ]
    assert newer == list(range(231, 251))
    newest_first = [
        m.id async for m in client.iter_messages("militia_media", min_id=245, wait_time=0)
    ]
    assert newest_first == [250, 249, 248, 247, 246]


async def test_history_reports_total_count_and_channel_fields(backend, channel, connect) -> None:
    fill(backend, channel, 12)
    backend.bump(channel.id, 3, views=40, forwards=2, reactions={"👍": 5, "🔥": 1})
    client = await connect()
    result = await client.get_messages("militia_media", limit=5)
    assert result.total == 12
    third = (await client.get_messages("militia_media", ids=[3]))[0]
    assert (third.views, third.forwards) == (40, 2)
    assert {r.reaction.emoticon: r.count for r in third.reactions.results} == {"👍": 5, "🔥": 1}
    full = await client(functions.channels.GetFullChannelRequest("militia_media"))
    assert full.full_chat.about == "Synthetic" and full.full_chat.participants_count == 1200


async def test_search_finds_text_case_insensitively(backend, channel, connect) -> None:
    fill(backend, channel, 30)
    backend.post(channel.id, "Meeting with the AMBASSADOR today")
    client = await connect()
    found = [m.text async for m in client.iter_messages("militia_media", search="ambassador")]
    assert found == ["Meeting with the AMBASSADOR today"]
    assert backend.requests.count("SearchRequest") >= 1


def test_history_page_follows_telegram_offsets() -> None:
    backend = Backend()
    chan = backend.add_channel("paging_test", "Paging")
    fill(backend, chan, 20)
    newest_first = chan.visible()

    def ids(**kw: int) -> list[int]:
        args = {"offset_id": 0, "add_offset": 0, "limit": 100, "max_id": 0, "min_id": 0} | kw
        return [m.id for m in history_page(newest_first, offset_date=None, **args)]

    assert ids(limit=3) == [20, 19, 18]
    assert ids(offset_id=10, limit=3) == [9, 8, 7]
    assert ids(offset_id=10, add_offset=-2, limit=4) == [11, 10, 9, 8]
    assert ids(offset_id=6, add_offset=-10, limit=10) == [15, 14, 13, 12, 11, 10, 9, 8, 7, 6]
    assert ids(offset_id=18, add_offset=-5, limit=5) == [20, 19, 18]  # clipped at the newest
    assert ids(max_id=5) == [4, 3, 2, 1]
    assert ids(min_id=17) == [20, 19, 18]
    assert ids(limit=500)[:1] == [20] and len(ids(limit=500)) == 20


def _naive_page(messages: list[SimMessage], **kw: Any) -> list[int]:
    """The paging rules spelt out on a plain newest-first list (the reference)."""
    newest_first = sorted((m for m in messages if not m.deleted), key=lambda m: -m.id)
    if kw["offset_id"]:
        start = next(
            (i for i, m in enumerate(newest_first) if m.id < kw["offset_id"]), len(newest_first)
        )
    elif kw["offset_date"] is not None:
        start = next(
            (i for i, m in enumerate(newest_first) if m.date < kw["offset_date"]),
            len(newest_first),
        )
    else:
        start = 0
    start += kw["add_offset"]
    page = newest_first[max(start, 0) : max(start + min(kw["limit"], 100), 0)]
    return [
        m.id
        for m in page
        if (not kw["max_id"] or m.id < kw["max_id"]) and (not kw["min_id"] or m.id > kw["min_id"])
    ]


@pytest.mark.parametrize("dates", ["ascending", "shuffled"])
def test_history_page_bisects_like_a_linear_scan(dates: str) -> None:
    rng = random.Random(5)
    backend = Backend()
    chan = backend.add_channel("paging_test", "Paging")
    for i in range(300):
        minutes = i if dates == "ascending" else rng.randrange(300)
        backend.post(chan.id, f"p{i}", date=T0 + timedelta(minutes=minutes))
    backend.delete(chan.id, rng.sample(range(1, 301), 40))
    view = chan.visible()
    assert view.dates_ascending is (dates == "ascending")
    assert len(view) == 260 and [m.id for m in view] == [m.id for m in view[:]]
    for _ in range(400):
        kw = {
            "offset_id": rng.choice([0, 0, rng.randrange(1, 320)]),
            "offset_date": rng.choice([None, T0 + timedelta(minutes=rng.randrange(-5, 310))]),
            "add_offset": rng.choice([0, 0, rng.randrange(-120, 50)]),
            "limit": rng.choice([1, 20, 100, 500]),
            "max_id": rng.choice([0, rng.randrange(1, 320)]),
            "min_id": rng.choice([0, rng.randrange(1, 320)]),
        }
        got = [m.id for m in history_page(view, **kw)]
        assert got == _naive_page(list(chan.messages.values()), **kw), kw


def test_rendered_messages_are_telethon_messages_on_the_wire() -> None:
    from telethon.extensions import BinaryReader

    from monitor.simulator.render import message_tl
    from tests.simulator.conftest import make_jpeg

    backend = Backend()
    chan = backend.add_channel("wire_test", "Wire")
    first = backend.post(chan.id, "first", date=T0)
    full = backend.post(
        chan.id,
        "every field",
        date=T0 + timedelta(minutes=1),
        photo=make_jpeg(64, 48),
        replies=3,
        reactions={"👍": 2},
        reply_to=first.id,
        grouped_id=77,
    )
    backend.edit(chan.id, full.id, "edited", date=T0 + timedelta(minutes=2))
    rendered = message_tl(chan, full)
    decoded = BinaryReader(bytes(rendered)).tgread_object()
    assert isinstance(decoded, types.Message)  # what the client builds from those bytes
    assert bytes(decoded) == bytes(rendered)
    assert (decoded.message, decoded.reply_to.reply_to_msg_id, decoded.grouped_id) == (
        "edited",
        first.id,
        77,
    )
