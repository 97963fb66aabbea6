"""An export written the way Telegram Desktop writes it imports as what collecting gives."""

from __future__ import annotations

import hashlib

from monitor.simulator.scenario import Scenario
from storage.channels import get_channel
from tests.desktop_import.conftest import (
    MEDIA_OFFICE,
    NEWS_EN,
    archive,
    collect,
    counts,
    provenances,
)
from tests.desktop_import.desktop_export import write_account_export, write_channel_export


async def test_channel_export_imports_the_texts_dates_and_photos_collection_stores(
    seed: Scenario, reference, run_import, engine, media_store, tmp_path
):
    office = seed.channels["media_office"]
    result = write_channel_export(seed.backend, office.id, tmp_path / "ChatExport_2025-01-01")
    await collect(seed, *reference, MEDIA_OFFICE)

    report = await run_import(result, batch_size=50)  # three batches

    collected = await archive(reference[0], office.id)
    imported = await archive(engine, office.id)
    assert imported == collected
    assert len(imported) == 128  # 129 posted, one deleted
    assert sum(len(p[5]) for p in imported.values()) == 24  # photos, albums and the poster included
    assert sum(1 for p in imported.values() if p[2] is not None) == 1  # the edited caption
    [channel] = report.channels
    assert (channel.channel_id, channel.new, channel.photos) == (office.id, 128, 24)
    assert channel.skipped == 1  # the pin's service message
    for message in imported.values():
        for sha256 in message[5]:
            path = media_store.find(sha256)
            assert path is not None and hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    async with engine.connect() as conn:
        stored = await get_channel(office.id, conn=conn)
    assert stored is not None and stored.title == office.title and stored.username is None


async def test_every_imported_version_says_imported_and_names_the_export(
    seed: Scenario, run_import, engine, tmp_path
):
    office = seed.channels["media_office"]
    result = write_channel_export(seed.backend, office.id, tmp_path / "ChatExport_2025-01-01")

    report = await run_import(result)

    assert report.source == "ChatExport_2025-01-01/result.json"
    versions = await provenances(engine, office.id)
    assert len(versions) == 128
    assert {v for vs in versions.values() for v in vs} == {
        ("imported", "ChatExport_2025-01-01/result.json")
    }


async def test_importing_twice_adds_nothing(seed: Scenario, run_import, engine, tmp_path):
    office = seed.channels["media_office"]
    result = write_channel_export(seed.backend, office.id, tmp_path / "export")
    await run_import(result, batch_size=40)
    before = await counts(engine)

    again = await run_import(result, batch_size=40)

    assert await counts(engine) == before
    [channel] = again.channels
    assert (channel.new, channel.versions_added, channel.unchanged) == (0, 0, 128)


async def test_account_export_imports_its_channels_and_skips_other_chats(
    seed: Scenario, reference, run_import, engine, tmp_path
):
    office, news = seed.channels["media_office"], seed.channels["news_en"]
    result = write_account_export(seed.backend, [office.id, news.id], tmp_path / "DataExport")
    await collect(seed, *reference, MEDIA_OFFICE, NEWS_EN)

    report = await run_import(result.parent)  # the folder will do

    assert [c.channel_id for c in report.channels] == [office.id, news.id]  # news: a left channel
    assert report.skipped_chats == {"personal_chat": 1}
    for channel in (office, news):
        assert await archive(engine, channel.id) == await archive(reference[0], channel.id)
    news_posts = await archive(engine, news.id)
    assert sum(1 for p in news_posts.values() if p[4]) == 4  # forwarded
    assert sum(1 for p in news_posts.values() if p[3] is not None) == 2  # replies


async def test_a_nul_character_is_stored_as_a_replacement_character(
    seed: Scenario, run_import, engine, tmp_path
):
    import json

    from storage.post_queries import get_post_by_key

    office = seed.channels["media_office"]
    result = write_channel_export(seed.backend, office.id, tmp_path / "export")
    document = json.loads(result.read_text())
    document["messages"][0]["text"] = ["a\x00b ", {"type": "bold", "text": "c\x00"}]
    result.write_text(json.dumps(document, ensure_ascii=False))

    await run_import(result)

    async with engine.connect() as conn:
        stored = await get_post_by_key(office.id, document["messages"][0]["id"], conn=conn)
    assert stored is not None and stored["text"] == "a\ufffdb c\ufffd"
    assert stored["raw"]["message"]["text"][1] == {"type": "bold", "text": "c\ufffd"}


async def test_photos_left_out_of_the_export_are_recorded_without_bytes(
    seed: Scenario, run_import, engine, tmp_path
):
    import json

    from sqlalchemy import select

    from storage.models import post, post_media

    office = seed.channels["media_office"]
    result = write_channel_export(seed.backend, office.id, tmp_path / "export")
    document = json.loads(result.read_text())
    with_photo = [m for m in document["messages"] if "photo" in m]
    with_photo[0]["photo"] = "(File not included. Change data exporting settings to download.)"
    (result.parent / with_photo[1]["photo"]).unlink()
    result.write_text(json.dumps(document, ensure_ascii=False))

    report = await run_import(result)

    [channel] = report.channels
    assert (channel.photos, channel.photos_missing) == (22, 2)
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(post.c.message_id, post_media.c.kind, post_media.c.sha256, post_media.c.width)
            .join(post_media, post_media.c.post_id == post.c.id)
            .where(post.c.message_id.in_([with_photo[0]["id"], with_photo[1]["id"]]))
            .order_by(post.c.message_id)
        )
        assert [tuple(r) for r in rows] == [
            (with_photo[0]["id"], "photo", None, with_photo[0]["width"]),
            (with_photo[1]["id"], "photo", None, with_photo[1]["width"]),
        ]
