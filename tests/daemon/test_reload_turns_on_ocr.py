"""A running daemon starts reading photos when a saved channels.yaml first asks for `ocr:`: a
poster collected before (no text, no flag) and one posted after are both read and flagged, with
no restart."""

from __future__ import annotations

from pathlib import Path

from monitor.simulator.photos import generate_jpeg
from tests.daemon.conftest import Env, channels_yaml, until
from tests.photos.conftest import tesseract  # noqa: F401 - the fixture: skip or fail without it

KHAZALI = """\
  - id: qais-al-khazali
    name: Qais al-Khazali
    kind: person
    aliases: ["قيس الخزعلي"]
"""


def watchlist(ocr: bool) -> str:
    text = channels_yaml("office_sim") + KHAZALI
    if ocr:
        text = text.replace(
            '  - handle: "@office_sim"', '  - handle: "@office_sim"\n    ocr: [ara]'
        )
    return text


async def test_saving_ocr_on_reads_old_and_new_photos_without_a_restart(
    sim,
    daemons,
    open_db,
    tmp_path: Path,
    tesseract,  # noqa: F811
) -> None:
    office = sim.channel("office_sim", 1)
    old = sim.backend.post(
        office.id, "بيان", photo=generate_jpeg(3, label="p", text="الشيخ قيس الخزعلي")
    )
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(watchlist(ocr=False), encoding="utf-8")
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(
        lambda: db.has_posts({(office.id, old.id)}), "the poster's post", context=daemon.log_tail
    )
    assert not await db.has_flag((office.id, old.id, "qais-al-khazali"))  # OCR is off

    env.channels_file.write_text(watchlist(ocr=True), encoding="utf-8")
    await daemon.wait_for_event("watchlist_reloaded")
    await until(
        lambda: db.has_flag((office.id, old.id, "qais-al-khazali")),
        "the earlier poster read and flagged",
        context=daemon.log_tail,
    )
    new = sim.backend.post(office.id, "صورة", photo=generate_jpeg(4, label="p", text="قيس الخزعلي"))
    await until(
        lambda: db.has_flag((office.id, new.id, "qais-al-khazali")),
        "a new poster read and flagged",
        context=daemon.log_tail,
    )
    assert await daemon.stop() == 0, daemon.log_tail()
    assert "Traceback" not in "\n".join(daemon.lines)
