"""Workers benchmark (``python bench/scale.py --only workers``): 1, 2 and 4 `monitor run --worker`
processes, each with its own simulated account, against one loopback simulator and one
PostgreSQL database.

Every account has Telegram-like budget in the simulator: ``--budget`` messages.getHistory per
30 s, then FLOOD_WAIT. The simulator (in this process) posts to random channels at ``--rate``
posts per second. For each worker count, over a ``--seconds`` window from the workers' start:

- posts/s: posts stored per second (PostgreSQL), against posts/s created;
- poll lag p50/p95: how late each channel's history read comes after the previous one plus the
  poll interval (from the simulator's request log, per channel);
- flood waits per hour: FLOOD_WAIT answers to getHistory, per hour, all accounts together;
- channels covered: channels read at least once in the window.

- all read after: seconds from the workers' start until every channel was read once.

The workers keep each account within its budget (channels per account = 80% of budget x
interval / 30 s) and pace the first passes of the channels they take to it (at most 24 new
channels per 33 s at 30 getHistory per 30 s, each first pass of 3 posts costing one call, fewer
as the started channels' polls take their share), so fewer accounts cover fewer channels
in a window: throughput grows with accounts. New posts pushed to a joined account are stored
from the update, with no getHistory call. Poll lag needs a channel's second poll inside the
window; with 600 s polls and a shorter window it is "n/a".

The issue's setting (2,000 channels, 30 getHistory per 30 s, 4 accounts):

    python bench/scale.py --only workers --workers 1,2,4 --worker-channels 2000 \
        --worker-poll-every 120 --budget 30 --seconds 300   # and --worker-poll-every 600
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parents[1]


PROGRESS_EVERY = 600.0  # seconds between progress lines on stderr


def _progress(entries: list[Any], t0: float, now: float) -> None:
    """One line on stderr: channels read so far, and the last 10 minutes' getHistory calls
    per account and flood waits (a long run shows how coverage grows)."""
    wall = time.time()
    recent = wall - PROGRESS_EVERY
    read: set[int] = set()
    per_account: dict[str, int] = {}
    floods = 0
    for e in entries:
        if e.name != "GetHistoryRequest" or e.channel is None:
            continue
        if e.error is None:
            read.add(e.channel)
        at = e.at.timestamp()
        if at >= recent:
            per_account[e.account] = per_account.get(e.account, 0) + 1
            floods += bool(e.error and e.error.startswith("FLOOD_WAIT"))
    print(  # noqa: T201
        f"progress {now - t0:.0f} s: {len(read)} channels read; last {PROGRESS_EVERY:.0f} s: "
        f"getHistory {dict(sorted(per_account.items()))}, flood waits {floods}",
        file=sys.stderr,
        flush=True,
    )


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def watchlist(n: int, accounts: list[str], every: int, budget: int) -> str:
    lines = [f"defaults: {{poll_every: {every}s, backfill: 3, media: []}}", "channels:"]
    lines += [f'  - handle: "@bench_{i:05d}"' for i in range(n)]
    lines += ["accounts:"]
    lines += [f"  - {{name: {a}, history_per_30s: {budget}}}" for a in accounts]
    lines += ["entities:", "  - {id: cui-wei, name: Cui Wei, kind: person}"]
    return "\n".join(lines) + "\n"


async def one_run(
    base_url: str, workers: int, n: int, every: int, budget: int, seconds: float, rate: float
) -> dict[str, Any]:
    from monitor.simulator import Backend, SimulatorServer
    from storage.engine import create_engine, upgrade
    from storage.models import post

    schema = f"bench_workers_{os.getpid()}_{workers}"
    admin = create_engine(base_url)
    async with admin.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    await admin.dispose()
    url = f"{base_url}?schema={schema}"
    engine = create_engine(url)
    await upgrade(engine)

    backend = Backend(seed=7)
    accounts = [f"acct_{i}" for i in range(1, workers + 1)]
    for account in accounts:
        backend.add_account(account)
    backend.faults.rate_limit("GetHistoryRequest", budget, 30.0)
    ids = []
    for i in range(n):
        channel = backend.add_channel(f"bench_{i:05d}", f"Bench {i}")
        backend.post(channel.id, f"routine bulletin of channel {i}")
        ids.append(channel.id)
    procs = []
    with tempfile.TemporaryDirectory() as tmp:
        channels_file = Path(tmp) / "channels.yaml"
        channels_file.write_text(watchlist(n, accounts, every, budget))
        async with SimulatorServer(backend) as server:
            env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
            env |= {
                "PYTHONPATH": str(ROOT),
                "MONITOR_DATA_DIR": str(Path(tmp) / "data"),
                "MONITOR_CHANNELS_FILE": str(channels_file),
                "MONITOR_DATABASE_URL": url,
                "MONITOR_TELEGRAM_SERVER": server.address,
                "MONITOR_LOG_LEVEL": "WARNING",
                "MONITOR_WORKER_LEASE": "15",
            }
            for w in range(workers):
                procs.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-c",
                        "from monitor.cli import main; main()",
                        "run",
                        "--worker",
                        f"bench-w{w + 1}",
                        env=env,
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=asyncio.subprocess.DEVNULL,
                    )
                )
            rng = random.Random(3)
            created = 0
            t0 = time.monotonic()
            mark = len(backend.requests.entries)
            async with engine.connect() as conn:
                stored0 = (await conn.execute(select(func.count()).select_from(post))).scalar()
            report_at = t0 + PROGRESS_EVERY
            while time.monotonic() - t0 < seconds:
                backend.post(rng.choice(ids), "Ambassador Cui Wei visited the port today")
                created += 1
                await asyncio.sleep(1 / rate)
                if time.monotonic() >= report_at:
                    _progress(backend.requests.entries[mark:], t0, report_at)
                    report_at += PROGRESS_EVERY
            t1 = time.monotonic()
            async with engine.connect() as conn:
                stored1 = (await conn.execute(select(func.count()).select_from(post))).scalar()
            entries = backend.requests.entries[mark:]
            t0_wall = time.time() - (time.monotonic() - t0)
            for proc in procs:
                proc.terminate()
            await asyncio.gather(*(proc.wait() for proc in procs))
    await engine.dispose()
    reads: dict[int, list[float]] = {}
    floods = 0
    for entry in entries:
        if entry.name != "GetHistoryRequest" or entry.channel is None:
            continue
        if entry.error and entry.error.startswith("FLOOD_WAIT"):
            floods += 1
            continue
        if entry.error is None:
            reads.setdefault(entry.channel, []).append(entry.at.timestamp())
    firsts = sorted(min(times) for times in reads.values())
    lags = []
    for times in reads.values():
        times.sort()
        # Reads a few seconds apart are one pass (backfill floor, then the batch, then a new
        # channel's catch-up re-check).
        passes = [t for i, t in enumerate(times) if i == 0 or t - times[i - 1] > 5.0]
        lags += [max(0.0, b - a - every) for a, b in zip(passes, passes[1:], strict=False)]
    window = t1 - t0
    return {
        "workers": workers,
        "created_per_s": created / window,
        "stored_per_s": (stored1 - stored0) / window,
        "lag_p50": pct(lags, 0.5),
        "lag_p95": pct(lags, 0.95),
        "floods_per_hour": floods * 3600 / window,
        "covered": len(reads),
        # Seconds from the workers' start until every channel had been read once.
        "all_read_after": firsts[-1] - t0_wall if len(reads) == n else None,
    }


async def run_workers_bench(
    base_url: str,
    *,
    counts: list[int],
    channels: int,
    every: int,
    budget: int,
    seconds: float,
    rate: float,
) -> str:
    rows = []
    for workers in counts:
        result = await one_run(base_url, workers, channels, every, budget, seconds, rate)
        print(result, file=sys.stderr, flush=True)  # noqa: T201
        rows.append(result)
    base = rows[0]["stored_per_s"] or float("nan")
    out = [
        f"{channels} channels, poll every {every} s, {budget} getHistory per 30 s per account, "
        f"{rate:g} new posts/s, {seconds:.0f} s window from the workers' start",
        "",
        "| workers (accounts) | posts/s stored | vs 1 worker | channels read | "
        "all read after | poll lag p50 | poll lag p95 | flood waits/hour |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['workers']} | {r['stored_per_s']:.2f} (of {r['created_per_s']:.2f}) | "
            f"{r['stored_per_s'] / base:.2f}× | {r['covered']} of {channels} | "
            f"{'n/a' if r['all_read_after'] is None else _seconds(r['all_read_after'])} | "
            f"{_seconds(r['lag_p50'])} | {_seconds(r['lag_p95'])} | {r['floods_per_hour']:.0f} |"
        )
    return "\n".join(out)


def _seconds(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.1f} s"
