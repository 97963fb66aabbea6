"""messages.search with Telegram's filters, and pinned posts, through an unmodified TelegramClient."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from telethon import events
from telethon.tl import functions, types

from monitor.simulator import Backend, SimChannel
from monitor.simulator.scenario import ScenarioError, load_scenario
from tests.simulator.conftest import T0, fill, make_jpeg

WAIT = 10  # seconds; only a guard against hanging, never a timing assertion


def _mixed(backend: Backend, channel: SimChannel) -> None:
    """1 text, 2 photo, 3 link in text, 4 photo + link entity, 5 text, 6 text-url entity."""
    at = [T0 + timedelta(minutes=i) for i in range(6)]
    backend.post(channel.id, "Statement on the meeting", date=at[0])
    backend.post(channel.id, "Photo of the meeting", photo=make_jpeg(seed=1), date=at[1])
    backend.post(channel.id, "Full text: https://example.org/statement", date=at[2])
    backend.post(
        channel.id,
        "Album cover, see example.org",
        photo=make_jpeg(seed=2),
        entities=[types.MessageEntityUrl(offset=17, length=11)],
        date=at[3],
    )
    backend.post(channel.id, "another statement, no link", date=at[4])
    backend.post(
        channel.id,
        "Read more",
        entities=[types.MessageEntityTextUrl(offset=0, length=9, url="https://example.org/x")],
        date=at[5],
    )


async def test_filters_photos_url_and_text(backend, channel, connect) -> None:
    _mixed(backend, channel)
    client = await connect()
    photos = await client.get_messages(
        "militia_media", limit=20, filter=types.InputMessagesFilterPhotos
    )
    assert [m.id for m in photos] == [4, 2] and photos.total == 2
    links = await client.get_messages(
        "militia_media", limit=20, filter=types.InputMessagesFilterUrl
    )
    assert [m.id for m in links] == [6, 4, 3] and links.total == 3
    found = [m.id async for m in client.iter_messages("militia_media", search="STATEMENT")]
    assert found == [5, 3, 1]
    both = await client.get_messages(
        "militia_media", limit=20, search="meeting", filter=types.InputMessagesFilterPhotos
    )
    assert [m.id for m in both] == [2]
    videos = await client.get_messages(
        "militia_media", limit=20, filter=types.InputMessagesFilterVideo
    )
    assert list(videos) == [] and videos.total == 0  # no such media in the model: nothing


async def test_search_pages_by_offset_id_limit_and_id_bounds(backend, channel, connect) -> None:
    for i in range(1, 251):
        backend.post(channel.id, f"post {i}" + (" needle" if i % 2 else ""), date=T0)
    client = await connect()
    backend.requests.reset()
    found = [
        m.id async for m in client.iter_messages("militia_media", search="needle", wait_time=0)
    ]
    assert found == list(range(249, 0, -2))  # 125 results in two pages of at most 100
    assert backend.requests.count("SearchRequest") == 2
    entity = await client.get_input_entity("militia_media")
    page = await client(
        functions.messages.SearchRequest(
            peer=entity,
            q="needle",
            filter=types.InputMessagesFilterEmpty(),
            min_date=None,
            max_date=None,
            offset_id=101,
            add_offset=-2,
            limit=5,
            max_id=0,
            min_id=95,
            hash=0,
        )
    )
    assert page.count == 125
    assert [m.id for m in page.messages] == [103, 101, 99, 97]  # 2 newer, then down to min_id


async def test_pinned_posts_in_search_history_and_pushed_updates(backend, channel, connect) -> None:
    fill(backend, channel, 5)
    backend.pin(channel.id, 2)
    client = await connect()
    await client(functions.channels.JoinChannelRequest("militia_media"))
    pins: asyncio.Queue[types.UpdatePinnedChannelMessages] = asyncio.Queue()

    async def on_raw(update: types.TypeUpdate) -> None:
        if isinstance(update, types.UpdatePinnedChannelMessages):
            await pins.put(update)

    client.add_event_handler(on_raw, events.Raw)
    pinned = await client.get_messages(
        "militia_media", limit=20, filter=types.InputMessagesFilterPinned
    )
    assert [m.id for m in pinned] == [2] and pinned[0].pinned
    history = await client.get_messages("militia_media", limit=5)
    assert [m.id for m in history if m.pinned] == [2]

    assert backend.pin(channel.id, 4)
    update = await asyncio.wait_for(pins.get(), WAIT)
    assert (update.channel_id, update.messages, update.pinned) == (channel.id, [4], True)
    assert update.pts == channel.pts
    assert backend.unpin(channel.id, 2)
    update = await asyncio.wait_for(pins.get(), WAIT)
    assert (update.messages, update.pinned) == ([2], False)
    assert not backend.unpin(channel.id, 2)  # already unpinned: no change, no pts
    pinned = await client.get_messages(
        "militia_media", limit=20, filter=types.InputMessagesFilterPinned
    )
    assert [m.id for m in pinned] == [4]


SCENARIO = """
synthetic: true
seed: 3
channels:
  - {key: a, username: chan_a_sim, title: "A"}
timeline:
  - {post: a, ref: rules, at: 2024-01-01T00:00:00Z, text: "Channel rules", pinned: true}
  - {post: a, ref: news, after: 1h, text: "News"}
  - album: a
    ref: pics
    after: 1h
    caption: "Pictures"
    pinned: true
    photos: [{generate: {seed: 1, width: 64, height: 48}}, {generate: {seed: 2, width: 64, height: 48}}]
  - {pin: news, after: 1h}
  - {unpin: rules, after: 1h}
"""


def test_scenario_pins_posts_albums_and_timeline_events(tmp_path: Path) -> None:
    path = tmp_path / "pins.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    scenario = load_scenario(path, now=datetime(2025, 1, 1, tzinfo=UTC))
    scenario.apply_history()
    channel = scenario.channels["a"]
    assert {m.id for m in channel.messages.values() if m.pinned} == {2, 3}  # news, album's first
    assert [e.kind for e in channel.changes] == [
        "new",
        "pin",
        "new",
        "new",
        "new",
        "pin",
        "pin",
    ] + ["unpin"]


def test_scenario_pin_errors(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.replace("pinned: true}", "pinned: yes-please}"), encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"timeline\[0\].*'pinned' must be true or false"):
        load_scenario(path)
    path.write_text(SCENARIO + "  - {delete: news, after: 1h}\n  - {pin: news, after: 1h}\n")
    with pytest.raises(ScenarioError, match=r"timeline\[6\].*'news' is already deleted"):
        load_scenario(path)


def test_seed_pins_the_2024_album() -> None:
    scenario = load_scenario("seed", now=datetime(2026, 1, 1, tzinfo=UTC))
    scenario.apply_history()
    media = scenario.channels["media_office"]
    assert [m.id for m in media.messages.values() if m.pinned] == [125]
