"""`monitor search` finds a post by a word that is only in its photo, once the photo is read."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from typer.testing import CliRunner

from monitor.cli import app
from monitor.photos.reader import OcrJob
from monitor.simulator.photos import generate_jpeg
from tests.photos.ocr_archive import posts_carrying, rig
from tests.telegram_fixtures import START, spec

WORD = "الزهور"  # on the poster only


async def search(db_url: str, tmp_path: Path, query: str) -> list[int]:
    """The message ids `monitor search QUERY --json` finds (run in a thread: it has its loop)."""
    env = {"MONITOR_DATA_DIR": str(tmp_path / "data"), "MONITOR_DATABASE_URL": db_url}
    result = await asyncio.to_thread(CliRunner().invoke, app, ["search", query, "--json"], env=env)
    assert result.exit_code == 0, result.output
    return sorted(json.loads(line)["message_id"] for line in result.output.splitlines() if line)


async def test_a_word_only_in_a_photo_finds_the_post(
    telegram, connect, engine, media_store, tesseract, db_url, tmp_path
):
    channel = telegram.add_channel("office", "Media office")
    posted = telegram.post(
        channel.id,
        "دعوة عامة للحضور",
        photo=generate_jpeg(4, label="poster", text="معرض الزهور\nفي الناصرية"),
        date=START,
    )
    other = telegram.post(channel.id, "دعوة عامة أخرى", date=START)
    setup = await rig(engine, media_store, tesseract, hooked=False)
    await setup.pipeline.collect(await connect(), spec("office"))
    assert await search(db_url, tmp_path, WORD) == []  # stored, not read yet: the word is unknown

    async with engine.connect() as conn:
        (photo,) = await posts_carrying(conn, posted.id)
    await setup.reader.process(OcrJob(photo.sha256, photo.path, ("ara",)))

    assert await search(db_url, tmp_path, WORD) == [posted.id]
    assert await search(db_url, tmp_path, "الناصرية") == [posted.id]
    assert await search(db_url, tmp_path, "دعوة") == sorted([posted.id, other.id])
