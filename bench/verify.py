"""Capture-log benchmark: how long `monitor verify` takes on a large archive.

Builds an archive of N posts (one in ten edited once, one in fifty with a photo) through
``upsert_posts`` — the collector's write path, capture log included — then times
:func:`storage.capture_verify.verify_archive` side by side with a floor: reading the same
version rows and hashing the same files, with no chain, no join and no checks. Runs on SQLite
and (when reachable) PostgreSQL.

    python bench/verify.py [--posts 100000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage import MediaStore, create_engine, upgrade, upsert_channel, upsert_posts  # noqa: E402
from storage.capture_verify import verify_archive  # noqa: E402
from storage.models import media, post_version  # noqa: E402
from storage.records import ChannelRecord, MediaRecord, PostRecord  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
START = datetime(2024, 1, 1, tzinfo=UTC)
BATCH = 500


async def build(url: str, store: MediaStore, n_posts: int) -> float:
    """Store ``n_posts`` posts in batches; returns the seconds spent in upsert_posts."""
    engine = create_engine(url)
    spent = 0.0
    try:
        await upgrade(engine)
        async with engine.begin() as conn:
            await upsert_channel(ChannelRecord(1, "bench_sim", "Bench"), conn=conn, seen_at=START)
        for first in range(1, n_posts + 1, BATCH):
            records = []
            for message_id in range(first, min(first + BATCH, n_posts + 1)):
                photo: tuple[MediaRecord, ...] = ()
                if message_id % 50 == 0:
                    stored = store.put(f"photo {message_id}".encode() * 2000, ext="jpg")
                    photo = (
                        MediaRecord(
                            0,
                            "photo",
                            message_id,
                            stored.sha256,
                            "image/jpeg",
                            stored.size,
                            path=stored.relpath,
                        ),
                    )
                records.append(
                    PostRecord(
                        channel_id=1,
                        message_id=message_id,
                        posted_at=START + timedelta(minutes=message_id),
                        text=f"post {message_id}: استقبل الأمين العام وفدا عشائريا",
                        media=photo,
                    )
                )
            captured = START + timedelta(days=1, seconds=first)
            edits = [
                replace(r, text=r.text + " (edited)", edited_at=captured)
                for r in records
                if r.message_id % 10 == 0
            ]
            for batch, at in ((records, captured), (edits, captured + timedelta(hours=1))):
                began = time.perf_counter()
                async with engine.begin() as conn:
                    await upsert_posts(batch, conn=conn, captured_at=at)
                spent += time.perf_counter() - began
    finally:
        await engine.dispose()
    return spent


async def floor(url: str, store: MediaStore) -> float:
    """Read every version and hash every file, nothing else."""
    engine = create_engine(url)
    try:
        began = time.perf_counter()
        async with engine.connect() as conn:
            result = await conn.stream(select(post_version).execution_options(yield_per=2000))
            async for row in result:
                hashlib.sha256(row.text.encode()).hexdigest()
            for row in await conn.execute(select(media.c.path)):
                path = store.path_of(row.path)
                await asyncio.to_thread(lambda p=path: hashlib.sha256(p.read_bytes()).hexdigest())
        return time.perf_counter() - began
    finally:
        await engine.dispose()


async def verify(url: str, store: MediaStore) -> tuple[float, int]:
    engine = create_engine(url)
    try:
        began = time.perf_counter()
        async with engine.connect() as conn:
            report = await verify_archive(conn=conn, media_store=store)
        assert report.ok, report.mismatches[:3]
        return time.perf_counter() - began, report.entries
    finally:
        await engine.dispose()


async def run(label: str, url: str, n_posts: int, tmp: Path) -> None:
    store = MediaStore(tmp / f"media-{label}")
    write_s = await build(url, store, n_posts)
    verify_runs, floor_runs = [], []
    entries = 0
    for _ in range(3):  # alternating, so both see the same load
        seconds, entries = await verify(url, store)
        verify_runs.append(seconds)
        floor_runs.append(await floor(url, store))
    v, f = statistics.median(verify_runs), statistics.median(floor_runs)
    print(
        f"{label:<11} {n_posts:>8} {entries:>8} {write_s:>8.1f} {v:>9.2f} {entries / v:>10,.0f}"
        f" {f:>8.2f} {v / f:>6.1f}x",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="'' to skip PostgreSQL")
    args = parser.parse_args()
    print("database       posts  entries  write s  verify s  entries/s  floor s  ratio")
    with tempfile.TemporaryDirectory() as tmp:
        await run("SQLite", f"sqlite+aiosqlite:///{tmp}/bench.db", args.posts, Path(tmp))
        if args.postgres:
            schema = f"bench_{uuid.uuid4().hex[:12]}"
            admin = create_engine(args.postgres)
            try:
                async with admin.begin() as conn:
                    await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
                url = make_url(args.postgres).update_query_dict({"schema": schema})
                await run("PostgreSQL", url.render_as_string(False), args.posts, Path(tmp))
            finally:
                async with admin.begin() as conn:
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                await admin.dispose()


if __name__ == "__main__":
    asyncio.run(main())
