"""A photo's text is read once per SHA-256: the same photo in several posts (and batches) runs
Tesseract once, and every post carrying it is flagged and indexed."""

from __future__ import annotations

import stat
from datetime import UTC, timedelta
from pathlib import Path

from sqlalchemy import func, select

from monitor.photos.ocr import OcrEngine
from monitor.simulator.photos import generate_jpeg
from storage.models import media_text
from tests.photos.ocr_archive import flags_of, rig
from tests.telegram_fixtures import START, spec


def counting_tesseract(tmp_path: Path, real: str) -> tuple[str, Path]:
    """A wrapper around the real binary that notes every photo it is asked to read."""
    calls = tmp_path / "calls.log"
    wrapper = tmp_path / "tesseract"
    wrapper.write_text(
        f'#!/bin/sh\ncase "$1" in stdin) echo read >> "{calls}" ;; esac\nexec "{real}" "$@"\n',
        encoding="utf-8",
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return str(wrapper), calls


async def test_the_same_photo_twice_is_read_once(
    telegram, connect, engine, media_store, tesseract, tmp_path
):
    binary, calls = counting_tesseract(tmp_path, tesseract.binary or "")
    counted = OcrEngine.discover(binary)
    assert counted.available, counted.reason
    poster = generate_jpeg(3, label="poster", text="الشيخ قيس الخزعلي")
    channel = telegram.add_channel("office", "Media office")
    wire = telegram.add_channel("wire_service", "A channel without ocr:")
    copied = telegram.post(wire.id, "صورة", photo=poster, date=START)
    first = telegram.post(channel.id, "اليوم", photo=poster, date=START)
    second = telegram.post(channel.id, "مرة أخرى", photo=poster, date=START + timedelta(hours=1))
    setup = await rig(engine, media_store, counted, channels=[channel.id])
    await setup.pipeline.collect(await connect(), spec("wire_service"))
    await setup.pipeline.collect(await connect(), spec("office"))
    assert await setup.reader.finish(120) == 0
    third = telegram.post(channel.id, "ومرة ثالثة", photo=poster, date=START + timedelta(hours=2))
    await setup.pipeline.collect(await connect(), spec("office"))  # a later batch
    assert await setup.reader.finish(120) == 0

    assert calls.read_text(encoding="utf-8").split() == ["read"]
    async with engine.connect() as conn:
        rows = list(await conn.execute(select(media_text)))
        assert (await conn.execute(select(func.count()).select_from(media_text))).scalar() == 1
    row = rows[0]
    assert "الخزعلي" in row.text
    assert row.languages == "ara" and row.engine == "tesseract"
    assert row.engine_version == tesseract.version and row.engine_version.startswith("tesseract ")
    assert row.created_at.tzinfo is not None and row.created_at.utcoffset() == UTC.utcoffset(None)
    for message in (first, second, third):  # every post carrying it is flagged from its text
        flags = await flags_of(engine, message.id, channel.id)
        assert [f.entity_id for f in flags] == ["qais-al-khazali"]
    assert await flags_of(engine, copied.id, wire.id) == []  # its channel did not ask for OCR
