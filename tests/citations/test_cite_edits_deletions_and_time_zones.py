"""Citations of posts collected from the simulated Telegram, then edited, deleted or posted late
in the UTC day: what `full` says, which version `--version` cites, which day `short` names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from tests.flagging.desk import run
from tests.telegram_fixtures import spec

POSTED = datetime(2024, 5, 20, 10, 0, tzinfo=UTC)
LATE = datetime(2024, 5, 20, 22, 30, tzinfo=UTC)  # May 21 at 01:30 in Baghdad
FIRST_PASS = datetime(2024, 5, 21, 8, 0, tzinfo=UTC)
EDITED = datetime(2024, 5, 21, 9, 0, tzinfo=UTC)
RECHECK = datetime(2024, 5, 22, 6, 0, tzinfo=UTC)

WATCHLIST = """\
channels:
  - handle: "@desk_chan"
    title_en: "Desk Channel"
alerts:
  timezone: {zone}
"""


@pytest.fixture
async def collected(telegram, connect, make_pipeline, engine, db_url, tmp_path: Path):
    """Three posts collected, then one edited and one deleted at the source and re-checked."""
    channel = telegram.add_channel("desk_chan", "قناة المكتب")
    telegram.post(channel.id, "the first statement", date=POSTED)
    telegram.post(channel.id, "a statement to be deleted", date=POSTED + timedelta(hours=1))
    telegram.post(channel.id, "a statement late in the day", date=LATE)
    client = await connect()
    await make_pipeline(now=lambda: FIRST_PASS).collect(client, spec("desk_chan"))
    telegram.edit(channel.id, 1, "the first statement, corrected", date=EDITED)
    telegram.delete(channel.id, [2])
    report = await make_pipeline(now=lambda: RECHECK).recheck(client, spec("desk_chan"))
    assert (report.changed, report.deleted) == (1, 1)

    def env(zone: str = "Asia/Baghdad") -> dict[str, str]:
        watchlist = tmp_path / f"channels-{zone.replace('/', '-')}.yaml"
        watchlist.write_text(WATCHLIST.format(zone=zone), encoding="utf-8")
        return {
            "MONITOR_DATA_DIR": str(tmp_path / "data"),
            "MONITOR_DATABASE_URL": db_url,
            "MONITOR_CHANNELS_FILE": str(watchlist),
        }

    return env


def test_a_post_at_2230_utc_cites_as_the_next_day_in_baghdad(collected):
    baghdad, utc = collected("Asia/Baghdad"), collected("UTC")
    assert run(baghdad, "cite", "@desk_chan/3") == "Telegram, May 21, 2024.\n"  # alerts.timezone
    assert run(utc, "cite", "@desk_chan/3") == "Telegram, May 20, 2024.\n"
    assert run(utc, "cite", "@desk_chan/3", "--tz", "Asia/Baghdad") == "Telegram, May 21, 2024.\n"
    assert run(baghdad, "cite", "@desk_chan/3", "--tz", "UTC") == "Telegram, May 20, 2024.\n"
    desk_utc = {**baghdad, "MONITOR_DESK_TIMEZONE": "UTC"}  # the desk's zone over the watchlist's
    assert run(desk_utc, "cite", "@desk_chan/3") == "Telegram, May 20, 2024.\n"
    full = run(baghdad, "cite", "@desk_chan/3", "--style", "full")
    assert "May 21, 2024, 01:30 UTC+3 (Asia/Baghdad)" in full
    assert "edited" not in full and "deleted" not in full and "version" not in full
    assert full.startswith("قناة المكتب [Desk Channel] (@desk_chan), Telegram, ")
    assert "Archived 2024-05-21 08:00 UTC, SHA-256 " in full


def test_an_edited_post_says_so_and_each_version_cites_its_own_text_and_hash(collected):
    env = collected("UTC")
    current = run(env, "cite", "https://t.me/desk_chan/1", "--style", "full")
    assert "https://t.me/desk_chan/1 (edited May 21, 2024)." in current
    assert "Archived 2024-05-22 06:00 UTC, version 2 of 2, SHA-256 " in current
    first = run(env, "cite", "https://t.me/desk_chan/1", "--style", "full", "--version", "1")
    assert "Archived 2024-05-21 08:00 UTC, version 1 of 2, SHA-256 " in first
    assert "(edited May 21, 2024)" in first  # the post was edited, even if this version was not
    assert current.split("SHA-256 ")[1] != first.split("SHA-256 ")[1]
    assert run(env, "cite", "@desk_chan/1", "--style", "full", "--version", "2") == current

    chicago_1 = run(env, "cite", "@desk_chan/1", "--style", "chicago", "--version", "1")
    chicago_2 = run(env, "cite", "@desk_chan/1", "--style", "chicago")
    assert "\u201cthe first statement,\u201d" in chicago_1
    assert "\u201cthe first statement, corrected,\u201d" in chicago_2


def test_a_post_deleted_at_the_source_says_by_when(collected):
    env = collected("Asia/Baghdad")
    full = run(env, "cite", "@desk_chan/2", "--style", "full")
    assert "https://t.me/desk_chan/2 (deleted at source by May 22, 2024)." in full
    assert "edited" not in full
    assert "Deleted at source by May 22, 2024." in run(
        env, "cite", "@desk_chan/2", "--style", "bibtex"
    )


def test_a_broken_watchlist_costs_only_its_translations_and_time_zone(collected, tmp_path: Path):
    env = collected("Asia/Baghdad")
    broken = tmp_path / "broken.yaml"
    broken.write_text('channels:\n  - handle: "@desk_chan"\n    titel_en: typo\n', encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["cite", "@desk_chan/3", "--style", "full"],
        env={**env, "MONITOR_CHANNELS_FILE": str(broken)},
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("قناة المكتب (@desk_chan), Telegram, May 20, 2024, 22:30 UTC,")
    assert "warning: no English titles from the watchlist" in result.stderr
    assert "titel_en" in result.stderr
