"""A poster whose text names a watched person flags its post with rule `ocr`, though the caption
does not name him; the flag says its spans index the photo's text, and alerts are not doubled."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import httpx
from typer.testing import CliRunner

from monitor.cli import app
from monitor.matching import normalize
from monitor.photos.reader import OcrJob
from monitor.simulator.photos import generate_jpeg
from storage.media_text import get_texts
from tests.photos.ocr_archive import alerts_of, flags_of, posts_carrying, rig
from tests.telegram_fixtures import START, spec
from tests.web.site import add_accounts, log_in, settings_for, start_desk

ROOT = Path(__file__).resolve().parents[2]
POSTER = "بيان صادر عن\nالشيخ قيس الخزعلي\nالأمين العام"
CAPTION = "نعزي الإخوة في كتائب حزب الله باستشهاد ثلة من قادتهم."


async def test_poster_naming_him_flags_the_post_with_rule_ocr(
    telegram, connect, engine, media_store, tesseract
):
    channel = telegram.add_channel("office", "Media office")
    telegram.post(channel.id, "صباح الخير", date=START)
    posted = telegram.post(
        channel.id,
        CAPTION,
        photo=generate_jpeg(1, label="poster", text=POSTER),
        date=START + timedelta(hours=1),
    )
    setup = await rig(engine, media_store, tesseract)
    report = await setup.pipeline.collect(await connect(), spec("office"))
    assert report.ok and report.new == 2 and report.photos == 1
    assert await setup.reader.finish(120) == 0

    flags = {f.entity_id: f for f in await flags_of(engine, posted.id)}
    assert set(flags) == {"kataib-hezbollah", "qais-al-khazali"}
    assert "الخزعلي" not in CAPTION
    caption_flag, photo_flag = flags["kataib-hezbollah"], flags["qais-al-khazali"]
    assert all("in" not in span for span in caption_flag.spans)  # the caption's own flag
    assert [s["rule"] for s in photo_flag.spans] == ["ocr"]
    span = photo_flag.spans[0]
    assert span["in"] == "photo" and span["alias"] == "قيس الخزعلي"
    async with engine.connect() as conn:
        read = (await get_texts([span["sha256"]], conn=conn))[span["sha256"]]
    # The span indexes the photo's text, where the name really is.
    assert normalize(read.text[span["start"] : span["end"]]) == normalize("قيس الخزعلي")
    assert photo_flag.snippet.startswith("[text in photo]") and "الخزعلي" in photo_flag.snippet

    # Read before the caption's alert went out: one alert for the post, naming both.
    alerts = await alerts_of(engine, posted.id)
    assert [a.kind for a in alerts] == ["alert"] and len(alerts[0].flag_ids) == 2
    assert any(
        "text in a photo names Qais al-Khazali" in c
        for c in alerts[0].payload["message"]["changes"]
    )
    # The alert highlights nothing in the caption for a name found only in the photo.
    assert all(s["entity"] != "Qais al-Khazali" for s in alerts[0].payload["message"]["spans"])


async def test_a_photo_read_after_the_alert_went_out_sends_one_followup(
    telegram, connect, engine, media_store, tesseract
):
    channel = telegram.add_channel("office", "Media office")
    posted = telegram.post(
        channel.id, CAPTION, photo=generate_jpeg(1, label="poster", text=POSTER), date=START
    )
    setup = await rig(engine, media_store, tesseract, hooked=False)
    await setup.pipeline.collect(await connect(), spec("office"))
    assert (await setup.alerting.worker.drain(30)).delivered == 1  # the caption's alert
    async with engine.connect() as conn:
        (carrier,) = await posts_carrying(conn, posted.id)
    await setup.reader.process(OcrJob(carrier.sha256, carrier.path, ("ara",)))
    await setup.reader.process(OcrJob(carrier.sha256, carrier.path, ("ara",)))  # again: no-op

    alerts = await alerts_of(engine, posted.id)
    assert [a.kind for a in alerts] == ["alert", "followup"]
    assert any(
        "text in a photo names Qais al-Khazali" in c
        for c in alerts[1].payload["message"]["changes"]
    )


async def test_a_name_in_both_caption_and_photo_is_one_flag_and_one_alert(
    telegram, connect, engine, media_store, tesseract
):
    channel = telegram.add_channel("office", "Media office")
    posted = telegram.post(
        channel.id,
        "كلمة الشيخ قيس الخزعلي الليلة",
        photo=generate_jpeg(2, label="poster", text=POSTER),
        date=START,
    )
    setup = await rig(engine, media_store, tesseract)
    await setup.pipeline.collect(await connect(), spec("office"))
    assert await setup.reader.finish(120) == 0
    assert setup.reader.totals.read == 1  # the photo was read, and named him again

    flags = await flags_of(engine, posted.id)
    assert [f.entity_id for f in flags] == ["qais-al-khazali"]
    assert all("in" not in span for span in flags[0].spans)  # the caption's spans stay
    assert [a.kind for a in await alerts_of(engine, posted.id)] == ["alert"]


async def test_seed_poster_is_flagged_by_the_demo(db_url, tmp_path, tesseract):
    """The seed's condolence poster (media office 115) and Persian poster (news_fa 94),
    collected by `monitor demo` from the simulated Telegram through the real client; the CLI
    and the desk show the photo's text with the name highlighted."""
    channels = (ROOT / "channels.yaml").read_text(encoding="utf-8")
    persian = 'handle: "https://t.me/iran_akhbar_fa_sim"\n'
    channels = channels.replace(persian, persian + "    ocr: [fas]\n")
    (tmp_path / "channels.yaml").write_text(channels, encoding="utf-8")
    env = {
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
        "MONITOR_DATABASE_URL": db_url,
        "MONITOR_CHANNELS_FILE": str(tmp_path / "channels.yaml"),
        "COLUMNS": "200",
    }

    async def cli(*args: str) -> str:
        result = await asyncio.to_thread(CliRunner().invoke, app, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    await cli("demo")
    listed = await cli("flags", "list", "--json", "--limit", "1000")
    flags = [json.loads(line) for line in listed.splitlines()]
    found = {
        (f["channel"], f["message_id"], f["entity"])
        for f in flags
        if any(s["rule"] == "ocr" for s in f["spans"])
    }
    assert ("khazali_media_sim", 115, "qais-al-khazali") in found
    assert ("iran_akhbar_fa_sim", 94, "qais-al-khazali") in found
    poster = ("khazali_media_sim", 115, "qais-al-khazali")
    ocr_flag = next(f for f in flags if (f["channel"], f["message_id"], f["entity"]) == poster)
    shown = await cli("flags", "show", str(ocr_flag["id"]))
    assert "text in photo" in shown and "قيس الخزعلي" in shown
    caption = json.loads(await cli("flags", "show", str(ocr_flag["id"]), "--json"))
    assert "الخزعلي" not in caption["text"]
    assert "قيس الخزعلي" in "".join(caption["photo_texts"].values())
    assert "OCR: on (tesseract" in await cli("status")

    settings = settings_for(env)
    await add_accounts(db_url, ("noor",))
    desk = await asyncio.to_thread(start_desk, settings)
    try:
        async with httpx.AsyncClient(base_url=desk.url) as http:
            await log_in(http, "noor")
            page = await http.get(f"/post/{ocr_flag['channel_id']}/115")
    finally:
        await asyncio.to_thread(desk.stop)
    assert page.status_code == 200
    assert "Text in photo (OCR)" in page.text and "<mark>قيس الخزعلي</mark>" in page.text
    # The caption's own text highlights only what the caption says (Kataib Hezbollah).
    caption_html = page.text.split('id="post-text">', 1)[1].split("</div>", 1)[0]
    assert "<mark>كتائب حزب الله</mark>" in caption_html and "الخزعلي" not in caption_html
