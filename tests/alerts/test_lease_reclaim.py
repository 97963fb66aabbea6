"""A restarted worker takes back at once the alerts its killed predecessor was sending, instead of
leaving the route blocked for the rest of the two-minute lease; live or remote holders keep theirs."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from alerts import OutboxWorker, RetryPolicy, Route, list_outbox, sinks_for_routes
from storage.files import process_started
from storage.models import alert_outbox
from tests.alerts.conftest import Desk, Receiver
from tests.factories import BASE_TIME

ROOT = Path(__file__).resolve().parents[2]
SOON = BASE_TIME + timedelta(seconds=1)  # the restart: long before the 2-minute lease ends
HOST = socket.gethostname()


def identity(pid: int, started: float) -> str:
    return f"{HOST}|{pid}|{started:.0f}"


async def test_a_restarted_worker_resends_the_killed_workers_alert_at_once(
    engine: AsyncEngine, db_url: str, receiver: Receiver
):
    routes = [Route.of("desk", [receiver.url()])]
    desk = Desk(engine, routes)
    for i in range(3):
        await desk.flag_post(f"Post {i}: Hezbollah", ["hezbollah"])
    receiver.mode = "hang"  # the first request is never answered
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.alerts.worker_proc",
        db_url,
        receiver.url(),
        BASE_TIME.isoformat(),
        "worker",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert await asyncio.to_thread(receiver.arrived.wait, 90), "worker never sent"
    finally:
        proc.kill()  # SIGKILL mid-send
        await proc.wait()
    rows = sorted(await list_outbox(engine), key=lambda r: r.id)
    assert [r.status for r in rows] == ["sending", "pending", "pending"]
    assert rows[0].next_attempt_at == BASE_TIME + RetryPolicy().lease  # held for two minutes

    receiver.mode = "ok"
    receiver.release.set()
    worker = OutboxWorker(engine, sinks_for_routes(routes), clock=lambda: SOON)
    report = await worker.drain(30)  # a bound against hanging; the clock stands still

    assert (report.delivered, report.remaining) == (3, 0)
    assert {r.status for r in await list_outbox(engine)} == {"delivered"}
    first_key = rows[0].idempotency_key
    assert [r.key for r in receiver.accepted][0] == first_key  # the killed send, sent again


@pytest.fixture
async def sleeper() -> AsyncIterator[int]:
    """The pid of a process that stays alive for the test."""
    proc = await asyncio.create_subprocess_exec("sleep", "60")
    yield proc.pid
    proc.kill()
    await proc.wait()


async def dead_pid() -> tuple[int, float]:
    proc = await asyncio.create_subprocess_exec("sleep", "60")
    started = process_started(proc.pid)
    assert started is not None
    proc.kill()
    await proc.wait()  # reaped: gone
    return proc.pid, started


async def _held_row(engine: AsyncEngine, receiver: Receiver, holder: str) -> list[Route]:
    routes = [Route.of("desk", [receiver.url()])]
    await Desk(engine, routes).flag_post("Hezbollah statement", ["hezbollah"])
    async with engine.begin() as conn:
        await conn.execute(
            update(alert_outbox).values(
                status="sending",
                attempts=1,
                next_attempt_at=BASE_TIME + timedelta(minutes=2),
                lease_owner=holder,
            )
        )
    return routes


@pytest.mark.parametrize("holder", ["exited", "pid reused"])
async def test_a_lease_of_a_dead_process_on_this_host_is_released(
    engine: AsyncEngine, receiver: Receiver, sleeper: int, holder: str
):
    if holder == "exited":
        owner = identity(*await dead_pid())
    else:  # the killed worker's pid now names a process started later: the holder is gone
        live = process_started(sleeper)
        assert live is not None
        owner = identity(sleeper, live - 3600)
    routes = await _held_row(engine, receiver, owner)

    report = await OutboxWorker(engine, sinks_for_routes(routes), clock=lambda: SOON).drain(0)

    assert report.delivered == 1 and len(receiver.accepted) == 1


@pytest.mark.parametrize("holder", ["live process", "this process", "other host"])
async def test_a_lease_whose_holder_may_still_be_sending_is_kept(
    engine: AsyncEngine, receiver: Receiver, sleeper: int, holder: str
):
    own = process_started()
    live = process_started(sleeper)
    assert own is not None and live is not None
    owner = {
        "live process": identity(sleeper, live),
        "this process": identity(os.getpid(), own),
        "other host": f"elsewhere.example|{(await dead_pid())[0]}|{own:.0f}",
    }[holder]
    routes = await _held_row(engine, receiver, owner)
    worker = OutboxWorker(engine, sinks_for_routes(routes), clock=lambda: SOON)

    report = await worker.drain(0)

    assert report.delivered == 0 and receiver.requests == []
    [row] = await list_outbox(engine)
    assert row.status == "sending"
