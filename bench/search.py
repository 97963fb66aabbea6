"""Search benchmark: full-text queries on a generated archive, side by side with a LIKE scan.

Measurements, not timed tests; prints Markdown tables for the README.

    python bench/search.py                          # 1,000,000 posts, SQLite and PostgreSQL
    python bench/search.py --posts 100000 --db sqlite
    python bench/search.py --pg postgresql+asyncpg://postgres@127.0.0.1:5432/test --db postgresql

The archive (``--posts`` posts in 100 channels, Arabic, Persian and English words drawn from a
Zipf distribution over generated vocabularies, a few names planted at known rates, posted over six
years) is written with bulk SQL straight into the migrated schema, the search index included
(each text through ``monitor.search.index_text``, as the collector indexes it). Queries go
through ``storage.search.search_posts`` (what `monitor search` runs: newest 20 by date); the
baseline is the same page found by ``text LIKE '%word%'`` on ``post``. Each query kind runs over
several different words, ``--runs`` times in all (the scan fewer times: it is slow), after one untimed run of each query
(and one scan) to warm the caches.

``--export`` also runs `monitor export posts --format csv` in a child process over a tenth and
over all of the archive and reports rows/s and the child's peak RSS (flat memory: the two
should be close).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
CHANNELS = 100
START = datetime(2018, 1, 1, tzinfo=UTC)
SPAN = timedelta(days=6 * 365)
CHUNK = 20_000

AR = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
FA = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
EN = "abcdefghijklmnopqrstuvwxyz"
# Planted names: (text, share of posts in that language).
PLANTED = {
    "ar": [("قيس الخزعلي", 0.002), ("السفير الصيني", 0.001)],
    "fa": [("قیس خزعلی", 0.002), ("سفیر چین", 0.001)],
    "en": [("Qais al-Khazali", 0.002), ("Ambassador Cui Wei", 0.001)],
}


def _vocabulary(letters: str, n: int, rng: random.Random, *, article: bool) -> list[str]:
    words: set[str] = set()
    while len(words) < n:
        word = "".join(rng.choice(letters) for _ in range(rng.randint(3, 8)))
        if article and rng.random() < 0.3:
            word = "ال" + word
        words.add(word)
    return sorted(words)


class Generator:
    """Posts as (channel, language, text) with Zipf-distributed words."""

    def __init__(self, seed: int = 11, vocabulary: int = 20_000) -> None:
        self.rng = random.Random(seed)
        self.words = {
            "ar": _vocabulary(AR, vocabulary, self.rng, article=True),
            "fa": _vocabulary(FA, vocabulary, self.rng, article=False),
            "en": _vocabulary(EN, vocabulary, self.rng, article=False),
        }
        weights = [1 / (rank**1.07) for rank in range(1, vocabulary + 1)]
        self.cum = list(itertools.accumulate(weights))

    def word(self, language: str, rank: int) -> str:
        return self.words[language][rank]

    def text(self, language: str) -> str:
        rng = self.rng
        words = rng.choices(self.words[language], cum_weights=self.cum, k=rng.randint(12, 60))
        for name, share in PLANTED[language]:
            if rng.random() < share:
                words.insert(rng.randrange(len(words) + 1), name)
        if language == "en":
            words[0] = words[0].capitalize()
        return " ".join(words) + "."


def _posts(gen: Generator, n: int) -> Any:
    """Rows (id, channel_id, message_id, posted_at, language, text), ``CHUNK`` at a time."""
    per_channel: dict[int, int] = {}
    step = SPAN / n
    batch: list[tuple[Any, ...]] = []
    for i in range(1, n + 1):
        channel_id = 1000 + gen.rng.randrange(CHANNELS)
        language = ("ar", "fa", "en")[channel_id % 3]
        per_channel[channel_id] = per_channel.get(channel_id, 0) + 1
        posted = START + step * i + timedelta(seconds=gen.rng.randrange(600))
        batch.append((i, channel_id, per_channel[channel_id], posted, language, gen.text(language)))
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


# ── building the archive ──────────────────────────────────────────────────────────────────────


async def _migrate(url: str) -> None:
    from storage.engine import create_engine, upgrade

    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def build_sqlite(path: Path, n: int, gen: Generator) -> float:
    import sqlite3

    from monitor.search.text import index_text
    from storage.search_index import doc_key

    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    started = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")
    now = datetime.now(UTC).isoformat()
    db.executemany(
        "INSERT INTO channel (id, username, title, first_seen_at, updated_at) VALUES (?,?,?,?,?)",
        [(1000 + c, f"bench_channel_{c}", f"Channel {c}", now, now) for c in range(CHANNELS)],
    )
    for batch in _posts(gen, n):
        posts, versions, docs, index = [], [], [], []
        for pid, cid, mid, posted, language, text in batch:
            at = posted.isoformat()
            posts.append((pid, cid, mid, at, at, at, text, language, f"h{pid}"))
            versions.append((pid, pid, text, at, f"h{pid}"))
            doc = doc_key(posted, pid)
            docs.append((doc, pid, pid))
            index.append((doc, index_text(text)))
        db.executemany(
            "INSERT INTO post (id, channel_id, message_id, posted_at, first_captured_at, "
            "last_checked_at, text, language, content_hash) VALUES (?,?,?,?,?,?,?,?,?)",
            posts,
        )
        db.executemany(
            "INSERT INTO post_version (id, post_id, text, captured_at, content_hash) "
            "VALUES (?,?,?,?,?)",
            versions,
        )
        db.executemany("INSERT INTO search_doc (doc, version_id, post_id) VALUES (?,?,?)", docs)
        db.executemany("INSERT INTO post_search (rowid, body) VALUES (?, ?)", index)
        db.commit()
        print(f"  sqlite: {batch[-1][0]:,} posts", file=sys.stderr, flush=True)
    db.execute("INSERT INTO post_search (post_search) VALUES ('optimize')")
    db.execute("ANALYZE")
    db.commit()
    db.close()
    return time.perf_counter() - started


async def build_postgres(url: str, n: int, gen: Generator) -> float:
    import asyncpg
    from sqlalchemy.engine import make_url

    from monitor.search.text import index_text

    await _migrate(url)
    parsed = make_url(url)
    schema = parsed.query["schema"]
    dsn = parsed.difference_update_query(["schema"]).set(drivername="postgresql")
    conn = await asyncpg.connect(
        dsn.render_as_string(hide_password=False), server_settings={"search_path": str(schema)}
    )
    started = time.perf_counter()
    try:
        now = datetime.now(UTC)
        await conn.executemany(
            "INSERT INTO channel (id, username, title, first_seen_at, updated_at) "
            "VALUES ($1,$2,$3,$4,$5)",
            [(1000 + c, f"bench_channel_{c}", f"Channel {c}", now, now) for c in range(CHANNELS)],
        )
        await conn.execute("DROP INDEX ix_post_search_body")
        await conn.execute("DROP INDEX ix_post_search_posted_at")
        await conn.execute(
            "CREATE TEMP TABLE staging (version_id bigint, post_id bigint, posted_at timestamptz, body text)"
        )
        for batch in _posts(gen, n):
            await conn.copy_records_to_table(
                "post",
                records=[
                    (pid, cid, mid, posted, posted, posted, text, language, f"h{pid}")
                    for pid, cid, mid, posted, language, text in batch
                ],
                columns=[
                    "id",
                    "channel_id",
                    "message_id",
                    "posted_at",
                    "first_captured_at",
                    "last_checked_at",
                    "text",
                    "language",
                    "content_hash",
                ],
            )
            await conn.copy_records_to_table(
                "post_version",
                records=[
                    (pid, pid, text, posted, f"h{pid}") for pid, _, _, posted, _, text in batch
                ],
                columns=["id", "post_id", "text", "captured_at", "content_hash"],
            )
            await conn.copy_records_to_table(
                "staging", records=[(r[0], r[0], r[3], index_text(r[5])) for r in batch]
            )
            await conn.execute(
                "INSERT INTO post_search SELECT version_id, post_id, posted_at,"
                " to_tsvector('simple', body) FROM staging"
            )
            await conn.execute("TRUNCATE staging")
            print(f"  postgresql: {batch[-1][0]:,} posts", file=sys.stderr, flush=True)
        await conn.execute("CREATE INDEX ix_post_search_body ON post_search USING GIN (body)")
        await conn.execute("CREATE INDEX ix_post_search_posted_at ON post_search (posted_at)")
        for table in ("post", "post_version"):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await conn.execute("VACUUM ANALYZE post")
        await conn.execute("VACUUM ANALYZE post_version")
        await conn.execute("VACUUM ANALYZE post_search")
    finally:
        await conn.close()
    return time.perf_counter() - started


# ── queries ───────────────────────────────────────────────────────────────────────────────────


def query_sets(gen: Generator) -> dict[str, list[tuple[str, dict[str, Any], str]]]:
    """Per kind: (monitor query, filters, LIKE pattern) for several different words."""
    since = START + SPAN * 0.5
    ar = [gen.word("ar", r) for r in range(300, 310)]
    fa = [gen.word("fa", r) for r in range(300, 305)]
    en = [gen.word("en", r) for r in range(300, 305)]
    common = [gen.word(lang, r) for lang in ("ar", "fa", "en") for r in (10, 11)]
    return {
        "one word (rank 300)": [(w, {}, w) for w in [*ar[:4], *fa[:3], *en[:3]]],
        "one word (rank 10)": [(w, {}, w) for w in common],
        "phrase": [
            ('"قيس الخزعلي"', {}, "قيس الخزعلي"),
            ('"qais al-khazali"', {}, "Qais al-Khazali"),
            ('"Cui Wei"', {}, "Cui Wei"),
            ('"قیس خزعلی"', {}, "قیس خزعلی"),
        ],
        "word + channel + since": [
            (w, {"channels": (f"bench_channel_{c}",), "since": since}, w)
            for words, channels in ((ar, (2, 5, 8)), (fa, (0, 3, 6)), (en, (1, 4)))
            for w, c in zip(words, channels, strict=False)
        ],
    }


async def _time_queries(
    url: str, sets: dict[str, Any], runs: int, scan_runs: int
) -> list[dict[str, Any]]:
    from sqlalchemy import func, literal, select

    from monitor.search import parse_query
    from storage.engine import create_engine
    from storage.models import channel, post
    from storage.search import PostFilters, count_posts, search_posts

    engine = create_engine(url)
    rows = []
    try:
        async with engine.connect() as conn:
            for kind, items in sets.items():
                fts: list[float] = []
                scan: list[float] = []
                hits: list[int] = []
                for source, filters, _ in items:  # warm the caches once, untimed
                    await search_posts(
                        parse_query(source).text_query, PostFilters(**filters), conn=conn, limit=20
                    )
                for i in range(runs):
                    source, filters, _ = items[i % len(items)]
                    parsed = parse_query(source)
                    started = time.perf_counter()
                    await search_posts(
                        parsed.text_query, PostFilters(**filters), conn=conn, limit=20
                    )
                    fts.append((time.perf_counter() - started) * 1000)
                for source, filters, _ in items:
                    hits.append(
                        await count_posts(
                            parse_query(source).text_query, PostFilters(**filters), conn=conn
                        )
                    )
                for i in range(-1, scan_runs):  # the first scan warms the caches, untimed
                    source, filters, pattern = items[max(i, 0) % len(items)]
                    stmt = select(post.c.id).where(post.c.text.like(literal(f"%{pattern}%")))
                    for name in filters.get("channels", ()):
                        stmt = stmt.where(
                            post.c.channel_id.in_(
                                select(channel.c.id).where(func.lower(channel.c.username) == name)
                            )
                        )
                    if "since" in filters:
                        stmt = stmt.where(post.c.posted_at >= filters["since"])
                    stmt = stmt.order_by(post.c.posted_at.desc(), post.c.id.desc()).limit(20)
                    started = time.perf_counter()
                    (await conn.execute(stmt)).all()
                    if i >= 0:
                        scan.append((time.perf_counter() - started) * 1000)
                rows.append(
                    {"kind": kind, "fts": fts, "scan": scan, "hits": statistics.median(hits)}
                )
                print(f"  {kind}: done", file=sys.stderr, flush=True)
    finally:
        await engine.dispose()
    return rows


async def ingest_cost(url: str, n: int) -> tuple[float, float]:
    """Seconds to store ``n`` posts with ``storage.upsert_posts`` in batches of 100 (as the
    collector does), without and with the search index (two fresh channels, same texts)."""
    from monitor.search.text import index_text
    from storage import upsert_channel, upsert_posts
    from storage.engine import create_engine
    from storage.records import ChannelRecord, PostRecord

    gen = Generator(5)
    texts = [gen.text(("ar", "fa", "en")[i % 3]) for i in range(n)]
    engine = create_engine(url)
    spent = []
    try:
        for channel_id, indexer in ((7001, None), (7002, index_text)):
            async with engine.begin() as conn:
                record = ChannelRecord(channel_id, f"ingest_{channel_id}", "Ingest")
                await upsert_channel(record, conn=conn, seen_at=START)
            started = time.perf_counter()
            for i in range(0, n, 100):
                batch = [
                    PostRecord(channel_id, j + 1, START + timedelta(minutes=j), text=texts[j])
                    for j in range(i, min(i + 100, n))
                ]
                async with engine.begin() as conn:
                    await upsert_posts(
                        batch, conn=conn, captured_at=START, expect_new=True, index_text=indexer
                    )
            spent.append(time.perf_counter() - started)
    finally:
        await engine.dispose()
    return spent[0], spent[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def export_run(url: str, until: str | None, tmp: Path) -> tuple[int, float, float]:
    """(rows, seconds, peak RSS MiB) of `monitor export posts --format csv` in a child."""
    out = tmp / f"export-{uuid.uuid4().hex[:6]}.csv"
    code = (
        "import resource, sys; from monitor.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)\n"
    )
    args = [sys.executable, "-c", code, "export", "posts", "--format", "csv", "-o", str(out)]
    if until:
        args += ["--until", until]
    env = {**os.environ, "MONITOR_DATABASE_URL": url, "MONITOR_DATA_DIR": str(tmp / "data")}
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=ROOT, check=True)
    seconds = time.perf_counter() - started
    rss = int(done.stderr.strip().splitlines()[-1]) / 1024
    with out.open(encoding="utf-8-sig") as fh:
        rows = sum(1 for _ in fh) - 1  # texts hold no newlines here
    out.unlink()
    return rows, seconds, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg", default=os.environ.get("MONITOR_BENCH_PG", DEFAULT_PG))
    parser.add_argument("--runs", type=int, default=50, help="timed index queries per kind")
    parser.add_argument("--scan-runs", type=int, default=5, help="timed LIKE scans per kind")
    parser.add_argument("--export", action="store_true", help="also time a CSV export")
    parser.add_argument(
        "--ingest", type=int, default=0, help="also time storing N posts without/with the index"
    )
    args = parser.parse_args()

    gen_seed = 11
    sets = query_sets(Generator(gen_seed))
    results: list[tuple[str, list[dict[str, Any]], float, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-search-") as tmp_name:
        tmp = Path(tmp_name)
        backends = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
        for backend in backends:
            gen = Generator(gen_seed)
            schema = None
            if backend == "sqlite":
                path = tmp / "bench.db"
                print(f"building SQLite archive of {args.posts:,} posts", file=sys.stderr)
                seconds = build_sqlite(path, args.posts, gen)
                url = f"sqlite+aiosqlite:///{path}"
            else:
                schema = f"bench_{uuid.uuid4().hex[:10]}"
                from sqlalchemy.engine import make_url

                url = (
                    make_url(args.pg).update_query_dict({"schema": schema}).render_as_string(False)
                )
                print(f"building PostgreSQL archive of {args.posts:,} posts", file=sys.stderr)
                try:
                    seconds = asyncio.run(build_postgres(url, args.posts, gen))
                except BaseException:  # interrupted or failed: leave no schema behind
                    asyncio.run(_drop_schema(args.pg, schema))
                    raise
            try:
                rows = asyncio.run(_time_queries(url, sets, args.runs, args.scan_runs))
                export = None
                if args.export:
                    part = (START + SPAN / 10).date().isoformat()
                    export = (export_run(url, part, tmp), export_run(url, None, tmp))
                ingest = asyncio.run(ingest_cost(url, args.ingest)) if args.ingest else None
                results.append((backend, rows, seconds, (export, ingest)))
            finally:
                if schema is not None:
                    asyncio.run(_drop_schema(args.pg, schema))
    _print(results, args)


async def _drop_schema(base: str, schema: str) -> None:
    from sqlalchemy import text

    from storage.engine import create_engine

    engine = create_engine(base)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        await engine.dispose()


def _print(results: list[tuple[str, list[dict[str, Any]], float, Any]], args: Any) -> None:
    load = os.getloadavg()[0]
    print(
        f"\n{args.posts:,} posts; {args.runs} index queries and {args.scan_runs} scans per kind; "
        f"load average {load:.2f} at the end; maxrss of this process "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB\n"
    )
    print(
        "| database | query | posts matching (median) | index p50 / p95 (ms) | LIKE scan p50 / p95 (ms) | scan / index (p95) |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    for backend, rows, _, _ in results:
        for r in rows:
            f50, f95 = statistics.median(r["fts"]), pct(r["fts"], 0.95)
            s50, s95 = statistics.median(r["scan"]), pct(r["scan"], 0.95)
            print(
                f"| {names[backend]} | {r['kind']} | {r['hits']:,.0f} | {f50:.1f} / {f95:.1f} | "
                f"{s50:,.0f} / {s95:,.0f} | {s95 / f95:,.0f}× |"
            )
    print()
    for backend, _, seconds, (export, ingest) in results:
        print(f"{names[backend]}: archive built (bulk SQL, index included) in {seconds:,.0f} s")
        if ingest:
            plain, indexed = ingest
            print(
                f"  upsert_posts of {args.ingest:,} posts in batches of 100: {plain:.1f} s without "
                f"the index, {indexed:.1f} s with it ({indexed / plain:.2f}×)"
            )
        if export:
            for rows, secs, rss in export:
                print(
                    f"  export csv: {rows:,} posts in {secs:,.1f} s ({rows / secs:,.0f}/s), peak RSS {rss:,.0f} MiB"
                )


if __name__ == "__main__":
    main()
