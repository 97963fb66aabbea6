"""Peers benchmark: other Telethon archivers and ours against one simulated channel.

Installs tg-archive and telegram-download-chat from PyPI into a scratch venv (reused while its
pins are unchanged), each forced onto telethon==1.45.0 (the version this project pins). Serves
one channel of N text posts with ``monitor simulator serve --session-file`` in a separate process
and gives every tool that session (the same account and auth key). Then, round-robin, times each
tool's first full pass (fresh output) and an idle second pass (nothing new), and counts the
requests the simulator answered during each run from its JSON request log.

    python bench/peers.py [--posts 5000] [--reps 3] [--venv bench/.peers-venv] [--against DIR]

``--against DIR`` also runs ``monitor collect`` from another source tree of the project (e.g. the
code before a change) in the same round-robin, as "monitor (DIR's name)".

Every tree's modules are compiled to bytecode before the runs (as pip does for an installed
package, and as the peers' venv already is): the runs set PYTHONDONTWRITEBYTECODE, so without
this each ``monitor collect`` of a fresh checkout compiled our sources again (~0.6 s of CPU).

Prints a Markdown table. Wall time is the child's elapsed time; CPU is its user+sys and peak RSS
its maximum resident set, both from wait4(). The simulator's own CPU is not counted.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONITOR = [sys.executable, "-c", "from monitor.cli import main; main()"]
CHANNEL = "peers_bench_sim"
API_ID, API_HASH = 12345, "0123456789abcdef0123456789abcdef"

# tg-archive pins every dependency (telethon==1.39.0 among them): keep its pins but telethon's,
# and resolve setuptools between tg-archive's >=76 and telegram-download-chat's <81.
PEERS = ["tg-archive==1.3.1", "telegram-download-chat==0.15.0"]
PEER_DEPS = [
    "telethon==1.45.0",
    "cryptg",  # as in this project: both sides use the same AES implementation
    "feedgen==1.0.0",
    "jinja2==3.1.6",
    "lxml==5.3.1",
    "markupsafe==3.0.2",
    "pillow==11.1.0",
    "pyaes==1.6.1",
    "pyasn1==0.6.1",
    "python-dateutil==2.9.0.post0",
    "python-magic==0.4.27",
    "pytz==2025.1",
    "pyyaml==6.0.2",
    "rsa==4.9",
    "six==1.17.0",
    "qrcode>=7.4",
    "setuptools>=76,<81",
]

# Loaded by every benchmarked process (sitecustomize): connections leave only for loopback.
NETWORK_GUARD = """
import socket
_connect = socket.socket.connect
def _guarded(self, address):
    if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
        raise ConnectionRefusedError(f"bench network guard: {address!r}")
    return _connect(self, address)
socket.socket.connect = _guarded
"""


def ensure_venv(path: Path) -> Path:
    """The peers' venv, created on first use; rebuilt when the pins above change."""
    stamp = path / ".peers-pins"
    wanted = "\n".join(PEER_DEPS + PEERS)
    if stamp.exists() and stamp.read_text() == wanted:
        return path
    shutil.rmtree(path, ignore_errors=True)
    print(f"installing {', '.join(PEERS)} into {path} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    pip = [str(path / "bin" / "python"), "-m", "pip", "install", "-q"]
    subprocess.run([*pip, *PEER_DEPS], check=True)
    subprocess.run([*pip, "--no-deps", *PEERS], check=True)  # keep telethon==1.45.0
    stamp.write_text(wanted)
    return path


def scenario_yaml(posts: int) -> str:
    return textwrap.dedent(
        f"""\
        synthetic: true
        notice: "bench/peers.py: one channel of {posts} text posts"
        seed: 4242
        channels:
          - {{key: bench, username: {CHANNEL}, title: "Peers bench", participants: 5000,
             joined: true}}
        timeline:
          - generate: bench
            count: {posts}
            between: [2023-01-01T00:00:00Z, 2024-06-01T00:00:00Z]
            views: [100, 90000]
            forwards: [0, 300]
            templates:
              - "استقبل {{who}} وفدا من {{city}} وبحث معه الأوضاع الخدمية #{{n}}"
              - "Officials met a delegation in {{city}} to discuss reconstruction, post {{n}}"
              - "دیدار هیئت عراقی با مقامات در {{city}} درباره همکاری اقتصادی {{n}}"
            slots:
              who: ["الأمين العام", "المتحدث الرسمي", "رئيس المجلس"]
              city: [Baghdad, Basra, Mosul, Najaf, Erbil]
        """
    )


class Server:
    """``monitor simulator serve`` in a child process; its JSON log counts the requests."""

    def __init__(self, workdir: Path, posts: int) -> None:
        scenario = workdir / "peers.yaml"
        scenario.write_text(scenario_yaml(posts), encoding="utf-8")
        self.session = workdir / "sim.session"
        env = os.environ | {
            "MONITOR_LOG_FORMAT": "json",
            "MONITOR_DATA_DIR": str(workdir / "simdata"),
            "PYTHONPATH": str(ROOT),
        }
        self.proc = subprocess.Popen(
            [*MONITOR, "simulator", "serve", "--port", "0", "--scenario", str(scenario)]
            + ["--session-file", str(self.session)],
            cwd=workdir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        banner = self.proc.stdout.readline()
        if "MONITOR_TELEGRAM_SERVER=" not in banner:
            self.proc.kill()
            raise SystemExit(f"simulator did not start: {banner}{self.proc.stderr.read()[-3000:]}")
        self.address = banner.split("MONITOR_TELEGRAM_SERVER=")[1].split(")")[0]
        self.requests: list[str] = []
        self._last_line = time.monotonic()
        self._lock = threading.Lock()
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                self._last_line = time.monotonic()
                if event.get("event") == "simulator_request":
                    name = event["request"].removesuffix("Request")
                    self.requests.append(name + (f"!{event['error']}" if "error" in event else ""))

    def mark(self) -> int:
        with self._lock:
            return len(self.requests)

    def since(self, mark: int) -> Counter[str]:
        """Requests logged after ``mark``, once the log has been quiet for a moment."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with self._lock:
                if time.monotonic() - self._last_line > 0.3:
                    return Counter(self.requests[mark:])
            time.sleep(0.05)
        with self._lock:
            return Counter(self.requests[mark:])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mb: float
    requests: Counter[str]
    posts: int


@dataclass
class Tool:
    name: str
    first: list[Run] = field(default_factory=list)
    idle: list[Run] = field(default_factory=list)


def timed(
    cmd: list[str], *, cwd: Path, env: dict[str, str], log: Path
) -> tuple[float, float, float]:
    """Run ``cmd``; wall seconds, user+sys CPU seconds and peak RSS (MB) of that child."""
    with log.open("a") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=out)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(
            f"{cmd[0]} failed ({proc.returncode}); see {log}:\n{log.read_text()[-3000:]}"
        )
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


class Bench:
    def __init__(self, server: Server, venv: Path, workdir: Path) -> None:
        self.server = server
        self.venv = venv
        self.workdir = workdir
        guard = workdir / "guard"
        guard.mkdir()
        (guard / "sitecustomize.py").write_text(NETWORK_GUARD)
        base = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
        self.env = base | {"PYTHONPATH": str(guard), "PYTHONDONTWRITEBYTECODE": "1"}

    @functools.cache  # noqa: B019 - one Bench per run
    def compiled(self, tree: Path) -> Path:
        """``tree`` with its packages compiled to bytecode (once per run)."""
        packages = [str(tree / name) for name in ("monitor", "storage", "alerts")]
        subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True)
        return tree

    def fresh(self, tool: str, rep: int) -> Path:
        path = self.workdir / f"{tool}-{rep}"
        path.mkdir()
        return path

    def measure(self, cmd: list[str], cwd: Path, env: dict[str, str], count: object) -> Run:
        mark = self.server.mark()
        wall, cpu, rss = timed(cmd, cwd=cwd, env=env, log=cwd / "output.log")
        requests = self.server.since(mark)
        return Run(wall, cpu, rss, requests, count())  # type: ignore[operator]

    # -- the tools -------------------------------------------------------------------------------

    def tg_archive(self, rep: int) -> tuple[Run, Run]:
        run = self.fresh("tg-archive", rep)
        shutil.copy(self.server.session, run / "session.session")
        (run / "config.yaml").write_text(
            json.dumps(  # YAML accepts JSON
                {
                    "api_id": str(API_ID),
                    "api_hash": API_HASH,
                    "group": CHANNEL,
                    "download_media": True,
                    "download_avatars": True,
                    "avatar_size": [64, 64],
                    "media_dir": "media",
                    "media_mime_types": [],
                    "use_takeout": False,
                    "proxy": {"enable": False},
                    "fetch_batch_size": 2000,  # its example config's value
                    "fetch_wait": 0,  # its example sleeps 5 s between batches: not work, skipped
                    "fetch_limit": 0,
                }
            )
        )
        cmd = [str(self.venv / "bin" / "tg-archive"), "--sync", "-c", "config.yaml"]
        cmd += ["-d", "data.sqlite", "-se", "session.session"]

        def count() -> int:
            with sqlite3.connect(run / "data.sqlite") as db:
                return int(db.execute("select count(*) from messages").fetchone()[0])

        return self.measure(cmd, run, self.env, count), self.measure(cmd, run, self.env, count)

    def telegram_download_chat(self, rep: int) -> tuple[Run, Run]:
        run = self.fresh("telegram-download-chat", rep)
        home = run / "home"
        app_dir = home / ".local" / "share" / "telegram-download-chat"  # where it keeps a session
        app_dir.mkdir(parents=True)
        shutil.copy(self.server.session, app_dir / "session.session")
        (run / "config.yml").write_text(
            json.dumps({"settings": {"api_id": API_ID, "api_hash": API_HASH}, "presets": []})
        )
        cmd = [str(self.venv / "bin" / "telegram-download-chat"), CHANNEL]
        cmd += ["-o", str(run / "chat.json"), "-c", str(run / "config.yml")]
        env = self.env | {"HOME": str(home)}

        def count() -> int:
            data = json.loads((run / "chat.json").read_text(encoding="utf-8"))
            messages = data["messages"] if isinstance(data, dict) else data
            return len({m["id"] for m in messages})

        return self.measure(cmd, run, env, count), self.measure(cmd, run, env, count)

    def ours(self, rep: int, tree: Path = ROOT) -> tuple[Run, Run]:
        run = self.fresh("monitor" if tree == ROOT else f"monitor-{tree.name}", rep)
        tree = self.compiled(tree)
        (run / "channels.yaml").write_text(
            f"defaults: {{poll_every: 5m, backfill: 100000, media: [photo]}}\n"
            f'channels:\n  - handle: "@{CHANNEL}"\n'
        )
        env = self.env | {
            "PYTHONPATH": os.pathsep.join([self.env["PYTHONPATH"], str(tree)]),
            "MONITOR_DATA_DIR": str(run / "data"),
            "MONITOR_CHANNELS_FILE": str(run / "channels.yaml"),
            "MONITOR_TELEGRAM_SERVER": self.server.address,  # the default account's auth key
        }
        subprocess.run(
            [*MONITOR, "db", "upgrade"], cwd=run, env=env, check=True, capture_output=True
        )
        cmd = [*MONITOR, "collect", "--json"]

        def count() -> int:
            with sqlite3.connect(run / "data" / "monitor.db") as db:
                return int(db.execute("select count(*) from post").fetchone()[0])

        return self.measure(cmd, run, env, count), self.measure(cmd, run, env, count)


def summary(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {n}" for name, n in sorted(counter.items(), key=lambda kv: -kv[1]))


def table(tools: list[Tool], posts: int) -> str:
    def med(values: list[float]) -> float:
        return statistics.median(values)

    head = (
        f"| tool | posts stored (of {posts}) | first pass wall s (min / median) | CPU s (median) "
        "| peak RSS MB (median) | first-pass requests | idle pass wall s (median) "
        "| idle-pass requests |"
    )
    rows = [head, "|" + " --- |" * 8]
    for tool in tools:
        first, idle = tool.first, tool.idle
        stored = sorted({r.posts for r in first})
        # Requests are the same on every rep unless a tool misbehaves: show the last, flag drift.
        reqs = summary(first[-1].requests)
        if any(r.requests != first[-1].requests for r in first):
            reqs += " (varies between reps)"
        idle_reqs = summary(idle[-1].requests)
        rows.append(
            f"| {tool.name} | {'/'.join(map(str, stored))} "
            f"| {min(r.wall for r in first):.2f} / {med([r.wall for r in first]):.2f} "
            f"| {med([r.cpu for r in first]):.2f} | {med([r.rss_mb for r in first]):.0f} "
            f"| {reqs} | {med([r.wall for r in idle]):.2f} | {idle_reqs} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=ROOT / "bench" / ".peers-venv")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument("--against", type=Path, help="another source tree of the project")
    args = parser.parse_args()
    venv = ensure_venv(args.venv.resolve())
    load_before = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="peers-bench-"))
    server = Server(workdir, args.posts)
    bench = Bench(server, venv, workdir)
    tools = [
        Tool("tg-archive 1.3.1"),
        Tool("telegram-download-chat 0.15.0"),
        Tool("monitor (ours)"),
    ]
    runners = [bench.tg_archive, bench.telegram_download_chat, bench.ours]
    if args.against is not None:
        against = args.against.resolve()
        tools.append(Tool(f"monitor ({against.name})"))
        runners.append(functools.partial(bench.ours, tree=against))
    try:
        for rep in range(args.reps):
            for tool, runner in zip(tools, runners, strict=True):
                first, idle = runner(rep)
                tool.first.append(first)
                tool.idle.append(idle)
                if first.posts != args.posts or idle.posts != args.posts:
                    print(
                        f"WARNING: {tool.name} stored {first.posts}, then {idle.posts}, "
                        f"of {args.posts} posts: the comparison is not like for like",
                        file=sys.stderr,
                    )
                print(
                    f"rep {rep + 1} {tool.name}: first {first.wall:.2f} s ({first.posts} posts, "
                    f"{sum(first.requests.values())} requests), idle {idle.wall:.2f} s",
                    file=sys.stderr,
                )
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}", file=sys.stderr)
    print(table(tools, args.posts))
    # Other work on the machine inflates wall times most, and CPU times too: say how much there was.
    print(
        f"\nload average (1, 5, 15 min): {', '.join(f'{x:.1f}' for x in load_before)} at the "
        f"start, {', '.join(f'{x:.1f}' for x in os.getloadavg())} at the end; "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )


if __name__ == "__main__":
    main()
