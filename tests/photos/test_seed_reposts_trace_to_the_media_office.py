"""In the seed scenario the media office's meeting photo (2024-05-13, message 125) travels: the
news channel forwards it (same file), then reposts a re-encoded, resized, cropped copy (137), and
the Persian channel posts another copy (90). Tracing any copy names the media office first, with
every repost, and the repost's `full` citation says where the photo was first posted. SQLite and
PostgreSQL, on the session's collected seed (`monitor demo`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from monitor.cli import app
from tests.seed_archive import SeedTemplates

SOURCE = "https://t.me/khazali_media_sim/125"
COPIES = {
    "https://t.me/iraq_news_en_sim/134": 0,  # the forward: the same file
    "https://t.me/iraq_news_en_sim/137": None,  # re-encoded, resized, cropped
    "https://t.me/iran_akhbar_fa_sim/90": None,  # another such copy
}


@pytest.fixture
def archive(db_url: str, seed_templates: SeedTemplates, tmp_path: Path) -> Iterator[dict[str, str]]:
    env, remove = seed_templates.copy(make_url(db_url).get_backend_name(), tmp_path / "data")
    try:
        yield env
    finally:
        remove()


def _monitor(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("start", ["https://t.me/iran_akhbar_fa_sim/90", SOURCE])
def test_any_copy_traces_to_the_media_office_first(archive, start):
    traces = [
        json.loads(line)
        for line in _monitor(archive, "photos", "trace", start, "--json").splitlines()
    ]
    # 125 opens an album of three photos: each is traced; the first is the one that travelled.
    [trace] = [t for t in traces if any(r["link"].endswith("/137") for r in t["reposts"])]

    assert trace["first"]["link"] == SOURCE
    assert trace["first"]["posted_at"] == "2024-05-13T09:12:00+00:00"
    reposts = {r["link"]: r for r in trace["reposts"]}
    assert set(reposts) == set(COPIES)
    assert reposts["https://t.me/iraq_news_en_sim/134"]["distance"] == 0
    for link in ("https://t.me/iraq_news_en_sim/137", "https://t.me/iran_akhbar_fa_sim/90"):
        assert reposts[link]["sha256"] != trace["first"]["sha256"]  # another file...
        assert 0 < reposts[link]["distance"] <= 6  # ...close to the first
    delays = [r["delay_seconds"] for r in trace["reposts"]]
    assert delays == sorted(delays) and delays[0] == 3 * 3600 + 18 * 60


def test_the_reposts_full_citation_names_the_first_post(archive):
    cited = _monitor(
        archive, "cite", "https://t.me/iraq_news_en_sim/137", "--style", "full", "--tz", "UTC"
    )

    assert "Photo first posted by @khazali_media_sim on May 13, 2024 09:12 UTC" in cited
    own = _monitor(archive, "cite", SOURCE, "--style", "full", "--tz", "UTC")
    assert "first posted by" not in own  # the source itself is not a repost
