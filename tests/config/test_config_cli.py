"""`monitor channels check|list` through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app

VALID = """\
defaults: {poll_every: 5m}
include: [entities/*.yaml]
channels:
  - handle: "@some_channel"
    label: Media office
    poll_every: 2m
    tags: [militia, iraq]
  - handle: t.me/s/other_channel
    enabled: false
entities:
  - id: qais-al-khazali
    name: Qais al-Khazali
    kind: person
    aliases: ["Qais al-Khazali", "قيس الخزعلي"]
alerts:
  routes:
    - name: desk
      url: "${DESK_HOOK}"
"""


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    for name in ("MONITOR_CHANNELS_FILE", "MONITOR_DATA_DIR", "DESK_HOOK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.fixture
def watchlist_file(tmp_path: Path) -> Path:
    (tmp_path / "entities").mkdir()
    (tmp_path / "entities" / "more.yaml").write_text(
        "entities:\n  - {id: cui-wei, name: Cui Wei, aliases: [崔巍, Ambassador Cui]}\n"
    )
    path = tmp_path / "channels.yaml"
    path.write_text(VALID)
    return path


def test_check_prints_a_summary_with_masked_routes(runner, watchlist_file):
    env = {"DESK_HOOK": "json://hooks.example.org/T000/very-secret"}
    result = runner.invoke(app, ["channels", "check", str(watchlist_file)], env=env)
    assert result.exit_code == 0, result.output
    assert "2 channels (1 enabled), 2 entities, 4 aliases, 1 routes" in result.stdout
    assert "json://hooks.example.org/…" in result.stdout
    assert "very-secret" not in result.output


def test_check_defaults_to_the_settings_channels_file(runner, watchlist_file):
    result = runner.invoke(app, ["channels", "check"], env={"DESK_HOOK": "json://localhost/x"})
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("channels.yaml: OK")


def test_check_fails_with_every_problem_line(runner, watchlist_file):
    watchlist_file.write_text(
        VALID.replace("poll_every: 2m", "pol_every: 2m").replace("kind: person", "kind: persn")
    )
    result = runner.invoke(app, ["channels", "check", "channels.yaml"])
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines == [
        "channels.yaml:6:5: unknown key 'pol_every' in channel '@some_channel'; "
        "did you mean 'poll_every'?",
        "channels.yaml:13:11: unknown kind 'persn' in entity 'qais-al-khazali'; did you mean "
        "'person'? (use one of person, organization, place, other)",
        "channels.yaml:18:12: environment variable DESK_HOOK is not set (or is empty), used in "
        "route 'desk'; export DESK_HOOK=... before running, or remove the reference",
        "3 problems in channels.yaml; fix them and check again",
    ]


def test_check_missing_file_exits_1(runner):
    result = runner.invoke(app, ["channels", "check", "nope.yaml"])
    assert result.exit_code == 1
    assert "watchlist file 'nope.yaml' not found" in result.stderr


def test_list_shows_the_table(runner, watchlist_file):
    result = runner.invoke(
        app,
        ["channels", "list", "--channels", str(watchlist_file)],
        env={"DESK_HOOK": "json://h.example/x"},
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "@" in line]
    assert len(rows) == 2
    assert "@some_channel" in rows[0] and "Media office" in rows[0] and "2m" in rows[0]
    assert "militia, iraq" in rows[0] and "yes" in rows[0]
    assert "@other_channel" in rows[1] and "5m" in rows[1] and "no" in rows[1]


def test_list_json_is_one_object_per_line(runner, watchlist_file):
    result = runner.invoke(
        app, ["channels", "list", "--json"], env={"DESK_HOOK": "json://h.example/x"}
    )
    assert result.exit_code == 0, result.output
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert objects == [
        {
            "handle": "@some_channel",
            "key": "some_channel",
            "label": "Media office",
            "poll_every": "2m",
            "poll_every_seconds": 120,
            "backfill": 200,
            "media": ["photo"],
            "tags": ["militia", "iraq"],
            "enabled": True,
        },
        {
            "handle": "t.me/s/other_channel",
            "key": "other_channel",
            "label": None,
            "poll_every": "5m",
            "poll_every_seconds": 300,
            "backfill": 200,
            "media": ["photo"],
            "tags": [],
            "enabled": False,
        },
    ]


def test_list_with_a_broken_file_exits_non_zero_with_the_lines(runner, watchlist_file):
    watchlist_file.write_text("channels:\n  - handle: '@x'\n")
    result = runner.invoke(app, ["channels", "list"])
    assert result.exit_code != 0
    assert "channels.yaml:2:13: invalid channel handle '@x'" in result.stderr


def test_help_has_examples(runner):
    for command in ("check", "list"):
        result = runner.invoke(app, ["channels", command, "--help"])
        assert result.exit_code == 0
        assert "Example: monitor channels" in result.stdout
