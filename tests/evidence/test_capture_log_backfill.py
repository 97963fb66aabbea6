"""Migration 0005 on an archive that already holds posts and photos: it logs every version and
file in capture order, and the result verifies."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from monitor.cli import app
from storage import create_engine, upgrade
from tests.evidence.conftest import sql
from tests.migrations import downgrade


async def _downgrade(url: str, revision: str) -> None:
    engine = create_engine(url)
    try:
        await downgrade(engine, revision)
    finally:
        await engine.dispose()


async def _upgrade(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def test_an_existing_archive_is_backfilled_in_capture_order(archive):
    url = archive["MONITOR_DATABASE_URL"]
    logged = sql(archive, "SELECT kind, version_id, media_sha256, content_sha256 FROM capture_log")
    asyncio.run(_downgrade(url, "0003"))
    asyncio.run(_upgrade(url))
    backfilled = sql(
        archive,
        "SELECT kind, version_id, media_sha256, content_sha256, captured_at FROM capture_log",
    )
    # The same entries as the collector wrote (same content hashes), no more, no fewer.
    assert sorted(map(tuple, logged)) == sorted(tuple(row[:4]) for row in backfilled)
    times = [row[0] for row in sql(archive, "SELECT captured_at FROM capture_log ORDER BY seq")]
    assert times == sorted(times)
    result = CliRunner().invoke(app, ["verify", "--json"], env=archive)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["entries"] == len(logged)
