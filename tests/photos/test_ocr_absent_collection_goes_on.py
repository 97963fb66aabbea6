"""Without Tesseract the monitor runs as before: collection stores every post and photo, nothing
is read, and `monitor status` says OCR is off and why (no binary, or no channel asks for it)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from monitor.cli import app
from monitor.photos.ocr import OcrEngine
from monitor.simulator.photos import generate_jpeg
from storage.models import media, media_text
from tests.photos.ocr_archive import flags_of, rig
from tests.telegram_fixtures import START, spec

CHANNELS = """
channels:
  - handle: "@office"
    ocr: [ara]
  - handle: "@wire_service"
entities:
  - id: qais-al-khazali
    name: Qais al-Khazali
    aliases: ["قيس الخزعلي"]
"""


async def status(db_url: str, tmp_path: Path, channels: str, **env: str) -> str:
    (tmp_path / "channels.yaml").write_text(channels, encoding="utf-8")
    env = {
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
        "MONITOR_DATABASE_URL": db_url,
        "MONITOR_CHANNELS_FILE": str(tmp_path / "channels.yaml"),
        "COLUMNS": "250",
        **env,
    }
    args = ["status", *(["--json"] if env.pop("json", "") else [])]
    result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
    assert result.exit_code == 0, result.output
    return result.output


async def test_without_tesseract_posts_and_photos_are_stored_and_status_says_why(
    telegram, connect, engine, media_store, db_url, tmp_path
):
    missing = str(tmp_path / "no-such-dir" / "tesseract")
    ocr = OcrEngine.discover(missing)
    assert not ocr.available and "not found" in (ocr.reason or "")
    channel = telegram.add_channel("office", "Media office")
    poster = generate_jpeg(5, label="poster", text="الشيخ قيس الخزعلي")
    telegram.post(channel.id, "بيان", photo=poster, date=START)
    named = telegram.post(channel.id, "قيس الخزعلي يستقبل وفدا", date=START + timedelta(hours=1))
    setup = await rig(engine, media_store, ocr)
    report = await setup.pipeline.collect(await connect(), spec("office"))
    assert report.ok and report.new == 2 and report.photos == 1
    assert await setup.reader.finish(5) == 0 and setup.reader.totals.read == 0
    async with engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(media))).scalar() == 1
        assert (await conn.execute(select(func.count()).select_from(media_text))).scalar() == 0
    assert [f.entity_id for f in await flags_of(engine, named.id)] == ["qais-al-khazali"]

    shown = await status(db_url, tmp_path, CHANNELS, MONITOR_OCR_TESSERACT=missing)
    assert f"OCR: off — no Tesseract binary ({missing} not found" in " ".join(shown.split())
    rows = [
        json.loads(line)
        for line in (
            await status(db_url, tmp_path, CHANNELS, MONITOR_OCR_TESSERACT=missing, json="1")
        ).splitlines()
    ]
    office = next(r for r in rows if r["channel"] == "office")
    wire = next(r for r in rows if r["channel"] == "wire_service")
    assert office["ocr"] == ["ara"] and office["ocr_on"] is False
    assert "no Tesseract binary" in office["ocr_off_reason"]
    assert wire["ocr"] == [] and wire["ocr_off_reason"] is None


async def test_status_says_ocr_is_off_when_no_channel_asks_for_it(engine, db_url, tmp_path):
    plain = CHANNELS.replace("    ocr: [ara]\n", "")
    shown = " ".join((await status(db_url, tmp_path, plain)).split())
    assert "OCR: off — " in shown
    # Whichever comes first here: no Tesseract at all, or no channel with `ocr:`.
    assert "no Tesseract binary" in shown or "not enabled for any channel" in shown


async def test_status_says_ocr_is_on_with_the_engine_version(engine, db_url, tmp_path, tesseract):
    shown = " ".join((await status(db_url, tmp_path, CHANNELS)).split())
    assert f"OCR: on ({tesseract.version}) for @office (ara); 0 photos read" in shown
    plain = " ".join((await status(db_url, tmp_path, CHANNELS.replace("ocr: [ara]", ""))).split())
    assert "OCR: off — not enabled for any channel" in plain
