"""Ingest benchmark: posts/s from the simulated Telegram through real Telethon into storage.

Runs the production pipeline (collector, language ID, matching against the repo's
channels.yaml, flags) on a first pass over a channel, into SQLite and (when reachable)
PostgreSQL, and counts the Telegram requests it made.

    python bench/ingest.py [--posts 5000] [--photos 200] [--postgres URL]

``--process`` measures instead what a user sees: `monitor collect` as its own process (wall,
CPU, peak RSS) against the simulator serving over loopback TCP from another process;
``--baseline DIR`` runs another checkout side by side (alternating runs, same simulator code):

    git archive main | tar -x -C /tmp/base && python bench/ingest.py --process --baseline /tmp/base
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
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
from monitor.log import configure_logging  # noqa: E402
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
            detect_languages=get_detector("fast").detect_many,
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


# -- `monitor collect` as a process, against the simulator in another process ------------------


def _serve(n_posts: int) -> None:
    """Serve a bench channel of ``n_posts`` text posts on a free loopback port (printed on stdout)
    until stdin closes: the simulated Telegram as its own process, as with `simulator serve`."""
    import logging

    import structlog

    from monitor.simulator import SimulatorServer

    # Its per-request log lines would fill the stdout pipe nobody reads after the port line.
    structlog.configure(
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
    )

    async def serve() -> None:
        backend, _ = make_backend(n_posts, 0)
        async with SimulatorServer(backend) as server:
            print(f"bench_port={server.port}", flush=True)
            await asyncio.to_thread(sys.stdin.read)

    asyncio.run(serve())


def bench_channels_yaml(n_posts: int) -> str:
    """The repo's channels.yaml (entities and alert routes) watching only the bench channel."""
    import yaml

    config = yaml.safe_load((ROOT / "channels.yaml").read_text(encoding="utf-8"))
    config["channels"] = [{"handle": "@bench_channel", "backfill": n_posts}]
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)


def collect_process(
    n_posts: int,
    *,
    database_url: str | None = None,
    pythonpath: str | None = None,
    workdir: Path | None = None,
    profile: Path | None = None,
) -> dict[str, float]:
    """Wall time, CPU time and peak RSS of one `monitor collect` first pass, as a user runs it.

    The simulator serves ``n_posts`` text posts from another process over loopback TCP; the
    collect process starts on a fresh data directory (migrated beforehand, not timed) and its
    clock runs from spawn to exit. ``pythonpath`` runs another checkout of the code (e.g. a
    baseline copy made with ``git archive``) against the same simulator. ``profile`` writes a
    cProfile of the collect process there.
    """
    import os

    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    monitor = [sys.executable, "-c", "from monitor.cli import main; main()"]
    with contextlib.ExitStack() as stack:
        tmp = Path(workdir or stack.enter_context(tempfile.TemporaryDirectory()))
        server, port = _start_simulator(stack, n_posts)
        (tmp / "channels.yaml").write_text(bench_channels_yaml(n_posts), encoding="utf-8")
        env.update(
            MONITOR_DATA_DIR=str(tmp / "data"),
            MONITOR_CHANNELS_FILE=str(tmp / "channels.yaml"),
            MONITOR_TELEGRAM_SERVER=f"127.0.0.1:{port}",
            MONITOR_LOG_FORMAT="json",
        )
        if database_url:
            env["MONITOR_DATABASE_URL"] = database_url
        else:
            env.pop("MONITOR_DATABASE_URL", None)
        # Run from the temporary directory: `python -c` puts the working directory first on
        # sys.path, which would shadow the code under test with the checkout we are in.
        where = subprocess.run(
            [sys.executable, "-c", "import monitor; print(monitor.__file__)"],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert not pythonpath or where.startswith(pythonpath), where
        subprocess.run(
            [*monitor, "db", "upgrade"], env=env, cwd=tmp, check=True, capture_output=True
        )
        with open(tmp / "collect.log", "wb") as log_file:
            started = time.perf_counter()
            command = [*monitor, "collect", "--json"]
            if profile is not None:
                command[2] = (
                    "import cProfile, sys; from monitor.cli import main; "
                    "cProfile.run('main()', sys.argv.pop(1))"
                )
                command.insert(3, str(profile))
            proc = subprocess.Popen(
                command, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=log_file
            )
            out = proc.stdout.read() if proc.stdout else b""
            _, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(
                f"monitor collect failed: {(tmp / 'collect.log').read_text()[-2000:]}"
            )
        report = json.loads(out.decode().splitlines()[-1])
        assert report["new"] == n_posts, report
        assert server.stdin is not None
        server.stdin.close()  # the simulator exits: its CPU time is then known
        _, _, served = os.wait4(server.pid, 0)
    return {
        "posts": n_posts,
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "rss_mb": usage.ru_maxrss / 1024,
        "posts_per_s": n_posts / wall,
        "simulator_cpu": served.ru_utime + served.ru_stime,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--photos", type=int, default=300)
    parser.add_argument("--postgres", default=DEFAULT_PG, help="'' to skip PostgreSQL")
    parser.add_argument("--process", action="store_true", help="time `monitor collect` runs")
    parser.add_argument("--baseline", help="with --process: another checkout to compare")
    parser.add_argument("--runs", type=int, default=3, help="with --process: runs per variant")
    parser.add_argument(
        "--deciles", type=int, metavar="N", help="time a first pass of N posts per tenth"
    )
    parser.add_argument(
        "--verbose", action="store_true", help="log the pipeline's events (on stderr)"
    )
    args = parser.parse_args()
    # Only the tables go to stdout: the pipeline's events (one per batch and photo) would
    # otherwise print ~1,300 lines before them. Warnings still show, on stderr.
    configure_logging(level="INFO" if args.verbose else "WARNING")
    if args.deciles:
        await deciles_table(args.deciles, args.postgres, args.baseline)
        return
    if args.process:
        await process_table(args.posts, args.postgres, args.baseline, args.runs)
        return
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


# One first pass, timed per tenth of the posts stored (run by `python -c` in the checkout under
# test, so it uses only APIs every version has).
_DECILES_CHILD = """
import asyncio, json, sys, time
from monitor.config import load_watchlist
from monitor.service import open_runtime
from monitor.settings import load_settings

async def main(n):
    settings = load_settings()
    async with open_runtime(settings, watchlist=load_watchlist(settings.channels_file)) as rt:
        spec = rt.watchlist.enabled_channels()[0]
        marks, done, start = [], [0], time.perf_counter()
        def progress(k):
            done[0] += k
            while len(marks) < 10 and done[0] >= n * (len(marks) + 1) // 10:
                marks.append(time.perf_counter())
        report = await rt.pipeline.collect(rt.client, spec, on_progress=progress)
    assert report.new == n, report
    print(json.dumps([round(b - a, 2) for a, b in zip([start, *marks], marks)]))

asyncio.run(main(int(sys.argv[1])))
"""


def first_pass_deciles(
    n_posts: int, *, database_url: str | None = None, pythonpath: str | None = None
) -> list[float]:
    """Seconds per tenth of a first pass over ``n_posts`` text posts (simulator in another
    process): flat when the cost per post does not grow with the archive."""
    import os

    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        _, port = _start_simulator(stack, n_posts)
        (tmp / "channels.yaml").write_text(bench_channels_yaml(n_posts), encoding="utf-8")
        env.update(
            MONITOR_DATA_DIR=str(tmp / "data"),
            MONITOR_CHANNELS_FILE=str(tmp / "channels.yaml"),
            MONITOR_TELEGRAM_SERVER=f"127.0.0.1:{port}",
            MONITOR_LOG_LEVEL="WARNING",
        )
        if database_url:
            env["MONITOR_DATABASE_URL"] = database_url
        else:
            env.pop("MONITOR_DATABASE_URL", None)
        monitor = [sys.executable, "-c", "from monitor.cli import main; main()"]
        subprocess.run([*monitor, "db", "upgrade"], env=env, cwd=tmp, check=True)
        done = subprocess.run(
            [sys.executable, "-c", _DECILES_CHILD, str(n_posts)],
            env=env,
            cwd=tmp,
            check=True,
            capture_output=True,
            text=True,
        )
    return [float(x) for x in json.loads(done.stdout.strip().splitlines()[-1])]


def _start_simulator(
    stack: contextlib.ExitStack, n_posts: int
) -> tuple[subprocess.Popen[str], int]:
    """The bench channel served from another process; stopped when ``stack`` closes."""

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(n_posts)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    stack.callback(server.wait, 30)
    assert server.stdin is not None and server.stdout is not None
    stack.callback(server.stdin.close)
    line = ""
    while not line.startswith("bench_port="):  # after the simulator's own log lines
        line = server.stdout.readline()
        if not line:
            raise RuntimeError("the bench simulator exited before listening")
    return server, int(line.partition("=")[2])


async def process_table(n_posts: int, postgres: str, baseline: str | None, runs: int) -> None:
    variants = [("this", None)] + ([("baseline", baseline)] if baseline else [])
    print(
        f"{'database':<11} {'code':<9} {'posts':>6} {'wall s':>7} {'CPU s':>6} {'RSS MB':>7} {'posts/s':>8}"
    )
    for db in ("SQLite", "PostgreSQL") if postgres else ("SQLite",):
        for _ in range(runs):
            for name, path in variants:
                made = await pg_schema_url(postgres) if db == "PostgreSQL" else (None, None)
                if made is None:
                    return
                url, schema = made
                try:
                    r = await asyncio.to_thread(
                        collect_process, n_posts, database_url=url, pythonpath=path
                    )
                finally:
                    if schema:
                        await drop_schema(postgres, schema)
                print(
                    f"{db:<11} {name:<9} {r['posts']:>6} {r['wall']:>7.2f} {r['cpu']:>6.2f} "
                    f"{r['rss_mb']:>7.1f} {r['posts_per_s']:>8.0f} {r['simulator_cpu']:>9.2f}",
                    flush=True,
                )


async def deciles_table(n_posts: int, postgres: str, baseline: str | None) -> None:
    variants = [("this", None)] + ([("baseline", baseline)] if baseline else [])
    db = "PostgreSQL" if postgres else "SQLite"  # --postgres '' for SQLite
    for name, path in variants:
        made = await pg_schema_url(postgres) if postgres else (None, None)
        if made is None:
            return
        url, schema = made
        try:
            tenths = await asyncio.to_thread(
                first_pass_deciles, n_posts, database_url=url, pythonpath=path
            )
        finally:
            if schema:
                await drop_schema(postgres, schema)
        cells = " ".join(f"{t:6.1f}" for t in tenths)
        print(f"{db:<11} {name:<9} {n_posts:>7} s per tenth: {cells}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        _serve(int(sys.argv[2]))
    else:
        asyncio.run(main())
