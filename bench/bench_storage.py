"""Storage throughput: ``python bench/bench_storage.py [DATABASE_URL]``.

Stores N new posts in batches (each with its first version and a metric row), then re-stores
them with edited text (a second version each), and prints posts/s for both passes.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage import ChannelRecord, PostRecord, create_engine, upgrade, upsert_channel, upsert_posts

N = 10_000
BATCH = 200
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def posts() -> list[PostRecord]:
    return [
        PostRecord(
            channel_id=1,
            message_id=i,
            posted_at=T0 + timedelta(seconds=i),
            text=f"Post number {i} with some words about events in the region " * 3,
            views=i,
            reactions={"👍": i % 7},
            raw={"_": "Message", "id": i},
        )
        for i in range(1, N + 1)
    ]


async def run(url: str) -> None:
    engine = create_engine(url)
    await upgrade(engine)
    async with engine.begin() as conn:
        await upsert_channel(ChannelRecord(1, "bench", "Bench"), conn=conn, seen_at=T0)
    records = posts()
    edited = [replace(r, text=r.text + " (edited)", edited_at=T0) for r in records]
    for label, batch_records in [("new", records), ("edited", edited), ("unchanged", edited)]:
        start = time.perf_counter()
        for i in range(0, N, BATCH):
            async with engine.begin() as conn:
                await upsert_posts(batch_records[i : i + BATCH], conn=conn, captured_at=T0)
        elapsed = time.perf_counter() - start
        print(f"{label:>9}: {N} posts in {elapsed:.2f}s = {N / elapsed:,.0f} posts/s")
    await engine.dispose()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        target = sys.argv[1] if len(sys.argv) > 1 else f"sqlite+aiosqlite:///{Path(tmp)}/bench.db"
        print(target.split("?")[0])
        asyncio.run(run(target))
