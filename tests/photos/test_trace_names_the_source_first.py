"""`monitor photos trace` names the channel that posted a photo first (by posted_at), even when
its reposts (re-encoded, resized, cropped) were captured earlier, with each repost's channel and
delay; `--reposted --json` lists it; an unrelated photo stays out. Simulated Telegram, real
TelegramClient and pipeline; SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.photos.trace import build_trace, render_trace
from storage.models import channel, photo_hash, post, post_media
from storage.photo_appearances import Appearance
from tests.photos import photo_variants as v
from tests.telegram_fixtures import START, spec

MINUTE = timedelta(minutes=1)
POSTED = START + 60 * MINUTE  # the source's post


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


REPOSTS_FIRST = ("relay_three", "relay_one", "elsewhere", "relay_two", "source_media")


async def _scenario(
    telegram, connect, make_pipeline, *, order=REPOSTS_FIRST, **pipeline_args
) -> dict[str, str]:
    """The source posts a meeting photo; three channels repost edited copies 20, 35 and 50
    minutes later and another posts an unrelated photo. By default the reposts are collected
    first. The source's and relay_two's captions name a watched entity."""
    original = v.original()
    channels = {
        "source_media": (0, original, "The council met قيس الخزعلي today"),
        "relay_one": (20, v.reencoded(original), "Reposted: the meeting"),
        "relay_two": (35, v.resized(original), "قيس الخزعلي at the meeting"),
        "relay_three": (50, v.cropped(v.reencoded(original), 4), "Meeting, cropped"),
        "elsewhere": (10, v.unrelated(), "Something else entirely"),
    }
    for name, (minutes, photo, text) in channels.items():
        channel = telegram.add_channel(name, name.replace("_", " ").title())
        telegram.post(channel.id, "earlier text post", date=START)
        telegram.post(channel.id, text, date=POSTED + minutes * MINUTE, photo=photo)
    clock = Clock(POSTED + 2 * 60 * MINUTE)
    pipeline = make_pipeline(now=clock, **pipeline_args)
    client = await connect()
    for name in order:
        clock.at += 5 * MINUTE
        report = await pipeline.collect(client, spec(name))
        assert report.ok and report.photos == 1, report.error
    return {name: name for name in channels}


async def _cli(env: dict[str, str], *args: str) -> str:
    result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def _env(db_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "MONITOR_DATA_DIR": str(tmp_path),  # media in tmp_path/media, as the pipeline's store
        "MONITOR_DATABASE_URL": db_url,
        "MONITOR_CHANNELS_FILE": str(tmp_path / "none.yaml"),
        "COLUMNS": "250",
    }


async def test_trace_of_a_repost_names_the_source_first_then_each_repost_and_delay(
    telegram, connect, make_pipeline, db_url, tmp_path
):
    await _scenario(telegram, connect, make_pipeline)
    out = await _cli(_env(db_url, tmp_path), "photos", "trace", "https://t.me/relay_two/2")
    lines = out.splitlines()
    assert lines[0].endswith(": 4 post(s)")
    assert "first posted by @source_media at 2024-05-01 09:00:00 UTC" in lines[1]
    assert "(captured 2024-05-01 11:25:00 UTC)" in lines[1]  # captured after every repost
    assert "https://t.me/source_media/2" in lines[1]
    reposts = lines[2:]
    assert [line.split()[0] for line in reposts] == ["+20m", "+35m", "+50m"]
    assert [line.split()[1] for line in reposts] == ["@relay_one", "@relay_two", "@relay_three"]
    assert "captured 2024-05-01 11:10:00 UTC" in reposts[0]
    assert "elsewhere" not in out


async def test_reposted_json_lists_the_photo_once_with_its_first_appearance(
    telegram, connect, make_pipeline, db_url, tmp_path
):
    await _scenario(telegram, connect, make_pipeline)
    out = await _cli(_env(db_url, tmp_path), "photos", "trace", "--reposted", "--json")
    [row] = [json.loads(line) for line in out.splitlines()]
    assert row["posts"] == 4
    first = row["first"]
    assert (first["channel"], first["message_id"]) == ("@source_media", 2)
    assert first["posted_at"] == "2024-05-01T09:00:00+00:00"
    assert first["captured_at"] == "2024-05-01T11:25:00+00:00"
    assert first["link"] == "https://t.me/source_media/2"
    assert row["sha256"] == first["sha256"]
    assert [(r["channel"], r["delay_seconds"]) for r in row["reposts"]] == [
        ("@relay_one", 20 * 60),
        ("@relay_two", 35 * 60),
        ("@relay_three", 50 * 60),
    ]
    assert all(0 <= r["distance"] <= 6 for r in row["reposts"])
    assert len({first["sha256"], *(r["sha256"] for r in row["reposts"])}) == 4  # four files


async def test_index_hashes_photos_collected_before_hashing_and_is_idempotent(
    telegram, connect, make_pipeline, engine, db_url, tmp_path
):
    await _scenario(telegram, connect, make_pipeline)
    async with engine.begin() as conn:
        stored = dict((await conn.execute(select(photo_hash.c.sha256, photo_hash.c.phash))).all())
        assert len(stored) == 5  # the collector hashed every photo it stored
        await conn.execute(delete(photo_hash))  # as in an archive from before hashing
    env = _env(db_url, tmp_path)
    lonely = await _cli(env, "photos", "trace", "--reposted", "--json")
    assert lonely == ""  # without hashes, no two posts share a file

    assert json.loads(await _cli(env, "photos", "index", "--json")) == {"hashed": 5, "failed": []}
    async with engine.connect() as conn:
        again = dict((await conn.execute(select(photo_hash.c.sha256, photo_hash.c.phash))).all())
    assert again == stored
    assert json.loads(await _cli(env, "photos", "index", "--json"))["hashed"] == 0
    [row] = [
        json.loads(line)
        for line in (await _cli(env, "photos", "trace", "--reposted", "--json")).splitlines()
    ]
    assert row["first"]["channel"] == "@source_media"


def _seen(post_id: int, channel: str, posted: datetime, captured: datetime) -> Appearance:
    return Appearance(
        post_id=post_id,
        channel_id=post_id,
        message_id=7,
        grouped_id=None,
        username=channel,
        channel_title=channel,
        posted_at=posted,
        first_captured_at=captured,
        deleted_at=None,
        sha256=f"{post_id:064x}",
    )


def test_posts_of_the_same_minute_are_ordered_by_our_capture_time():
    # Telegram dates are whole seconds: two channels posting "at once" are told apart by which
    # one we captured first, and both times are shown.
    late = _seen(1, "captured_later", POSTED, POSTED + 9 * MINUTE)
    early = _seen(2, "captured_first", POSTED, POSTED + 2 * MINUTE)
    after = _seen(3, "posted_after", POSTED + MINUTE, POSTED + MINUTE)
    trace = build_trace(late.sha256, [after, late, early], {})
    assert trace is not None
    assert trace.first.username == "captured_first"
    assert [r.seen.username for r in trace.reposts] == ["captured_later", "posted_after"]
    assert [r.delay for r in trace.reposts] == [timedelta(0), MINUTE]
    text = render_trace(trace)
    assert "first posted by @captured_first at 2024-05-01 09:00:00 UTC" in text
    assert "(captured 2024-05-01 09:02:00 UTC)" in text


async def test_trace_by_sha256_and_unknown_photos_are_named(
    telegram, connect, make_pipeline, engine, db_url, tmp_path
):
    await _scenario(telegram, connect, make_pipeline)
    env = _env(db_url, tmp_path)
    async with engine.connect() as conn:
        [(sha256,)] = await conn.execute(
            select(post_media.c.sha256)
            .join(post, post.c.id == post_media.c.post_id)
            .join(channel, channel.c.id == post.c.channel_id)
            .where(channel.c.username == "relay_three")
        )
    out = await _cli(env, "photos", "trace", sha256.upper())
    assert out.splitlines()[0] == f"photo {sha256[:16]}: 4 post(s)"
    assert "first posted by @source_media" in out

    missing = await asyncio.to_thread(
        CliRunner().invoke, app, ["photos", "trace", "f" * 64], env=env
    )
    assert missing.exit_code == 1
    assert f"no archived post shows a photo with SHA-256 {'f' * 64}" in missing.output
    bad = await asyncio.to_thread(CliRunner().invoke, app, ["photos", "trace", "nope"], env=env)
    assert bad.exit_code == 2 and "TARGET 'nope' is not a post reference" in bad.output
