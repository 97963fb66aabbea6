"""A delivery worker in its own process, for the crash test: ``python -m tests.alerts.worker_proc
DB_URL SINK_URL ISO_NOW [worker]``. It is killed (SIGKILL) while a send is in flight. With
``worker`` it delivers as the service does, through an ``OutboxWorker`` (leases carry its
identity); otherwise through one bare ``deliver_due`` pass."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta

from alerts import OutboxWorker, RetryPolicy, Route, deliver_due, sinks_for_routes
from storage.engine import create_engine


async def main(db_url: str, sink_url: str, now: str, mode: str = "pass") -> None:
    engine = create_engine(db_url)
    try:
        routes = [Route.of("desk", [sink_url])]
        if mode == "worker":
            at = datetime.fromisoformat(now)
            worker = OutboxWorker(engine, sinks_for_routes(routes), clock=lambda: at)
            await worker.drain(60)
            return
        await deliver_due(
            engine,
            sinks_for_routes(routes),
            now=datetime.fromisoformat(now),
            policy=RetryPolicy(lease=timedelta(minutes=1)),
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
