"""Every stored post carries its detected language: on a first pass (labelled as each batch is
fetched) and after an edit found by a re-check (labelled when stored)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from monitor.language import FastTextDetector
from storage.models import post
from tests.telegram_fixtures import START, spec

TEXTS = [
    "استقبل الأمين العام وفدا من البصرة وبحث معه الأوضاع الخدمية في المحافظة",
    "",  # a photo without a caption: no language
    "Officials met a delegation in Basra to discuss the reconstruction of the port",
    "ok",  # too short to tell
    "دیدار هیئت عراقی با مقامات در بصره درباره همکاری اقتصادی و بازسازی",
]


async def _languages(engine) -> dict[int, str | None]:  # noqa: ANN001
    async with engine.connect() as conn:
        rows = await conn.execute(select(post.c.message_id, post.c.language))
        return dict(rows.all())


@pytest.mark.parametrize("form", ["batch", "per post"])
async def test_first_pass_and_edits_store_each_posts_language(
    form, telegram, connect, make_pipeline, engine
):
    detector = FastTextDetector()
    given = (
        {"detect_languages": detector.detect_many}
        if form == "batch"
        else {"detect_language": detector.detect}
    )
    channel = telegram.add_channel("chan_a", "Channel A")
    for i, text in enumerate(TEXTS):
        telegram.post(channel.id, text, date=START + timedelta(minutes=i))
    now = START + timedelta(hours=1)
    pipeline = make_pipeline(now=lambda: now, **given)
    client = await connect()

    report = await pipeline.collect(client, spec("chan_a"))

    assert report.new == len(TEXTS)
    expected = [detector.detect(text) for text in TEXTS]
    assert expected == ["ar", None, "en", None, "fa"]
    assert await _languages(engine) == dict(enumerate(expected, start=1))

    telegram.edit(
        channel.id, 2, "Statement issued in English about the delegation's visit", date=now
    )
    telegram.edit(
        channel.id, 3, "بيان صادر عن المكتب الإعلامي بشأن زيارة الوفد إلى المحافظة", date=now
    )
    rechecked = await pipeline.recheck(client, spec("chan_a"))

    assert rechecked.changed == 2
    assert await _languages(engine) == {1: "ar", 2: "en", 3: "ar", 4: None, 5: "fa"}


async def test_without_a_detector_posts_are_stored_without_a_language(
    telegram, connect, make_pipeline, engine
):
    channel = telegram.add_channel("chan_a", "Channel A")
    telegram.post(channel.id, TEXTS[0], date=START)
    await make_pipeline().collect(await connect(), spec("chan_a"))
    assert await _languages(engine) == {1: None}
