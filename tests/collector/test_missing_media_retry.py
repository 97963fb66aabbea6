"""Photos Telegram refused are tried again with back-off, whatever the post's age, for a period
(MONITOR_MEDIA_RETRY_DAYS), and `monitor status` shows what is still missing or given up."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.simulator.photos import generate_jpeg
from storage.missing_media import list_missing_media
from storage.models import post_media, post_version
from tests.telegram_fixtures import START, spec

# The post is dated START and captured ten days later: far outside the 2-day re-check window.
CAPTURED = START + timedelta(days=10)
MINUTE = timedelta(minutes=1)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def _refused_photo(telegram, connect, make_pipeline, *, refusals: int, **pipeline_args):
    """A channel with one photo post, collected while Telegram refuses its download."""
    channel = telegram.add_channel("chan_a", "Channel A")
    message = telegram.post(channel.id, "photo", date=START, photo=generate_jpeg(5, label="x"))
    telegram.faults.fail("GetFileRequest", "FILE_ID_INVALID", times=refusals)
    clock = Clock(CAPTURED)
    pipeline = make_pipeline(now=clock, **pipeline_args)
    client = await connect()
    report = await pipeline.collect(client, spec("chan_a"))
    assert report.ok and report.new == 1 and report.photos == 0
    served = hashlib.sha256(telegram.photo_bytes(channel.id, message.id)).hexdigest()
    return channel, message, clock, pipeline, client, served


async def _stored(engine) -> list[str | None]:
    async with engine.connect() as conn:
        return list((await conn.execute(select(post_media.c.sha256))).scalars())


async def _attempt(telegram, pipeline, client) -> int:
    """Run the periodic re-check; returns how many downloads it tried."""
    telegram.requests.reset()
    report = await pipeline.recheck(client, spec("chan_a"))
    assert report.ok, report.error
    return telegram.requests.count("GetFileRequest")


async def test_a_refused_photo_of_an_old_post_is_fetched_once_telegram_serves_it(
    telegram, connect, make_pipeline, engine, media_store
):
    channel, message, clock, pipeline, client, served = await _refused_photo(
        telegram, connect, make_pipeline, refusals=3
    )

    clock.at = CAPTURED + 5 * MINUTE  # not due yet: no download
    assert await _attempt(telegram, pipeline, client) == 0
    clock.at = CAPTURED + 10 * MINUTE  # refused again
    assert await _attempt(telegram, pipeline, client) == 1
    clock.at = CAPTURED + 30 * MINUTE  # refused a third time; the fault then clears
    assert await _attempt(telegram, pipeline, client) == 1
    assert await _stored(engine) == [None]
    # The photo's file reference changes meanwhile: only a freshly fetched message downloads.
    telegram.expire_file_reference(channel.id, message.id)
    clock.at = CAPTURED + 70 * MINUTE
    assert await _attempt(telegram, pipeline, client) >= 1

    assert await _stored(engine) == [served]
    assert next(media_store.root.rglob(f"{served}.jpg")).read_bytes() == telegram.photo_bytes(
        channel.id, message.id
    )
    async with engine.connect() as conn:
        versions = (await conn.execute(select(func.count()).select_from(post_version))).scalar()
    assert versions == 1  # retrying a download is not an edit
    clock.at = CAPTURED + 200 * MINUTE  # nothing missing any more: no download
    assert await _attempt(telegram, pipeline, client) == 0


async def test_the_wait_between_attempts_doubles_up_to_a_day(
    telegram, connect, make_pipeline, engine
):
    _, _, clock, pipeline, client, _ = await _refused_photo(
        telegram, connect, make_pipeline, refusals=100
    )
    planned = []
    for _ in range(11):
        async with engine.connect() as conn:
            [item] = await list_missing_media(conn=conn, now=clock(), period=timedelta(days=30))
        planned.append(item.next_retry)
        clock.at = item.next_retry - timedelta(seconds=1)
        assert await _attempt(telegram, pipeline, client) == 0  # a second early: not yet
        clock.at = item.next_retry
        assert await _attempt(telegram, pipeline, client) == 1

    gaps = [(b - a) / MINUTE for a, b in zip([CAPTURED, *planned], planned, strict=False)]
    assert gaps == [10, 20, 40, 80, 160, 320, 640, 1280, 1440, 1440, 1440]
    assert await _stored(engine) == [None]


async def test_after_the_retry_period_it_gives_up_and_status_says_so(
    telegram, connect, make_pipeline, engine, db_url, tmp_path: Path
):
    _, _, clock, pipeline, client, _ = await _refused_photo(
        telegram, connect, make_pipeline, refusals=100, media_retry=timedelta(days=1)
    )

    clock.at = CAPTURED + timedelta(days=1, minutes=1)  # the daemon was down until after the period
    assert await _attempt(telegram, pipeline, client) == 0
    async with engine.connect() as conn:
        [item] = await list_missing_media(conn=conn, now=clock(), period=timedelta(days=1))
    assert item.given_up

    # `monitor status` (real clock, long after 2024): given up with a 1-day period, and still
    # retried (overdue since ten minutes after capture) with a 100-year one.
    channels = tmp_path / "channels.yaml"
    channels.write_text('channels:\n  - handle: "@chan_a"\n')
    env = {
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
        "MONITOR_DATABASE_URL": db_url,
        "MONITOR_CHANNELS_FILE": str(channels),
    }
    given_up = await _status(env | {"MONITOR_MEDIA_RETRY_DAYS": "1"})
    assert (given_up["photos_missing"], given_up["photos_given_up"]) == (0, 1)
    assert given_up["next_photo_retry_at"] is None
    retried = await _status(env | {"MONITOR_MEDIA_RETRY_DAYS": "36500"})
    assert (retried["photos_missing"], retried["photos_given_up"]) == (1, 0)
    assert retried["next_photo_retry_at"] == (CAPTURED + 10 * MINUTE).isoformat()

    # A channel whose photos are not wanted (`media: []`) has none missing.
    unwanted = tmp_path / "no-media.yaml"
    unwanted.write_text('channels:\n  - handle: "@chan_a"\n    media: []\n')
    not_wanted = await _status(env | {"MONITOR_CHANNELS_FILE": str(unwanted)})
    assert (not_wanted["photos_missing"], not_wanted["photos_given_up"]) == (0, 0)

    table = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["status"],
        env=env | {"MONITOR_MEDIA_RETRY_DAYS": "1", "COLUMNS": "200"},
    )
    assert table.exit_code == 0, table.output
    assert "photos missing" in table.output and "1 given up" in table.output


async def _status(env: dict[str, str]) -> dict:
    # The CLI runs its own event loop: in a thread, beside the test's.
    result = await asyncio.to_thread(CliRunner().invoke, app, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.output.splitlines()]
    return row
