"""``monitor alerts list|retry`` through the CLI runner, on both backends."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from alerts import RetryPolicy, Route, deliver_due, sinks_for_routes
from monitor.cli import app
from tests.alerts.conftest import Desk, free_port
from tests.factories import BASE_TIME


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI points logging at the runner's stderr, which closes after each invoke."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, db_url: str) -> CliRunner:
    monkeypatch.setenv("MONITOR_DATABASE_URL", db_url)
    return CliRunner()


async def invoke(runner: CliRunner, *args: str) -> tuple[int, str]:
    """Exit code and stdout (``--json`` lines); errors are checked on stderr separately."""
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    return result.exit_code, result.stdout if result.exit_code == 0 else result.output


async def test_list_failed_then_retry(engine: AsyncEngine, runner: CliRunner):
    routes = [Route.of("desk", [f"json://127.0.0.1:{free_port()}/hook"])]  # nothing listens
    await Desk(engine, routes).flag_post("Hezbollah <b>statement</b>", ["hezbollah"])
    await deliver_due(
        engine,
        sinks_for_routes(routes),
        now=BASE_TIME,
        policy=RetryPolicy(max_attempts=1, base=timedelta(seconds=1)),
    )

    code, out = await invoke(runner, "alerts", "list", "--failed", "--json")
    assert code == 0, out
    [line] = [json.loads(line) for line in out.splitlines()]
    assert (line["status"], line["route"], line["attempts"]) == ("failed", "desk", 1)
    assert "Connection error" in line["last_error"]
    code, out = await invoke(runner, "alerts", "list")
    assert code == 0 and "failed" in out and "desk" in out

    code, out = await invoke(runner, "alerts", "retry", "--all-failed")
    assert (code, out.strip()) == (0, "queued 1 failed alert again")
    code, out = await invoke(runner, "alerts", "list", "--json")
    assert json.loads(out.splitlines()[0])["status"] == "pending"
    code, out = await invoke(runner, "alerts", "list", "--failed")
    assert "no failed alerts" in out
    code, out = await invoke(runner, "alerts", "retry", str(line["id"]))
    assert code == 0 and f"queued alert {line['id']} again" in out


async def test_retry_reports_unknown_ids_and_bad_usage(engine: AsyncEngine, runner: CliRunner):
    code, out = await invoke(runner, "alerts", "retry", "999")
    assert code == 1 and "no alert with id 999" in out
    code, out = await invoke(runner, "alerts", "retry")
    assert code != 0 and "either an alert id or --all-failed" in out


def test_help_has_examples():
    runner = CliRunner()
    for args in (["alerts"], ["alerts", "list"], ["alerts", "retry"]):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0 and "Example:" in result.output
