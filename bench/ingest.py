"""Ingest benchmark: posts/s from the simulated Telegram through real Telethon into storage.

Runs the production pipeline (collector, language ID, matching against the repo's
channels.yaml, flags) on a first pass over a channel, into SQLite and (when reachable)
PostgreSQL, and counts the Telegram requests it made.

    python bench/ingest.py [--posts 5000] [--photos 200] [--postgres URL]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from monitor.config import ChannelSpec, load_watchlist  # noqa: E402
from monitor.flagging import Flagger  # noqa: E402
from monitor.language import get_detector  # noqa: E402
from monitor.matching import Matcher  # noqa: E402
from monitor.pipeline import Pipeline  # noqa: E402
from monitor.service import _entity_values  # noqa: E402
from monitor.simulator import Backend, client_for  # noqa: E402
from monitor.simulator.photos import generate_jpeg  # noqa: E402
from storage import create_engine, sync_entities, upgrade  # noqa: E402
from storage.media import MediaStore  # noqa: E402

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
START = datetime(2024, 1, 1, tzinfo=UTC)
# One post in twenty names a watched entity (the Chinese ambassador), as on a busy channel.
MENTION = "استقبل الأمين العام السفير الصيني لدى العراق وبحث معه العلاقات الثنائية"
TEXTS = [
    "استقبل الأمين العام وفدا عشائريا وبحث معه الأوضاع الخدمية في المحافظة",
    "Iraqi officials met a delegation in Baghdad to discuss reconstruction projects",
    "دیدار هیئت عراقی با مقامات در تهران درباره همکاری اقتصادی",
    "بيان بمناسبة ذكرى المولد النبوي الشريف، نبارك للأمة الإسلامية",
    "Weather: heavy rain expected across the southern provinces tomorrow",
]


def make_backend(n_posts: int, n_photos: int) -> tuple[Backend, ChannelSpec]:
    backend = Backend(seed=1)
    channel = backend.add_channel("bench_channel", "Bench")
    photos = [generate_jpeg(i, label=f"bench {i}", width=800, height=600) for i in range(8)]
    for i in range(n_posts):
        backend.post(
            channel.id,
            f"{MENTION if i % 20 == 0 else TEXTS[i % len(TEXTS)]} #{i}",
            date=START + timedelta(minutes=i),
            photo=photos[i % len(photos)] if i < n_photos else None,
            views=100 + i,
        )
    spec = ChannelSpec(
        handle="@bench_channel", poll_every=timedelta(minutes=5), backfill=n_posts, media=("photo",)
    )
    return backend, spec


async def run_one(url: str, n_posts: int, n_photos: int) -> dict[str, float]:
    backend, spec = make_backend(n_posts, n_photos)
    watchlist = load_watchlist(ROOT / "channels.yaml")
    engine = create_engine(url)
    await upgrade(engine)
    async with engine.begin() as conn:
        await sync_entities(_entity_values(watchlist), conn=conn, actor="bench")
    with tempfile.TemporaryDirectory() as media_dir:
        pipeline = Pipeline(
            engine=engine,
            media_store=MediaStore(Path(media_dir)),
            on_batch=[Flagger(Matcher.compile(watchlist.entities))],
            detect_language=get_detector("fast").detect,
        )
        client = client_for(backend, flood_sleep_threshold=0)
        await client.connect()
        try:
            backend.requests.reset()
            started = time.perf_counter()
            report = await pipeline.collect(client, spec)
            elapsed = time.perf_counter() - started
            assert report.ok and report.new == n_posts, report
            history = backend.requests.count("GetHistoryRequest")
            total = backend.requests.count()
            backend.requests.reset()
            await pipeline.collect(client, spec)
            idle = backend.requests.count()
        finally:
            await client.disconnect()
            await engine.dispose()
    return {
        "posts": n_posts,
        "photos": n_photos,
        "seconds": elapsed,
        "posts_per_s": n_posts / elapsed,
        "requests_per_100": 100 * total / n_posts,
        "history_per_100": 100 * history / n_posts,
        "idle_requests": idle,
    }


async def pg_schema_url(base: str) -> tuple[str, str] | None:
    engine = create_engine(base)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - report and skip the PostgreSQL leg
        print(f"PostgreSQL leg skipped: {exc}")
        return None
    finally:
        await engine.dispose()
    return make_url(base).update_query_dict({"schema": schema}).render_as_string(False), schema


async def drop_schema(base: str, schema: str) -> None:
    engine = create_engine(base)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="'' to skip PostgreSQL")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, n_photos, n_posts in (
            ("text", 0, args.posts),
            ("photos", args.photos, args.photos),
        ):
            url = f"sqlite+aiosqlite:///{tmp}/{label}.db"
            rows.append(("SQLite", label, await run_one(url, n_posts, n_photos)))
    if args.postgres:
        for label, n_photos, n_posts in (
            ("text", 0, args.posts),
            ("photos", args.photos, args.photos),
        ):
            made = await pg_schema_url(args.postgres)
            if made is None:
                break
            url, schema = made
            try:
                rows.append(("PostgreSQL", label, await run_one(url, n_posts, n_photos)))
            finally:
                await drop_schema(args.postgres, schema)
    print()
    print(
        f"{'database':<11} {'posts':<7} {'n':>6} {'seconds':>8} {'posts/s':>9} "
        f"{'req/100 posts':>14} {'GetHistory/100':>15} {'req/idle poll':>14}"
    )
    for db, label, r in rows:
        print(
            f"{db:<11} {label:<7} {r['posts']:>6} {r['seconds']:>8.2f} {r['posts_per_s']:>9.0f} "
            f"{r['requests_per_100']:>14.2f} {r['history_per_100']:>15.2f} {r['idle_requests']:>14.0f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
