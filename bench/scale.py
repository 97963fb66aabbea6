"""Scale benchmark: many channels on one core, alert latency under load, archive-size costs.

Measurements, not timed tests; prints Markdown tables for the README.

    python bench/scale.py                       # everything, defaults (~6-8 minutes)
    python bench/scale.py --only daemon --channels 200,1000,2000 --seconds 120
    python bench/scale.py --only firstpass --posts 300000
    python bench/scale.py --only flags --archive-posts 3000000
    python bench/scale.py --only workers --worker-channels 200 --worker-poll-every 60 --budget 60
    python bench/scale.py --code /tmp/old-checkout --only daemon   # the same bench, older code

daemon:    ``run_daemon`` in this process, pinned to one core, every channel polled every 10 s,
           against a simulated Telegram in a child process on loopback TCP (pinned to the other
           core, so its CPU is not ours). The child also posts a flagged message every
           ``--post-every`` seconds to a random (joined, so pushed) channel and receives the
           alerts on a loopback webhook (Apprise ``json://``): latency is post creation to
           receipt. Figures come from a window after every channel's first pass.
sender:    the daemon's alert latency (as above, ``--sender-channels`` channels) with alerts sent by
           the daemon itself, then with the daemon queueing only (``MONITOR_SEND_ALERTS=false``)
           and a ``monitor alerts send`` process delivering (sharing the daemon's core), on
           SQLite (the sender polls every second) and PostgreSQL (woken by NOTIFY), side by side.
           On PostgreSQL the daemon is a worker whose first passes are paced to its account's
           budget (8 channels per 33 s): keep ``--sender-channels`` small (20).
firstpass: ``storage.upsert_posts`` in batches of 100 (each looked up before it is stored, and
           indexed for search as a pass does) into an empty archive, seconds per 10,000 posts
           for each tenth of ``--posts``, and of them the time in the statements looking the
           batch's posts up.
flags:     `flags list` queries (storage.review.flag_views_query) on a generated archive of
           ``--archive-posts`` posts (one flag per 10), with and without migration 0002's indexes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import re
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
MENTION = "Ambassador Cui Wei met the governor of Basra today"
POLL_EVERY = 10


def _code_path(argv: list[str]) -> Path:
    """``--code DIR`` runs the bench against another checkout (e.g. the code before a change)."""
    if "--code" in argv:
        return Path(argv[argv.index("--code") + 1]).resolve()
    return ROOT


sys.path.insert(0, str(_code_path(sys.argv)))


def pin(core: int) -> None:
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {core % (os.cpu_count() or 1)})


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# -- the simulated Telegram child process ----------------------------------------------------


async def serve_sim(n_channels: int, post_every: float) -> None:
    """Child: serve ``n_channels`` joined channels; on GO post flagged messages; receive alerts.

    Protocol on stdin/stdout: prints ``READY <sim address> <webhook port>``; ``GO`` starts
    posting; ``STOP`` prints one JSON line of latencies and exits.
    """
    from monitor.simulator import Backend, SimulatorServer

    backend = Backend(seed=5)
    ids = []
    for i in range(n_channels):
        channel = backend.add_channel(f"bench_{i:05d}", f"Bench {i}")
        for j in range(3):
            backend.post(channel.id, f"routine bulletin {j} of channel {i}")
        backend.join("default", channel.id)
        ids.append(channel.id)
    created: dict[int, float] = {}
    received: dict[int, float] = {}

    async def on_hook(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(Exception):
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head)[1])  # type: ignore[index]
            body = await reader.readexactly(length)
            now = time.time()
            for token in re.findall(rb"bench-(\d+)-ref", body):
                received.setdefault(int(token), now)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
        writer.close()

    hook = await asyncio.start_server(on_hook, "127.0.0.1", 0)
    hook_port = hook.sockets[0].getsockname()[1]
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    async with SimulatorServer(backend) as server:
        print(f"READY {server.address} {hook_port}", flush=True)  # noqa: T201
        poster: asyncio.Task[None] | None = None

        async def post_forever() -> None:
            rng = random.Random(3)
            n = 0
            while True:
                n += 1
                created[n] = time.time()
                backend.post(rng.choice(ids), f"{MENTION} (bench-{n}-ref)")
                await asyncio.sleep(post_every)

        while line := (await stdin.readline()).decode().strip():
            if line == "GO" and poster is None:
                poster = asyncio.ensure_future(post_forever())
            elif line == "STOP":
                break
        if poster is not None:
            poster.cancel()
        await asyncio.sleep(0)
    hook.close()
    latencies = [received[n] - created[n] for n in created if n in received]
    missing = len(created) - len(latencies)
    print(json.dumps({"latencies": latencies, "missing": missing}), flush=True)  # noqa: T201


# -- the daemon under load ---------------------------------------------------------------------


CHANNELS_YAML = """\
defaults: {{poll_every: {every}s, backfill: 5, media: []}}
channels:
{channels}
entities:
  - id: cui-wei
    name: Cui Wei
    kind: person
    aliases: ["Cui Wei"]
alerts:
  routes:
    - name: bench
      url: "json://127.0.0.1:{port}/hook"
      entities: all
"""


async def daemon_run(
    n: int,
    seconds: float,
    warmup: float,
    post_every: float,
    db_url: str | None,
    *,
    sender: bool = False,
) -> dict[str, Any]:
    """``sender``: the daemon only queues alerts; a ``monitor alerts send`` process sends."""
    from monitor.service import run_daemon
    from monitor.settings import Settings

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve-sim",
        str(n),
        "--post-every",
        str(post_every),
        *(["--code", str(_code_path(sys.argv))] if "--code" in sys.argv else []),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        preexec_fn=lambda: pin(1),
    )
    assert child.stdout is not None and child.stdin is not None
    ready = (await child.stdout.readline()).decode().split()
    assert ready and ready[0] == "READY", ready
    address, hook_port = ready[1], int(ready[2])
    starts: dict[str, list[float]] = {}
    skipped_events = [0]
    box: dict[str, Any] = {}

    def on_ready(runtime: Any, scheduler: Any) -> None:
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES

        box["scheduler"] = scheduler
        original = runtime.pipeline.collect

        async def collect(client: Any, spec: Any, **kwargs: Any) -> Any:
            starts.setdefault(spec.key, []).append(time.monotonic())
            return await original(client, spec, **kwargs)

        runtime.pipeline.collect = collect
        scheduler.scheduler.add_listener(
            lambda _e: skipped_events.__setitem__(0, skipped_events[0] + 1),
            EVENT_JOB_MAX_INSTANCES,
        )

    with tempfile.TemporaryDirectory() as tmp:
        channels = "\n".join(f'  - handle: "@bench_{i:05d}"' for i in range(n))
        channels_file = Path(tmp) / "channels.yaml"
        channels_file.write_text(
            CHANNELS_YAML.format(every=POLL_EVERY, channels=channels, port=hook_port)
        )
        settings = Settings(
            data_dir=Path(tmp) / "data",
            channels_file=channels_file,
            telegram_server=address,
            database_url=db_url or "",
            **({"send_alerts": False} if sender else {}),
        )
        stop = asyncio.Event()
        daemon = asyncio.ensure_future(
            run_daemon(settings, stop=stop, migrate=True, on_ready=on_ready)
        )
        started = time.monotonic()
        # Warm-up: every channel's first pass, then ``warmup`` seconds of steady polling.
        while len(starts) < n and time.monotonic() - started < 300 and not daemon.done():  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        first_passes = time.monotonic() - started
        sending = None
        if sender:  # the schema exists now (the daemon migrated it)
            sending = await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                "from monitor.cli import main; main()",
                "alerts",
                "send",
                cwd=_code_path(sys.argv),
                env={
                    **os.environ,
                    "MONITOR_DATA_DIR": str(settings.data_dir),
                    "MONITOR_CHANNELS_FILE": str(channels_file),
                    "MONITOR_DATABASE_URL": settings.database_url,
                    "MONITOR_LOG_LEVEL": "WARNING",
                },
                stdout=asyncio.subprocess.DEVNULL,
            )
        await asyncio.sleep(warmup)
        child.stdin.write(b"GO\n")
        scheduler = box["scheduler"]
        skipped0 = scheduler.totals.get("skipped", 0) + skipped_events[0]
        cpu0, t0 = time.process_time(), time.monotonic()
        await asyncio.sleep(seconds)
        cpu1, t1 = time.process_time(), time.monotonic()
        skipped = scheduler.totals.get("skipped", 0) + skipped_events[0] - skipped0
        child.stdin.write(b"STOP\n")
        await asyncio.sleep(0)
        result = json.loads((await child.stdout.readline()).decode())
        await child.wait()
        stop.set()
        await daemon
        if sending is not None:
            sending.terminate()
            await sending.wait()
    window = [[s for s in times if t0 <= s < t1] for times in starts.values()]
    polls = sum(len(w) for w in window)
    gaps = [b - a for w in window for a, b in zip(w, w[1:], strict=False)]
    lat = result["latencies"]
    return {
        "channels": n,
        "first_passes_s": first_passes,
        "polls_per_s": polls / (t1 - t0),
        "needed_per_s": n / POLL_EVERY,
        "gap_p50": pct(gaps, 0.5),
        "gap_p95": pct(gaps, 0.95),
        "gap_max": max(gaps, default=float("nan")),
        "cpu_ms_per_poll": (cpu1 - cpu0) * 1000 / max(polls, 1),
        "cpu_share": (cpu1 - cpu0) / (t1 - t0),
        "skipped": skipped,
        "alerts": len(lat),
        "missing": result["missing"],
        "lat_p50": pct(lat, 0.5),
        "lat_p95": pct(lat, 0.95),
        "lat_max": max(lat, default=float("nan")),
    }


async def idle_poll_cpu(n: int, rounds: int) -> float:
    """CPU ms of one idle poll: ``Pipeline.collect`` over ``n`` channels already collected,
    against the simulator in a child process (its CPU not counted)."""
    from monitor.config import ChannelSpec
    from monitor.pipeline import Pipeline
    from monitor.simulator import tcp_client
    from storage import create_engine, upgrade
    from storage.media import MediaStore

    child = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve-sim",
        str(n),
        *(["--code", str(_code_path(sys.argv))] if "--code" in sys.argv else []),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        preexec_fn=lambda: pin(1),
    )
    assert child.stdout is not None and child.stdin is not None
    address = (await child.stdout.readline()).decode().split()[1]
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp}/monitor.db")
        await upgrade(engine)
        pipeline = Pipeline(engine=engine, media_store=MediaStore(Path(tmp) / "media"))
        client = tcp_client(address, flood_sleep_threshold=0)
        await client.connect()
        specs = [
            ChannelSpec(
                handle=f"@bench_{i:05d}", poll_every=timedelta(seconds=10), backfill=5, media=()
            )
            for i in range(n)
        ]
        for spec in specs * 2:
            await pipeline.collect(client, spec)
        cpu0 = time.process_time()
        for _ in range(rounds):
            for spec in specs:
                await pipeline.collect(client, spec)
        cpu = time.process_time() - cpu0
        if hasattr(pipeline, "flush"):
            await pipeline.flush()
        await client.disconnect()
        await engine.dispose()
    child.stdin.write(b"STOP\n")
    await child.stdout.readline()
    await child.wait()
    return cpu * 1000 / (n * rounds)


# -- first pass per decile ---------------------------------------------------------------------


async def firstpass(url: str, posts: int) -> tuple[list[float], list[float]]:
    """Seconds per 10,000 posts for each tenth of a ``posts``-post first pass, and of those the
    seconds spent in the statements that look a batch's posts up (``SELECT post.id, ...``)."""
    from sqlalchemy import event

    from monitor.search.text import index_text
    from storage import create_engine, upgrade, upsert_channel, upsert_posts
    from storage.records import ChannelRecord, PostRecord

    engine = create_engine(url)
    lookup = [0.0]

    def before(conn: Any, *_: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().startswith("SELECT post.id"):
            lookup[0] += time.perf_counter() - conn.info["bench_started"]

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    await upgrade(engine)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    async with engine.begin() as conn:
        await upsert_channel(
            ChannelRecord(channel_id=777, username="bench_firstpass", title="Bench"),
            conn=conn,
            seen_at=start,
        )
    texts = [
        "استقبل الأمين العام وفدا عشائريا وبحث معه الأوضاع الخدمية في المحافظة",
        "Iraqi officials met a delegation in Baghdad to discuss reconstruction projects",
        "دیدار هیئت عراقی با مقامات در تهران درباره همکاری اقتصادی",
    ]
    decile = max(posts // 10, 100)
    per_decile: list[float] = []
    lookups: list[float] = []
    elapsed = 0.0
    for first in range(1, posts + 1, 100):
        records = [
            PostRecord(
                channel_id=777,
                message_id=m,
                posted_at=start + timedelta(minutes=m),
                text=f"{texts[m % 3]} #{m}",
                views=100 + m,
            )
            for m in range(first, min(first + 100, posts + 1))
        ]
        began = time.perf_counter()
        async with engine.begin() as conn:
            await upsert_posts(
                records,
                conn=conn,
                captured_at=start + timedelta(days=400),
                index_text=index_text,  # the search index, as a pass fills it
            )
        elapsed += time.perf_counter() - began
        if records[-1].message_id % decile == 0:
            per_decile.append(elapsed * 10_000 / decile)
            lookups.append(lookup[0] * 10_000 / decile)
            elapsed = lookup[0] = 0.0
    await engine.dispose()
    return per_decile, lookups


# -- flags list on a large archive -------------------------------------------------------------

PG_ARCHIVE = """
INSERT INTO channel (id, username, title, first_seen_at, updated_at)
SELECT c, 'chan' || c, 'Channel ' || c, now(), now() FROM generate_series(1, 50) c;
INSERT INTO entity (id, name, kind, tags, aliases, updated_at)
SELECT 'e' || e, 'Entity ' || e, 'person', '[]', '[]', now() FROM generate_series(1, 200) e;
INSERT INTO post (id, channel_id, message_id, posted_at, first_captured_at, last_checked_at,
                  text, content_hash)
SELECT i, 1 + (i / 10) % 50, i, TIMESTAMPTZ '2020-01-01' + i * INTERVAL '2 minutes', now(), now(),
       'post number ' || i || ' of the generated archive', md5(i::text)
FROM generate_series(1, {posts}) i;
INSERT INTO flag (post_id, channel_id, entity_id, aliases, spans, snippet, status, created_at,
                  updated_at)
SELECT i, 1 + (i / 10) % 50, 'e' || (1 + (i / 10) % 200), '[]', '[]', 'a snippet', 'new',
       TIMESTAMPTZ '2020-01-01' + i * INTERVAL '2 minutes', now()
FROM generate_series(10, {posts}, 10) i;
ANALYZE
"""

SQLITE_ARCHIVE = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
INSERT INTO channel (id, username, title, first_seen_at, updated_at)
SELECT i, 'chan' || i, 'Channel ' || i, '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000'
FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
INSERT INTO entity (id, name, kind, tags, aliases, updated_at)
SELECT 'e' || i, 'Entity ' || i, 'person', '[]', '[]', '2024-01-01 00:00:00.000000' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {posts})
INSERT INTO post (id, channel_id, message_id, posted_at, first_captured_at, last_checked_at,
                  text, content_hash)
SELECT i, 1 + (i / 10) % 50, i, strftime('%Y-%m-%d %H:%M:%S.000000', 1577836800 + i * 120, 'unixepoch'),
       '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000',
       'post number ' || i || ' of the generated archive', hex(i)
FROM n;
INSERT INTO flag (post_id, channel_id, entity_id, aliases, spans, snippet, status, created_at,
                  updated_at)
SELECT id, channel_id, 'e' || (1 + (id / 10) % 200), '[]', '[]', 'a snippet', 'new', posted_at,
       posted_at
FROM post WHERE id % 10 = 0;
ANALYZE
"""

NEW_INDEXES = {
    "ix_flag_created_at_id": "flag (created_at, id)",
    "ix_flag_entity_id_created_at_id": "flag (entity_id, created_at, id)",
    "ix_flag_channel_id_created_at_id": "flag (channel_id, created_at, id)",
    "ix_alert_outbox_post_id": "alert_outbox (post_id)",
}


async def flags_list(url: str, posts: int) -> dict[str, tuple[float, float]]:
    """Best-of-5 ms of each `flags list` query without and with the 0002 indexes."""
    from sqlalchemy import text

    from storage import create_engine, upgrade
    from storage.review import flag_views_query

    engine = create_engine(url)
    await upgrade(engine)
    pg = engine.dialect.name == "postgresql"
    script = (PG_ARCHIVE if pg else SQLITE_ARCHIVE).format(posts=posts)
    async with engine.begin() as conn:
        for statement in script.split(";\n"):
            if statement.strip():
                await conn.execute(text(statement))
    last = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(minutes=2 * posts)
    queries = {
        "default (newest 100)": {},
        "--entity e7": {"entity_id": "e7"},
        "--channel 3": {"channel": 3},
        "--since 1 day": {"since": last - timedelta(days=1)},
        "--entity e7 --since 30 days": {"entity_id": "e7", "since": last - timedelta(days=30)},
        "--status new": {"status": "new"},
    }

    async def timed(filters: dict[str, Any]) -> float:
        best = float("inf")
        async with engine.connect() as conn:
            for _ in range(5):
                began = time.perf_counter()
                rows = (await conn.execute(flag_views_query(**filters))).all()
                best = min(best, time.perf_counter() - began)
        assert rows
        return best * 1000

    results: dict[str, list[float]] = {name: [] for name in queries}
    for with_indexes in (False, True):
        async with engine.begin() as conn:
            for name, target in NEW_INDEXES.items():
                await conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
                if with_indexes:
                    await conn.execute(text(f"CREATE INDEX {name} ON {target}"))
            await conn.execute(text("ANALYZE"))
        for name, filters in queries.items():
            results[name].append(await timed(filters))
    await engine.dispose()
    return {name: (a, b) for name, (a, b) in results.items()}


# -- main ----------------------------------------------------------------------------------------


async def pg_url(base: str) -> str | None:
    """A fresh schema on ``base`` (None when PostgreSQL is unreachable)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage import create_engine

    engine = create_engine(base)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - report and skip the PostgreSQL leg
        print(f"(PostgreSQL unreachable: {type(exc).__name__}; skipped)", file=sys.stderr)  # noqa: T201
        return None
    finally:
        await engine.dispose()
    return make_url(base).update_query_dict({"schema": schema}).render_as_string(False)


async def drop_schema(url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from storage import create_engine

    parsed = make_url(url)
    schema = parsed.query["schema"]
    engine = create_engine(parsed.difference_update_query(["schema"]).render_as_string(False))
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    await engine.dispose()


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    only = set(args.only.split(",")) if args.only else {"daemon", "idle", "firstpass", "flags"}
    label = "" if args.code is None else f" (code: {args.code})"
    if (
        "workers" in only
    ):  # not pinned: the worker processes share the machine's cores  # bench/scale_workers.py: 1, 2, 4 worker processes on PostgreSQL
        from bench.scale_workers import run_workers_bench

        print(  # noqa: T201
            "\n"
            + await run_workers_bench(
                args.postgres,
                counts=[int(x) for x in args.workers.split(",")],
                channels=args.worker_channels,
                every=args.worker_poll_every,
                budget=args.budget,
                seconds=args.seconds,
                rate=args.rate,
            )
        )
    pin(0)
    if "idle" in only:
        cpu = await idle_poll_cpu(args.idle_channels, args.idle_rounds)
        print(f"\nCPU per idle poll{label}: {cpu:.2f} ms ", end="")  # noqa: T201
        print(f"(Pipeline.collect, {args.idle_channels} channels x {args.idle_rounds}, SQLite)")  # noqa: T201
    if "daemon" in only:
        rows = []
        for n in [int(x) for x in args.channels.split(",")]:
            seconds = args.latency_seconds if n <= 50 else args.seconds
            r = await daemon_run(n, seconds, args.warmup, args.post_every, args.database)
            rows.append(
                [
                    f"{n:,}",
                    f"{r['polls_per_s']:.1f} / {r['needed_per_s']:.0f}",
                    f"{r['gap_p50']:.1f} / {r['gap_p95']:.1f} / {r['gap_max']:.1f}",
                    f"{r['cpu_ms_per_poll']:.2f}",
                    f"{r['cpu_share'] * 100:.0f}%",
                    f"{r['skipped']:,}",
                    f"{r['alerts']} ({r['missing']} late)",
                    f"{r['lat_p50']:.2f} / {r['lat_p95']:.2f} / {r['lat_max']:.2f}",
                ]
            )
            print(f"  {n} channels: {json.dumps(r)}", file=sys.stderr)  # noqa: T201
        print(  # noqa: T201
            f"\nDaemon, every channel polled every {POLL_EVERY} s, one core{label}, "
            f"{args.seconds:.0f} s window ({args.latency_seconds:.0f} s at <= 50 channels), "
            f"a flagged post every {args.post_every} s:\n"
        )
        print(  # noqa: T201
            table(
                [
                    "channels",
                    "polls/s done / needed",
                    "gap p50 / p95 / max (s)",
                    "CPU ms per poll",
                    "CPU used",
                    "skipped runs",
                    "alerts",
                    "alert latency p50 / p95 / max (s)",
                ],
                rows,
            )
        )
    pg = args.postgres if args.postgres != "none" else None
    if "sender" in only:
        await sender_bench(args, pg, label)
    if "firstpass" in only:
        rows = []
        targets = [("SQLite", None), ("PostgreSQL", pg)] if pg else [("SQLite", None)]
        for name, base in targets:
            with tempfile.TemporaryDirectory() as tmp:
                url = (
                    f"sqlite+aiosqlite:///{tmp}/monitor.db" if base is None else await pg_url(base)
                )
                if url is None:
                    continue
                try:
                    deciles, lookups = await firstpass(url, args.posts)
                finally:
                    if base is not None:
                        await drop_schema(url)
            rows.append([name, "all", *(f"{d:.2f}" for d in deciles)])
            rows.append([name, "lookups", *(f"{d:.2f}" for d in lookups)])
        print(f"\nFirst pass of {args.posts:,} posts{label}: seconds per 10,000 posts, by tenth:\n")  # noqa: T201
        header = ["database", "statements", *(f"{10 * i}%" for i in range(1, 11))]
        print(table(header, rows))  # noqa: T201
    if "flags" in only:
        rows = []
        targets = [("PostgreSQL", pg), ("SQLite", None)] if pg else [("SQLite", None)]
        for name, base in targets:
            with tempfile.TemporaryDirectory() as tmp:
                url = (
                    f"sqlite+aiosqlite:///{tmp}/monitor.db" if base is None else await pg_url(base)
                )
                if url is None:
                    continue
                try:
                    timings = await flags_list(url, args.archive_posts)
                finally:
                    if base is not None:
                        await drop_schema(url)
            for query, (before, after) in timings.items():
                rows.append([name, query, f"{before:.1f}", f"{after:.1f}"])
        print(  # noqa: T201
            f"\n`flags list` at {args.archive_posts:,} posts ({args.archive_posts // 10:,} flags), "
            "query ms, best of 5:\n"
        )
        print(table(["database", "query", "without 0002 indexes", "with"], rows))  # noqa: T201


async def sender_bench(args: argparse.Namespace, pg: str | None, label: str) -> None:
    """Alert latency with the daemon sending, then with a sender process, per database."""
    n = args.sender_channels
    rows = []
    for name, base in [("SQLite", None), ("PostgreSQL", pg)]:
        if name == "PostgreSQL" and base is None:
            continue
        for sender in (False, True):
            url = None if base is None else await pg_url(base)
            if base is not None and url is None:
                break
            try:
                r = await daemon_run(
                    n, args.latency_seconds, args.warmup, args.post_every, url, sender=sender
                )
            finally:
                if url is not None:
                    await drop_schema(url)
            print(f"  {name} sender={sender}: {json.dumps(r)}", file=sys.stderr)  # noqa: T201
            rows.append(
                [
                    name,
                    "`monitor alerts send`" if sender else "the daemon (baseline)",
                    f"{r['alerts']} ({r['missing']} late)",
                    f"{r['lat_p50']:.2f} / {r['lat_p95']:.2f} / {r['lat_max']:.2f}",
                ]
            )
    print(  # noqa: T201
        f"\nAlert latency, post created -> webhook, {n} channels polled every {POLL_EVERY} s, "
        f"a flagged post every {args.post_every} s, {args.latency_seconds:.0f} s window{label}:\n"
    )
    print(table(["database", "sent by", "alerts", "latency p50 / p95 / max (s)"], rows))  # noqa: T201


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated: idle,daemon,sender,firstpass,flags")
    parser.add_argument("--sender-channels", type=int, default=20, help="--only sender")
    parser.add_argument("--channels", default="20,200,1000")
    parser.add_argument("--seconds", type=float, default=60.0, help="measurement window")
    parser.add_argument("--latency-seconds", type=float, default=30.0, help="window at <=50")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--post-every", type=float, default=0.5)
    parser.add_argument("--database", help="daemon database URL (default: SQLite in a tmp dir)")
    parser.add_argument("--idle-channels", type=int, default=100)
    parser.add_argument("--idle-rounds", type=int, default=20)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--archive-posts", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="base URL, or 'none'")
    parser.add_argument("--code", help="run against the checkout in this directory")
    parser.add_argument("--serve-sim", type=int, help=argparse.SUPPRESS)
    # --only workers (bench/scale_workers.py)
    parser.add_argument("--workers", default="1,2,4", help="worker processes per run")
    parser.add_argument("--worker-channels", type=int, default=2000)
    parser.add_argument("--worker-poll-every", type=int, default=600, help="seconds")
    parser.add_argument("--budget", type=int, default=30, help="getHistory per 30 s per account")
    parser.add_argument("--rate", type=float, default=2.0, help="new posts per second")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args(sys.argv[1:])
    from monitor.log import configure_logging

    if arguments.serve_sim is not None:
        configure_logging(fmt="json", level="CRITICAL")  # sessions cut at exit are expected
        asyncio.run(serve_sim(arguments.serve_sim, arguments.post_every))
    else:
        # The daemon's own level (INFO), rendered as in production but not shown.
        configure_logging(fmt="json", level=os.environ.get("MONITOR_LOG_LEVEL", "INFO"))
        logging.getLogger().handlers[0].setStream(open(os.devnull, "w"))  # noqa: SIM115
        asyncio.run(main(arguments))
