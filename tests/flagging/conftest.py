"""Collector fixtures (simulated Telegram, TelegramClient, pipeline) and the seed archive."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from tests.flagging.desk import ROOT
from tests.telegram_fixtures import connect, make_pipeline, telegram  # noqa: F401


@pytest.fixture
def seed(db_url: str, tmp_path: Path) -> tuple[dict[str, str], str]:
    """The environment of a data directory holding the collected seed scenario, and what
    `monitor demo` printed while collecting it."""
    env = {
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
        "MONITOR_DATABASE_URL": db_url,
        "MONITOR_CHANNELS_FILE": str(ROOT / "channels.yaml"),
    }
    result = CliRunner().invoke(app, ["demo"], env=env)
    assert result.exit_code == 0, result.output
    return env, result.output


@pytest.fixture
def archive(seed: tuple[dict[str, str], str]) -> dict[str, str]:
    """The environment of a data directory holding the collected seed scenario."""
    return seed[0]
