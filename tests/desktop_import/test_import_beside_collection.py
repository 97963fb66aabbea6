"""Imports and collections of the same channel share its rows and never overwrite each other:
a collection adds its own versions beside imported ones, an import adds only versions the
archive lacks and leaves a collected post as it was."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from monitor.simulator.scenario import Scenario
from storage.models import channel, post
from tests.desktop_import.conftest import MEDIA_OFFICE, archive, collect, counts, provenances
from tests.desktop_import.desktop_export import write_channel_export

SOURCE = "ChatExport_2025-01-01/result.json"


async def _posts(engine, channel_id: int) -> dict[int, dict]:  # noqa: ANN001
    async with engine.connect() as conn:
        rows = await conn.execute(select(post).where(post.c.channel_id == channel_id))
        return {row.message_id: dict(row._mapping) for row in rows}


async def test_import_after_collection_adds_only_the_versions_the_archive_lacks(
    seed: Scenario, run_import, engine, media_store, tmp_path
):
    office = seed.channels["media_office"]
    result = write_channel_export(seed.backend, office.id, tmp_path / "ChatExport_2025-01-01")
    corrected = seed.backend.message(office.id, 10).date + timedelta(days=1)
    seed.backend.edit(office.id, 10, "corrected after the export", date=corrected)
    await collect(seed, engine, media_store, MEDIA_OFFICE)
    before = await _posts(engine, office.id)
    archived = await archive(engine, office.id)

    report = await run_import(result)

    [imported] = report.channels
    assert (imported.new, imported.versions_added, imported.unchanged) == (0, 1, 127)
    assert await _posts(engine, office.id) == before  # no post row changed, not even raw
    assert await archive(engine, office.id) == archived  # texts, dates and photos as collected
    versions = await provenances(engine, office.id)
    assert versions[10] == [("collected", None), ("imported", SOURCE)]  # the pre-edit text
    assert all(v == [("collected", None)] for mid, v in versions.items() if mid != 10)
    assert before[10]["text"] == "corrected after the export"


async def test_collection_after_import_adds_its_own_versions_on_the_same_rows(
    seed: Scenario, reference, run_import, engine, media_store, tmp_path
):
    office = seed.channels["media_office"]
    result = write_channel_export(seed.backend, office.id, tmp_path / "ChatExport_2025-01-01")
    await run_import(result)
    imported_ids = {mid: row["id"] for mid, row in (await _posts(engine, office.id)).items()}

    await collect(seed, engine, media_store, MEDIA_OFFICE)

    posts = await _posts(engine, office.id)
    assert {mid: row["id"] for mid, row in posts.items()} == imported_ids  # the same post rows
    versions = await provenances(engine, office.id)
    assert set(map(tuple, versions.values())) == {(("imported", SOURCE), ("collected", None))}
    assert all(row["raw"]["_"] == "Message" for row in posts.values())  # current: our capture
    async with engine.connect() as conn:
        channels = (await conn.execute(select(channel.c.id, channel.c.username))).all()
        assert (await conn.execute(select(func.count()).select_from(channel))).scalar_one() == 1
    assert channels == [(office.id, MEDIA_OFFICE)]  # the import's row, username now known
    await collect(seed, *reference, MEDIA_OFFICE)
    assert await archive(engine, office.id) == await archive(reference[0], office.id)

    before = await counts(engine)
    again = await run_import(result)  # an import after collection: nothing is missing

    assert await counts(engine) == before
    assert (again.channels[0].new, again.channels[0].versions_added) == (0, 0)


async def test_a_handle_already_resolved_to_the_channel_gives_the_import_its_username(
    seed: Scenario, run_import, engine, tmp_path
):
    from datetime import UTC, datetime

    from storage.channels import get_channel, save_peer

    office = seed.channels["media_office"]
    result = write_channel_export(seed.backend, office.id, tmp_path / "ChatExport_2025-01-01")
    async with engine.begin() as conn:  # the watchlist's @khazali_media_sim, resolved earlier
        at = datetime(2024, 12, 1, tzinfo=UTC)
        await save_peer("default", MEDIA_OFFICE, office.id, 42, conn=conn, resolved_at=at)

    await run_import(result)

    async with engine.connect() as conn:
        stored = await get_channel(office.id, conn=conn)
    assert stored is not None and stored.username == MEDIA_OFFICE
