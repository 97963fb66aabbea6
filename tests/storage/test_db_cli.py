"""``monitor db upgrade`` and ``monitor db current`` through the CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from storage import head_revision


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for name in ("MONITOR_DATABASE_URL", "MONITOR_DATA_DIR", "MONITOR_MEDIA_DIR"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()


def test_upgrade_then_current(runner: CliRunner, tmp_path: Path):
    data_dir = tmp_path / "data"
    before = runner.invoke(app, ["db", "current", "--data-dir", str(data_dir), "--json"])
    assert before.exit_code == 0, before.output
    assert json.loads(before.stdout)["current"] is None

    result = runner.invoke(app, ["db", "upgrade", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    assert f"upgraded: none -> {head_revision()}" in result.output
    assert (data_dir / "monitor.db").is_file()

    again = runner.invoke(app, ["db", "upgrade", "--data-dir", str(data_dir)])
    assert f"already at revision {head_revision()}" in again.output

    after = runner.invoke(app, ["db", "current", "--data-dir", str(data_dir), "--json"])
    info = json.loads(after.stdout)
    assert (info["current"], info["up_to_date"]) == (head_revision(), True)


def test_upgrade_uses_database_url(
    runner: CliRunner, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MONITOR_DATABASE_URL", db_url)
    result = runner.invoke(app, ["db", "current", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "out of date: run `monitor db upgrade`" in result.output
    result = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert f"none -> {head_revision()}" in result.output


def test_bad_url_is_one_clear_line(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("MONITOR_DATABASE_URL", "mysql://u@localhost/x")
    result = runner.invoke(app, ["db", "upgrade", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "unsupported database URL scheme 'mysql'" in result.output
    assert "Traceback" not in result.output
