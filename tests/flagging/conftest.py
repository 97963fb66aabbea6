"""Collector fixtures (simulated Telegram, TelegramClient, pipeline) and the seed archive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from monitor.cli import app
from tests.seed_archive import SeedTemplates
from tests.telegram_fixtures import connect, make_pipeline, telegram  # noqa: F401


@pytest.fixture
def seed(db_url: str, tmp_path: Path) -> tuple[dict[str, str], str]:
    """The environment of a data directory where `monitor demo` has just collected the seed
    scenario, and what it printed while collecting it."""
    env = SeedTemplates.env(tmp_path / "data", db_url)
    result = CliRunner().invoke(app, ["demo"], env=env)
    assert result.exit_code == 0, result.output
    return env, result.output


@pytest.fixture
def archive(db_url: str, seed_templates: SeedTemplates, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a data directory holding the collected seed scenario: this test's own
    copy of the seed collected once per session (on the backend of ``db_url``), so what one test
    changes no other test sees."""
    env, remove = seed_templates.copy(make_url(db_url).get_backend_name(), tmp_path / "data")
    try:
        yield env
    finally:
        remove()
