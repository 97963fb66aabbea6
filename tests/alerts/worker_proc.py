"""A delivery worker in its own process, for the crash test: ``python -m tests.alerts.worker_proc
DB_URL SINK_URL ISO_NOW``. It is killed (SIGKILL) while a send is in flight."""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime, timedelta

from alerts import RetryPolicy, Route, deliver_due, sinks_for_routes
from storage.engine import create_engine


async def main(db_url: str, sink_url: str, now: str) -> None:
    engine = create_engine(db_url)
    try:
        routes = [Route.of("desk", [sink_url])]
        await deliver_due(
            engine,
            sinks_for_routes(routes),
            now=datetime.fromisoformat(now),
            policy=RetryPolicy(lease=timedelta(minutes=1)),
        )
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
