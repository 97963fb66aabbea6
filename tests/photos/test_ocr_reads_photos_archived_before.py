"""Photos archived before OCR could read them (the channel turned `ocr:` on later, or the
process stopped with photos still queued) are read when the monitor starts: every unread photo
of an OCR channel, once, and none of a channel without `ocr:`."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from monitor.simulator.photos import generate_jpeg
from storage.models import media_text
from tests.photos.ocr_archive import flags_of, rig
from tests.telegram_fixtures import START, spec


async def test_unread_photos_of_ocr_channels_are_read_on_start(
    telegram, connect, engine, media_store, tesseract
):
    office = telegram.add_channel("office", "Media office")
    wire = telegram.add_channel("wire_service", "A channel without ocr:")
    poster = generate_jpeg(3, label="poster", text="الشيخ قيس الخزعلي")
    other = generate_jpeg(4, label="poster", text="كتائب حزب الله")
    old = telegram.post(office.id, "اليوم", photo=poster, date=START)
    again = telegram.post(office.id, "مرة أخرى", photo=poster, date=START + timedelta(hours=1))
    elsewhere = telegram.post(wire.id, "صورة", photo=other, date=START)
    # Collected while nothing read photos: archived, no text, no flag.
    before = await rig(engine, media_store, tesseract, hooked=False)
    for name, photos in (("office", 2), ("wire_service", 1)):
        assert (await before.pipeline.collect(await connect(), spec(name))).photos == photos
    assert await flags_of(engine, old.id, office.id) == []

    started = await rig(engine, media_store, tesseract, channels=[office.id])
    assert await started.reader.queue_unread({office.id: ("ara",), wire.id: ()}) == 1
    assert await started.reader.finish(120) == 0

    for message in (old, again):
        flags = await flags_of(engine, message.id, office.id)
        assert [f.entity_id for f in flags] == ["qais-al-khazali"]
        assert {span["rule"] for span in flags[0].spans} == {"ocr"}
    assert await flags_of(engine, elsewhere.id, wire.id) == []
    async with engine.connect() as conn:
        assert len(list(await conn.execute(select(media_text)))) == 1  # only the OCR channel's
    # Read once: the next start finds nothing left to read.
    assert await started.reader.queue_unread({office.id: ("ara",)}) == 0
