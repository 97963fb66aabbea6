"""A citation never presents an imported version as our own capture: it names the export it came
from and gives no access date; once the monitor collects the post, the current version is ours."""

from __future__ import annotations

from monitor.citations import CitationSource, bibtex_entry, csl_item, render_citation
from monitor.simulator.scenario import Scenario
from storage.citation_queries import load_citation_source
from tests.desktop_import.conftest import MEDIA_OFFICE, collect
from tests.desktop_import.desktop_export import write_channel_export

SOURCE = "ChatExport_2025-01-01/result.json"


async def _cite(engine, channel_id: int, message_id: int) -> CitationSource:  # noqa: ANN001
    async with engine.connect() as conn:
        return CitationSource(**await load_citation_source(conn, (channel_id, message_id)))


async def test_an_imported_post_cites_as_imported_until_collected(
    seed: Scenario, run_import, engine, media_store, tmp_path
):
    office = seed.channels["media_office"]
    await run_import(
        write_channel_export(seed.backend, office.id, tmp_path / "ChatExport_2025-01-01")
    )

    imported = await _cite(engine, office.id, 10)
    full = render_citation(imported, "full", tz="UTC")
    assert f"Not captured by us: imported from {SOURCE}" in full
    assert "Archived" not in full
    assert "accessed" not in csl_item(imported, "UTC")
    assert "urldate" not in bibtex_entry(imported, "UTC")

    await collect(seed, engine, media_store, MEDIA_OFFICE)
    collected = await _cite(engine, office.id, 10)
    full = render_citation(collected, "full", tz="UTC")
    assert "Archived " in full and "imported" not in full
    assert "accessed" in csl_item(collected, "UTC")
    assert "urldate" in bibtex_entry(collected, "UTC")
