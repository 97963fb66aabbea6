"""Near-duplicate photo queries: ``python bench/photos.py [--quick] [--postgres URL]``.

Fills ``photo_hash`` (and the ``media`` rows it references) with N random 64-bit hashes plus
clusters of near copies around pHash-like bases (32 bits set, as the median split gives), then asks "every hash
within 6 bits of this one" through the banded index (``storage.photo_hashes.find_near``) and
by a linear scan (``scan_near``, every row read and compared in Python; on PostgreSQL also a
server-side scan with ``bit_count``), side by side in one run. Prints p50/p95 in milliseconds and
the scan/index ratio at p95, and checks that both return the same rows.

N is 100k and 1M (``--quick``: 10k and 100k). SQLite always; PostgreSQL when ``--postgres`` or
MONITOR_BENCH_DATABASE_URL names a server (a private schema is created and dropped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from storage.engine import create_engine, upgrade  # noqa: E402
from storage.photo_hashes import find_near, scan_near, split_bands  # noqa: E402

DISTANCE = 6
QUERIES = 200  # through the index
SCANS = {10_000: 50, 100_000: 20, 1_000_000: 8}  # linear scans are slow: fewer of them
CLUSTERS = 500  # hashes with 1-8 near copies each (some beyond the distance)
AT = datetime(2026, 1, 1, tzinfo=UTC)


def _balanced(rng: random.Random) -> int:
    value = 0
    for bit in rng.sample(range(64), 32):
        value |= 1 << bit
    return value


def _flip(rng: random.Random, value: int, n: int) -> int:
    for bit in rng.sample(range(64), n):
        value ^= 1 << bit
    return value


def make_hashes(n: int, seed: int = 14) -> tuple[list[int], list[int]]:
    """``n`` hashes (random, plus clusters of near copies) and the query hashes."""
    rng = random.Random(seed)
    bases = [_balanced(rng) for _ in range(CLUSTERS)]
    values = list(bases)
    for base in bases:
        values += [_flip(rng, base, rng.randint(1, 9)) for _ in range(rng.randint(1, 8))]
    values += [rng.getrandbits(64) for _ in range(n - len(values))]
    queries = [_flip(rng, rng.choice(bases), rng.randint(0, 3)) for _ in range(QUERIES)]
    return values[:n], queries


def _rows(values: list[int]) -> list[tuple]:
    out = []
    for i, value in enumerate(values):
        sha = f"{i:064x}"
        signed = value - (1 << 64) if value >> 63 else value
        out.append((sha, signed, *split_bands(value)))
    return out


BANDS = ("band0", "band1", "band2", "band3")


def fill_sqlite(path: Path, values: list[int]) -> None:
    """Bulk insert with the band indexes dropped, then rebuilt (as a restore would)."""
    rows = _rows(values)
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA synchronous=OFF")
        for band in BANDS:
            db.execute(f"DROP INDEX ix_photo_hash_{band}_phash")
        stamp = AT.isoformat()
        db.executemany(
            "INSERT INTO media (sha256, size, path, first_seen_at) VALUES (?, 1, ?, ?)",
            ((r[0], f"{r[0][:2]}/{r[0][2:4]}/{r[0]}.jpg", stamp) for r in rows),
        )
        db.executemany(
            "INSERT INTO photo_hash (sha256, phash, band0, band1, band2, band3, hashed_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((*r, stamp) for r in rows),
        )
        for band in BANDS:
            db.execute(f"CREATE INDEX ix_photo_hash_{band}_phash ON photo_hash ({band}, phash)")
        db.commit()
        db.execute("ANALYZE")
    finally:
        db.close()


async def fill_postgres(engine: AsyncEngine, values: list[int]) -> None:
    rows = _rows(values)
    async with engine.begin() as conn:
        for band in BANDS:
            await conn.execute(text(f"DROP INDEX ix_photo_hash_{band}_phash"))
        raw = (await conn.get_raw_connection()).driver_connection
        await raw.copy_records_to_table(
            "media",
            records=[(r[0], 1, f"{r[0][:2]}/{r[0][2:4]}/{r[0]}.jpg", AT) for r in rows],
            columns=["sha256", "size", "path", "first_seen_at"],
        )
        await raw.copy_records_to_table(
            "photo_hash",
            records=[(*r, AT) for r in rows],
            columns=["sha256", "phash", "band0", "band1", "band2", "band3", "hashed_at"],
        )
        for band in BANDS:
            await conn.execute(
                text(f"CREATE INDEX ix_photo_hash_{band}_phash ON photo_hash ({band}, phash)")
            )
    async with engine.begin() as conn:
        await conn.execute(text("ANALYZE media"))
        await conn.execute(text("ANALYZE photo_hash"))


async def _sql_scan(conn, value: int) -> list[str]:  # noqa: ANN001
    signed = value - (1 << 64) if value >> 63 else value
    rows = await conn.execute(
        text(
            "SELECT sha256 FROM photo_hash "
            "WHERE bit_count(CAST(phash # :q AS bit(64))) <= :d ORDER BY sha256"
        ),
        {"q": signed, "d": DISTANCE},
    )
    return list(rows.scalars())


async def _timed(times: list[float], work: Callable, *args, **kwargs) -> object:  # noqa: ANN001
    start = time.perf_counter()
    result = await work(*args, **kwargs)
    times.append((time.perf_counter() - start) * 1000)
    return result


def _p(times: list[float], q: float) -> float:
    if len(times) == 1:
        return times[0]
    return statistics.quantiles(times, n=100, method="inclusive")[int(q) - 1]


async def measure(engine: AsyncEngine, n: int, queries: list[int], backend: str) -> None:
    index_ms: list[float] = []
    scan_ms: list[float] = []
    sql_ms: list[float] = []
    trip_ms: list[float] = []
    found = 0
    async with engine.connect() as conn:
        for query in queries[:5]:  # warm the caches
            await find_near(query, conn=conn, distance=DISTANCE)
        for _ in range(50):  # what any statement costs on this machine now (load, loopback)
            await _timed(trip_ms, conn.execute, text("SELECT 1"))
        indexed = {}
        for query in queries:
            near = await _timed(index_ms, find_near, query, conn=conn, distance=DISTANCE)
            indexed[query] = near
            found += len(near)  # type: ignore[arg-type]
        for query in queries[: SCANS.get(n, 8)]:
            scanned = await _timed(scan_ms, scan_near, query, conn=conn, distance=DISTANCE)
            if scanned != indexed[query]:
                raise SystemExit(f"index and scan differ for {query:016x} at n={n}")
            if backend == "postgresql":
                shas = await _timed(sql_ms, _sql_scan, conn, query)
                if shas != sorted(p.sha256 for p in indexed[query]):  # type: ignore[attr-defined]
                    raise SystemExit(f"index and SQL scan differ for {query:016x} at n={n}")
    index_p95, scan_p95 = _p(index_ms, 95), _p(scan_ms, 95)
    print(
        f"{backend:>10} n={n:>9,}  index p50 {_p(index_ms, 50):7.2f} ms  p95 {index_p95:7.2f} ms"
        f"  | scan (Python) p50 {_p(scan_ms, 50):8.1f} ms  p95 {scan_p95:8.1f} ms"
        f"  | ratio scan/index at p95 {scan_p95 / index_p95:,.0f}x"
        f"  | {found / len(queries):.1f} found/query  | SELECT 1 p50 {_p(trip_ms, 50):.2f} ms"
    )
    if sql_ms:
        sql_p95 = _p(sql_ms, 95)
        print(
            f"{'':>10} {'':>11}  scan in SQL (bit_count) p50 {_p(sql_ms, 50):8.1f} ms"
            f"  p95 {sql_p95:8.1f} ms  | ratio {sql_p95 / index_p95:,.0f}x"
        )


async def run_sqlite(sizes: list[int]) -> None:
    for n in sizes:
        values, queries = make_hashes(n)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "bench.db"
            engine = create_engine(f"sqlite+aiosqlite:///{path}")
            await upgrade(engine)
            await engine.dispose()
            start = time.perf_counter()
            fill_sqlite(path, values)
            filled = time.perf_counter() - start
            print(f"{'sqlite':>10} n={n:>9,}  filled in {filled:.1f} s")
            engine = create_engine(f"sqlite+aiosqlite:///{path}")
            try:
                await measure(engine, n, queries, "sqlite")
            finally:
                await engine.dispose()


async def run_postgres(url: str, sizes: list[int]) -> None:
    for n in sizes:
        values, queries = make_hashes(n)
        schema = f"bench_{uuid.uuid4().hex[:12]}"
        admin = create_engine(url, poolclass=NullPool)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        target = make_url(url).update_query_dict({"schema": schema})
        engine = create_engine(target.render_as_string(hide_password=False))
        try:
            await upgrade(engine)
            start = time.perf_counter()
            await fill_postgres(engine, values)
            print(f"{'postgresql':>10} n={n:>9,}  filled in {time.perf_counter() - start:.1f} s")
            await measure(engine, n, queries, "postgresql")
        finally:
            await engine.dispose()
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


def hash_distances(seeds: int = 20) -> None:
    """How far copies of scenario photos hash from the original, and unrelated photos from
    each other (bits of 64): max and mean over ``seeds`` photos."""
    from itertools import combinations

    from monitor.photos.phash import hamming, phash
    from monitor.simulator.photos import generate_jpeg
    from tests.photos import photo_variants as v

    copies: dict[str, Callable[[bytes], bytes]] = {
        "re-encoded q55": v.reencoded,
        "resized 640 px": v.resized,
        "cropped 3 % (both sides)": lambda d: v.cropped(d, 3),
        "cropped 5 % (both sides)": lambda d: v.cropped(d, 5),
        "cropped 3 % (one corner)": lambda d: v.cropped(d, 3, where="corner"),
        "cropped 5 % (one corner)": lambda d: v.cropped(d, 5, where="corner"),
        "re-encoded+cropped 4 %+resized": lambda d: v.resized(v.cropped(v.reencoded(d), 4)),
    }
    found: dict[str, list[int]] = {name: [] for name in copies}
    hashes = []
    for seed in range(seeds):
        data = generate_jpeg(seed, label=f"Meeting {seed}")
        base = phash(data)
        hashes.append(base)
        for name, make in copies.items():
            found[name].append(hamming(base, phash(make(data))))
    print(f"pHash distance over {seeds} scenario photos (near = at most {DISTANCE} bits)")
    for name, bits in found.items():
        near = sum(b <= DISTANCE for b in bits)
        print(
            f"  {name:<32} max {max(bits):2d}  mean {statistics.mean(bits):4.1f}"
            f"  within {DISTANCE}: {near}/{len(bits)}"
        )
    apart = [hamming(a, b) for a, b in combinations(hashes, 2)]
    print(f"  {'unrelated pairs':<32} min {min(apart):2d}  mean {statistics.mean(apart):4.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k and 100k hashes")
    parser.add_argument("--postgres", default=os.environ.get("MONITOR_BENCH_DATABASE_URL"))
    parser.add_argument("--no-ocr", action="store_true", help="skip the OCR section")
    parser.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    args = parser.parse_args()
    sizes = [10_000, 100_000] if args.quick else [100_000, 1_000_000]
    hash_distances()
    print(f"near-duplicate query, distance {DISTANCE}, {QUERIES} queries through the index")
    if not args.no_sqlite:
        asyncio.run(run_sqlite(sizes))
    if args.postgres:
        asyncio.run(run_postgres(args.postgres, sizes))

    if not args.no_ocr:
        import photos_ocr  # bench/photos_ocr.py, beside this file

        print()
        photos_ocr.main([])


if __name__ == "__main__":
    main()
