"""Search fixtures: the seed scenario collected once per module and backend (`monitor demo`), and
a small crafted channel collected from the simulated Telegram, then edited and re-checked."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from monitor.cli import app
from monitor.simulator.photos import generate_jpeg
from tests.conftest import PG_ENV, _admin, _postgres_problem
from tests.flagging.desk import ROOT
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
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, str]]:
    """The environment of a data directory holding the collected seed scenario (one per module
    and backend: collecting takes seconds)."""
    import asyncio

    tmp = tmp_path_factory.mktemp("seed")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{(tmp / 'data' / 'monitor.db').as_posix()}"
    else:
        base = os.environ.get(PG_ENV)
        if not base:
            pytest.skip(f"PostgreSQL leg: set {PG_ENV}")
        problem = asyncio.run(_postgres_problem(base))
        if problem:
            pytest.skip(f"PostgreSQL unreachable: {problem}")
        schema = f"test_{uuid.uuid4().hex[:16]}"
        asyncio.run(_admin(base, f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"schema": schema}).render_as_string(False)
    env = {
        "MONITOR_DATA_DIR": str(tmp / "data"),
        "MONITOR_DATABASE_URL": url,
        "MONITOR_CHANNELS_FILE": str(ROOT / "channels.yaml"),
    }
    try:
        result = cli(env, "demo")
        assert result.exit_code == 0, result.output
        yield env
    finally:
        if schema is not None:
            asyncio.run(_admin(os.environ[PG_ENV], f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


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
