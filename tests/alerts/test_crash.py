"""A worker process killed mid-delivery loses nothing; the only repeat carries the same key."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from alerts import RetryPolicy, Route, deliver_due, list_outbox, sinks_for_routes
from tests.alerts.conftest import Desk, Receiver
from tests.factories import BASE_TIME

ROOT = Path(__file__).resolve().parents[2]
LEASE = timedelta(minutes=1)


async def test_worker_killed_mid_delivery_then_restarted(
    engine: AsyncEngine, db_url: str, receiver: Receiver
):
    routes = [Route.of("desk", [receiver.url()])]
    desk = Desk(engine, routes)
    for i in range(3):
        await desk.flag_post(f"Post {i}: Hezbollah", ["hezbollah"])
    receiver.mode = "hang"  # accept the first request and never answer it

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.alerts.worker_proc",
        db_url,
        receiver.url(),
        BASE_TIME.isoformat(),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert await asyncio.to_thread(receiver.arrived.wait, 90), "worker never sent"
    finally:
        proc.kill()  # SIGKILL: no cleanup, no chance to mark anything
        await proc.wait()
    rows = sorted(await list_outbox(engine), key=lambda r: r.id)
    assert [r.status for r in rows] == ["sending", "pending", "pending"]

    receiver.mode = "ok"
    receiver.release.set()
    sinks = sinks_for_routes(routes)
    policy = RetryPolicy(lease=LEASE)
    # Restarted while the dead worker's lease still runs: the route waits (order is kept).
    early = await deliver_due(engine, sinks, now=BASE_TIME + LEASE / 2, policy=policy)
    assert early.delivered == 0
    late = await deliver_due(engine, sinks, now=BASE_TIME + LEASE, policy=policy)
    assert late.delivered == 3

    keys = [r.key for r in receiver.requests]
    first_key = rows[0].idempotency_key
    assert keys == [first_key, first_key, rows[1].idempotency_key, rows[2].idempotency_key]
    assert [f"Post {i}:" in r.body["message"] for i, r in enumerate(receiver.requests[1:])] == [
        True,
        True,
        True,
    ]
    # Deduped on the key, the desk saw every alert exactly once.
    assert len(dict.fromkeys(keys)) == 3
    assert {r.status for r in await list_outbox(engine)} == {"delivered"}
