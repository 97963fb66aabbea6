"""Scenario files: the packaged `seed`, determinism, live play, and errors that name the event."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import math
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from monitor.errors import ConfigError
from monitor.simulator import Backend, ChangeEvent
from monitor.simulator.photos import generate_jpeg
from monitor.simulator.scenario import Scenario, ScenarioError, load_scenario

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ALBUM_AT = datetime(2024, 5, 13, 9, 12, tzinfo=UTC)

# Everything a client could observe about a loaded scenario, as one JSON-able value.
FINGERPRINT = """
import asyncio
import hashlib
from monitor.simulator.scenario import load_scenario

def fingerprint(scenario):
    out = []
    for key, channel in sorted(scenario.channels.items()):
        out.append([key, channel.id, channel.access_hash, channel.username, channel.title])
        for mid, m in sorted(channel.messages.items()):
            photo = hashlib.sha256(m.photo.largest).hexdigest() if m.photo else None
            out.append([mid, m.date.isoformat(), m.text, m.grouped_id, m.deleted, photo,
                        m.edit_date.isoformat() if m.edit_date else None, m.views, m.reactions,
                        m.reply_to, m.fwd_from and [m.fwd_from.channel_id, m.fwd_from.message_id]])
    return out
"""
namespace: dict = {}
exec(FINGERPRINT, namespace)  # the same function runs in the subprocess below
fingerprint = namespace["fingerprint"]


@pytest.fixture(scope="module")
def seed() -> Scenario:
    """The seed scenario with its history applied (read-only tests share it)."""
    scenario = load_scenario("seed", now=NOW)
    scenario.apply_history()
    return scenario


def write(tmp_path: Path, body: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


MINI = """
synthetic: true
seed: 3
channels:
  - {key: a, username: chan_a_sim, title: "A"}
  - {key: b, username: chan_b_sim, title: "B"}
timeline:
"""


# -- photos ----------------------------------------------------------------------------------------


def test_generated_photo_is_deterministic_realistic_jpeg() -> None:
    first = generate_jpeg(7, label="Meeting 1/3")
    assert first == generate_jpeg(7, label="Meeting 1/3")
    assert first != generate_jpeg(8, label="Meeting 1/3")
    assert first != generate_jpeg(7, label="Meeting 2/3")
    assert 100_000 <= len(first) <= 400_000  # several 128 KiB download chunks, like a real photo
    image = Image.open(io.BytesIO(first))
    assert (image.format, image.size) == ("JPEG", (1280, 960))
    assert Image.open(io.BytesIO(generate_jpeg(1, label="x", width=960, height=1280))).size == (
        960,
        1280,
    )


def test_generated_photo_rejects_absurd_sizes() -> None:
    with pytest.raises(ValueError, match="out of range"):
        generate_jpeg(1, label="x", width=0, height=960)


# -- the seed scenario -----------------------------------------------------------------------------


def test_seed_has_three_channels_and_a_few_hundred_posts_2018_to_2024(seed: Scenario) -> None:
    usernames = {key: channel.username for key, channel in seed.channels.items()}
    assert usernames == {
        "media_office": "khazali_media_sim",
        "news_en": "iraq_news_en_sim",
        "news_fa": "iran_akhbar_fa_sim",
    }
    messages = [m for c in seed.channels.values() for m in c.messages.values()]
    assert 300 <= len(messages) <= 600
    assert {m.date.year for m in messages} == set(range(2018, 2025))
    assert 20 <= sum(1 for m in messages if m.photo) < len(messages) // 4  # mostly text
    assert "synthetic" in seed.notice.lower()


def test_seed_album_of_2024_05_13_has_three_photos_and_the_caption(seed: Scenario) -> None:
    album = seed.albums["meeting_2024"]
    assert seed.refs["meeting_2024"] == album[0]
    messages = [seed.backend.message(cid, mid) for cid, mid in album]
    assert len(messages) == 3
    assert {cid for cid, _ in album} == {seed.channels["media_office"].id}
    assert len({m.grouped_id for m in messages}) == 1 and messages[0].grouped_id
    assert {m.date for m in messages} == {ALBUM_AT}
    caption = messages[0].text
    for name in ("قيس الخزعلي", "عصائب أهل الحق", "السفير الصيني", "كوي وي"):
        assert name in caption
    assert [m.text for m in messages[1:]] == ["", ""]
    photos = [m.photo.largest for m in messages if m.photo]
    assert len(set(photos)) == 3
    assert all(100_000 <= len(p) <= 400_000 for p in photos)


def test_seed_history_applies_the_edit_and_the_deletion(seed: Scenario) -> None:
    album_caption = seed.backend.message(*seed.refs["meeting_2024"])
    assert album_caption.edit_date == datetime(2024, 5, 13, 10, 5, tzinfo=UTC)
    assert "المحترم" in album_caption.text  # the edited caption replaced the first one
    cid, mid = seed.refs["clarification_deleted"]
    assert seed.backend.message(cid, mid).deleted
    assert mid not in {m.id for m in seed.channels["media_office"].visible()}


def test_seed_message_ids_rise_with_dates(seed: Scenario) -> None:
    for channel in seed.channels.values():
        dates = [m.date for _, m in sorted(channel.messages.items())]
        assert dates == sorted(dates)


def test_seed_forwards_and_replies_point_at_their_originals(seed: Scenario) -> None:
    originals = seed.albums["meeting_2024"]
    copies = [seed.backend.message(*ref) for ref in seed.albums["fwd_2024"]]
    assert [
        (m.fwd_from.channel_id, m.fwd_from.message_id) for m in copies if m.fwd_from
    ] == originals
    assert copies[0].text == seed.backend.message(*originals[0]).text
    news = seed.channels["news_en"]
    reply = next(m for m in news.visible() if m.reply_to == seed.refs["fwd_2024"][1])
    assert "Cui Wei" in reply.text


def test_seed_persian_channel_uses_persian_letters_and_a_zwnj(seed: Scenario) -> None:
    texts = [m.text for m in seed.channels["news_fa"].visible()]
    assert any("قیس خزعلی" in t and "سفیر چین" in t for t in texts)
    assert any("عصائب\u200cاهل\u200cحق" in t for t in texts)


def test_same_file_gives_same_ids_dates_and_photo_bytes_across_processes() -> None:
    def load() -> Scenario:
        scenario = load_scenario("seed", now=NOW)
        scenario.apply_history()
        return scenario

    here = fingerprint(load())
    assert here == fingerprint(load())
    # A fresh interpreter (another hash seed) must agree too.
    code = FINGERPRINT + textwrap.dedent(
        f"""
        import json
        from datetime import datetime
        s = load_scenario("seed", now=datetime.fromisoformat({NOW.isoformat()!r}))
        s.apply_history()
        print(json.dumps(fingerprint(s), ensure_ascii=False))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=100
    ).stdout
    assert json.loads(out) == json.loads(json.dumps(here, ensure_ascii=False))


# -- live play -------------------------------------------------------------------------------------


async def test_in_events_play_live_in_order_and_push_updates() -> None:
    scenario = load_scenario("seed", now=NOW)
    scenario.apply_history()
    assert "live_breaking" not in scenario.refs and scenario.pending == 6
    pushed: list[ChangeEvent] = []
    scenario.backend.subscribe(pushed.append)

    assert await scenario.play_live(speed=10_000) == 6  # 90 s of scenario time, ~10 ms

    cid, mid = scenario.refs["live_breaking"]
    breaking = scenario.backend.message(cid, mid)
    assert breaking.date == NOW + timedelta(seconds=25)
    assert breaking.edit_date == NOW + timedelta(seconds=40)
    assert "Cui Wei" in breaking.text  # the edit added the mention
    assert scenario.backend.message(*scenario.refs["en_unconfirmed"]).deleted
    assert scenario.backend.message(*scenario.refs["meeting_2024"]).views == 18450 + 1200
    assert [e.kind for e in pushed] == ["new", "edit", "new", "delete"]  # bumps push nothing
    assert scenario.pending == 0
    assert await scenario.play_live(speed=math.inf) == 0


async def test_future_at_times_wait_for_live_play(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINI
        + """
          - {post: a, ref: old, at: 2024-05-13T08:00:00Z, text: "before"}
          - {post: a, ref: later, at: 2024-05-13T10:00:00Z, text: "after now"}
          - {edit: later, after: 30m, text: "edited"}
          - {post: b, in: 5s, forward: old}
        """,
    )
    now = datetime(2024, 5, 13, 9, 0, tzinfo=UTC)
    scenario = load_scenario(path, now=now)
    assert scenario.apply_history() == 1
    assert set(scenario.refs) == {"old"}
    await scenario.play_live(speed=math.inf)
    later = scenario.backend.message(*scenario.refs["later"])
    assert (later.date, later.edit_date, later.text) == (
        datetime(2024, 5, 13, 10, 0, tzinfo=UTC),
        datetime(2024, 5, 13, 10, 30, tzinfo=UTC),
        "edited",
    )
    # The in: 5s forward came first (5 s after now, before the 10:00 post): id 1 in channel b.
    forwarded = scenario.backend.message(scenario.channels["b"].id, 1)
    assert forwarded.text == "before" and forwarded.date == now + timedelta(seconds=5)


# -- building blocks -------------------------------------------------------------------------------


def test_generate_block_fills_templates_within_its_range(tmp_path: Path) -> None:
    body = MINI + textwrap.indent(
        textwrap.dedent(
            """
            - generate: b
              count: 40
              between: [2019-01-01T00:00:00Z, 2019-02-01T00:00:00Z]
              photos: 0.5
              photo_size: [64, 48]
              views: [10, 20]
              templates: ["{greeting} from {city} #{n} on {date}"]
              slots: {greeting: [Hello, Salaam], city: [Basra, Mosul]}
            """
        ),
        "  ",
    )
    path = write(tmp_path, body)
    one, two = (load_scenario(path, backend=Backend(), now=NOW) for _ in range(2))
    for scenario in (one, two):
        scenario.apply_history()
    assert fingerprint(one) == fingerprint(two)
    messages = one.channels["b"].visible()
    assert len(messages) == 40
    assert all(
        datetime(2019, 1, 1, tzinfo=UTC) <= m.date < datetime(2019, 2, 1, tzinfo=UTC)
        for m in messages
    )
    assert all(10 <= m.views <= 20 and "{" not in m.text for m in messages)
    assert {m.text.split()[0] for m in messages} == {"Hello", "Salaam"}
    assert 0 < sum(1 for m in messages if m.photo) < 40


def test_photo_from_a_file_next_to_the_scenario(tmp_path: Path) -> None:
    data = generate_jpeg(5, label="file", width=320, height=240)
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "p.jpg").write_bytes(data)
    path = write(
        tmp_path,
        MINI + "  - {post: a, ref: p, at: 2020-01-01T00:00:00Z, photo: {file: pics/p.jpg}}\n",
    )
    scenario = load_scenario(path, now=NOW)
    scenario.apply_history()
    assert scenario.backend.photo_bytes(*scenario.refs["p"]) == data


def test_rename_and_expire_file_reference(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        MINI
        + """
          - post: a
            ref: pic
            at: 2020-01-01T00:00:00Z
            photo: {generate: {seed: 1, label: x, width: 64, height: 48}}
          - {rename: a, after: 1d, username: chan_a2_sim, title: "A two"}
          - {expire_file_reference: pic, after: 1h}
        """,
    )
    scenario = load_scenario(path, now=NOW)
    channel = scenario.channels["a"]
    scenario.apply_history()
    assert (channel.username, channel.title) == ("chan_a2_sim", "A two")
    fresh = load_scenario(path, now=datetime(2020, 1, 1, 12, tzinfo=UTC))
    fresh.apply_history()
    before = fresh.backend.message(*fresh.refs["pic"]).photo
    after = scenario.backend.message(*scenario.refs["pic"]).photo
    assert before and after and before.file_reference != after.file_reference


def test_packaged_names_and_missing_files() -> None:
    with pytest.raises(ScenarioError, match="no packaged scenario named 'nope'.*seed"):
        load_scenario("nope")
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(Path("/nonexistent/x.yaml"))


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        (
            "  - {post: a, at: 2020-01-01T00:00:00Z, txt: hi}\n",
            r"timeline\[0\] \(post, line 8\): unknown key 'txt' \(did you mean 'text'\?\)",
        ),
        (
            "  - {post: a, ref: x, at: 2020-01-01T00:00:00Z, text: hi}\n  - {edit: y, after: 1m, text: t}\n",
            r"timeline\[1\] \(edit, line 9\): unknown ref 'y'",
        ),
        (
            "  - {edit: x, at: 2019-01-01T00:00:00Z, text: t}\n  - {post: a, ref: x, at: 2020-01-01T00:00:00Z, text: hi}\n",
            r"timeline\[0\] \(edit, line 8\): ref 'x' is not posted yet .*timeline\[1\]",
        ),
        ("  - {post: a, at: 2020-01-01T00:00:00, text: hi}\n", r"timeline\[0\] .*needs a timezone"),
        ("  - {post: a, in: soon, text: hi}\n", r"timeline\[0\] .*'in': 'soon' is not a duration"),
        (
            "  - {post: a, edit: b, at: 2020-01-01T00:00:00Z}\n",
            r"timeline\[0\] .*exactly one event type",
        ),
        (
            "  - {post: zz, at: 2020-01-01T00:00:00Z, text: hi}\n",
            r"timeline\[0\] .*unknown channel 'zz'",
        ),
        ("  - {post: a, text: hi}\n", r"timeline\[0\] .*exactly one of 'at:'"),
        (
            "  - {post: a, ref: x, at: 2020-01-01T00:00:00Z, text: hi}\n  - {post: b, reply_to: x, after: 1m, text: re}\n",
            r"timeline\[1\] .*another channel",
        ),
        (
            "  - {album: a, at: 2020-01-01T00:00:00Z, photos: [{generate: {seed: 1}}]}\n",
            r"timeline\[0\] .*at least two photos",
        ),
    ],
)
def test_bad_scenario_errors_name_file_event_and_problem(
    tmp_path: Path, events: str, expected: str
) -> None:
    path = write(tmp_path, MINI + events)
    with pytest.raises(ScenarioError, match=expected) as caught:
        load_scenario(path, now=NOW)
    assert str(caught.value).startswith(str(path))
    assert isinstance(caught.value, ConfigError)  # the CLI prints it as one line


def test_a_scenario_must_declare_itself_synthetic(tmp_path: Path) -> None:
    path = write(tmp_path, MINI.replace("synthetic: true\n", ""))
    with pytest.raises(ScenarioError, match="synthetic: true"):
        load_scenario(path)


def test_sha256_of_album_photos_is_stable_between_loads(seed: Scenario) -> None:
    again = load_scenario("seed", now=NOW)
    again.apply_history()
    digests = [
        [
            hashlib.sha256(s.backend.photo_bytes(*ref)).hexdigest()
            for ref in s.albums["meeting_2024"]
        ]
        for s in (seed, again)
    ]
    assert digests[0] == digests[1]


async def test_play_live_waits_for_scenario_time_and_can_be_cancelled() -> None:
    scenario = load_scenario("seed", now=NOW)
    scenario.apply_history()
    player = asyncio.create_task(scenario.play_live(speed=1.0))
    for _ in range(5):
        await asyncio.sleep(0)
    assert "live_breaking" not in scenario.refs  # its time (25 s) has not come
    player.cancel()
    with pytest.raises(asyncio.CancelledError):
        await player
    assert scenario.pending == 6


def test_seed_ids_match_the_table_at_the_top_of_seed_yaml(seed: Scenario) -> None:
    """Other parts of the project (and their docs) cite these ids; change both together."""
    media, news_en = 1351196199, 1161405147
    assert {key: c.id for key, c in seed.channels.items()} == {
        "media_office": media,
        "news_en": news_en,
        "news_fa": 1822946296,
    }
    assert seed.albums["meeting_2024"] == [(media, 125), (media, 126), (media, 127)]
    assert seed.albums["fwd_2024"] == [(news_en, 134), (news_en, 135), (news_en, 136)]
    assert {ref: seed.refs[ref] for ref in ("meeting_2022", "meeting_2018")} == {
        "meeting_2022": (media, 85),
        "meeting_2018": (media, 4),
    }
    assert seed.refs["clarification_deleted"] == (media, 129)
    assert seed.refs["en_unconfirmed"] == (news_en, 141)
