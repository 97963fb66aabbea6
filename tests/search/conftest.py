"""Search fixtures: a copy of the seed scenario per module and backend (collected once), and
a small crafted channel collected from the simulated Telegram, then edited and re-checked."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.simulator.photos import generate_jpeg
from tests.conftest import PG_ENV, _postgres_problem
from tests.seed_archive import SeedTemplates
from tests.telegram_fixtures import START, connect, make_pipeline, spec, telegram  # noqa: F401


def cli(env: dict[str, str], *args: str) -> Any:
    """Run ``monitor ARGS`` with ``env``; the result of Typer's runner."""
    return CliRunner().invoke(app, list(args), env=env)


def search(env: dict[str, str], query: str, *args: str) -> list[dict[str, Any]]:
    """The hits of ``monitor search QUERY ARGS --json`` (at most 1000)."""
    result = cli(env, "search", query, "--json", "--limit", "1000", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def seed_archive(
    request: pytest.FixtureRequest,
    seed_templates: SeedTemplates,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, str]]:
    """The environment of a data directory holding the collected seed scenario: one copy of the
    session's per module and backend, which these tests only read."""
    import asyncio

    if request.param == "postgresql":
        base = os.environ.get(PG_ENV)
        if not base:
            pytest.skip(f"PostgreSQL leg: set {PG_ENV}")
        problem = asyncio.run(_postgres_problem(base))
        if problem:
            pytest.skip(f"PostgreSQL unreachable: {problem}")
    env, remove = seed_templates.copy(request.param, tmp_path_factory.mktemp("seed") / "data")
    try:
        yield env
    finally:
        remove()


@dataclass
class Crafted:
    """A channel collected from the simulated Telegram: ``env`` for the CLI, message ids by name."""

    env: dict[str, str]
    ids: dict[str, int]
    channel_id: int


CRAFTED_POSTS = {
    "together": "Cui Wei met Qais al-Khazali in Baghdad on Monday.",
    "apart": "Wei Jian said nothing; ambassador Cui was absent.",
    "basra": "KHAZALI visited Basra to open a clinic.",
    "ambassador": "The ambassador's statement about Khazali was short.",
    "movement": "The Khazalist movement held a rally.",
    "hostile": '=HYPERLINK("http://evil.example") <script>alert(1)</script> & "quotes" قيس',
    "sanctions": "Sanctions on the ministry announced today.",
    "rumour": "Rumour: a second meeting with the ambassador in Najaf.",
    "photo": "Photo of the Najaf delegation.",
}


@pytest.fixture
async def crafted(
    telegram,  # noqa: F811
    connect,  # noqa: F811
    make_pipeline,  # noqa: F811
    engine,
    db_url: str,
    tmp_path: Path,  # noqa: F811
) -> AsyncIterator[Crafted]:
    """Nine posts in @crafted_news collected through the real TelegramClient; then "sanctions"
    is edited (its first words gone) and "rumour" deleted, and a re-check records both."""
    channel = telegram.add_channel("crafted_news", "Crafted News")
    ids: dict[str, int] = {}
    for i, (name, text) in enumerate(CRAFTED_POSTS.items()):
        photo = (
            generate_jpeg(5, label="delegation", width=64, height=48) if name == "photo" else None
        )
        message = telegram.post(channel.id, text, date=START + timedelta(hours=i), photo=photo)
        ids[name] = message.id
    now = START + timedelta(days=1)
    pipeline = make_pipeline(now=lambda: now)
    client = await connect()
    report = await pipeline.collect(client, spec("crafted_news"))
    assert report.new == len(CRAFTED_POSTS) and report.error is None
    telegram.edit(channel.id, ids["sanctions"], "The ministry responded today.", date=now)
    telegram.delete(channel.id, [ids["rumour"]])
    checked = await pipeline.recheck(client, spec("crafted_news"), window=timedelta(days=30))
    assert (checked.changed, checked.deleted) == (1, 1)
    env = {
        "MONITOR_DATA_DIR": str(tmp_path / "data"),
        "MONITOR_DATABASE_URL": db_url,
        "MONITOR_CHANNELS_FILE": str(tmp_path / "no-channels.yaml"),
    }
    yield Crafted(env=env, ids=ids, channel_id=channel.id)
