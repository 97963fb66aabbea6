"""The daemon as a real process: `monitor run` against a simulated Telegram on loopback TCP.

The simulator runs in the test's own event loop (``sim``), so a test can post to it while the
daemon subprocess is collecting. Waits are bounded poll loops on the database or the process's
JSON log lines, never sleeps of a guessed length.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from monitor.simulator import Backend, SimChannel, SimulatorServer
from storage.engine import create_engine, upgrade
from storage.models import flag, post

REPO = Path(__file__).resolve().parents[2]
GUARDED_MONITOR = Path(__file__).with_name("guarded_monitor.py")
WAIT = 30.0  # upper bound of every wait: guards against hanging, not a timing assertion

CHANNELS_YAML = """\
defaults:
  poll_every: {poll_every}
  backfill: 1000
channels:
{channels}
entities:
  - id: cui-wei
    name: Cui Wei
    kind: person
    tags: [diplomat]
    aliases: ["Cui Wei"]
"""


def channels_yaml(*usernames: str, poll_every: str = "10s") -> str:
    channels = "\n".join(f'  - handle: "@{u}"' for u in usernames)
    return CHANNELS_YAML.format(channels=channels, poll_every=poll_every)


async def until(
    condition: Callable[[], Awaitable[bool] | bool], what: str, *, context: Callable[[], str] = str
) -> None:
    """Poll ``condition`` until it holds, failing after ``WAIT`` seconds with ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            pytest.fail(f"gave up after {WAIT:.0f}s waiting for {what}\n{context()}")
        await asyncio.sleep(0.1)


@dataclass
class Env:
    """Environment of one `monitor` installation: data dir, channels.yaml, database."""

    tmp_path: Path
    database_url: str | None = None
    server: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.tmp_path / "data"

    @property
    def channels_file(self) -> Path:
        return self.tmp_path / "channels.yaml"

    @property
    def url(self) -> str:
        return (
            self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'monitor.db').as_posix()}"
        )

    def vars(self) -> dict[str, str]:
        # Nothing of the caller's MONITOR_* leaks in (credentials above all).
        env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
        env |= {
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "MONITOR_DATA_DIR": str(self.data_dir),
            "MONITOR_CHANNELS_FILE": str(self.channels_file),
            "MONITOR_LOG_FORMAT": "json",
        }
        if self.database_url:
            env["MONITOR_DATABASE_URL"] = self.database_url
        if self.server:
            env["MONITOR_TELEGRAM_SERVER"] = self.server
        return env | self.extra

    async def monitor(self, *args: str) -> tuple[int, str, str]:
        """Run one `monitor` command to completion: (exit code, stdout, stderr)."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(GUARDED_MONITOR),
            *args,
            env=self.vars(),
            cwd=self.tmp_path,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await asyncio.wait_for(proc.communicate(), WAIT)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    async def start_daemon(self) -> Daemon:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(GUARDED_MONITOR),
            "run",
            env=self.vars(),
            cwd=self.tmp_path,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        return Daemon(proc)


class Daemon:
    """A running `monitor run`: its JSON log events as they arrive, signals, and its exit."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []
        self.events: list[dict[str, Any]] = []
        self.stdout = ""
        self._reader = asyncio.ensure_future(self._read_log())

    async def _read_log(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            with contextlib.suppress(ValueError):
                event = json.loads(line)
                if isinstance(event, dict):
                    self.events.append(event)

    def named(self, name: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == name]

    def log_tail(self) -> str:
        return "daemon log (last 40 lines):\n" + "\n".join(self.lines[-40:])

    async def wait_for_event(self, name: str, *, count: int = 1) -> dict[str, Any]:
        await until(
            lambda: len(self.named(name)) >= count or self.proc.returncode is not None,
            f"log event {name!r} #{count}",
            context=self.log_tail,
        )
        assert len(self.named(name)) >= count, f"daemon exited early\n{self.log_tail()}"
        return self.named(name)[count - 1]

    def send(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        """Send ``sig`` and wait (bounded) for the process to exit; returns its exit code."""
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        assert self.proc.stdout is not None
        out = await asyncio.wait_for(self.proc.stdout.read(), WAIT)
        self.stdout = out.decode()
        code = await asyncio.wait_for(self.proc.wait(), WAIT)
        await asyncio.wait_for(self._reader, WAIT)
        return code

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@dataclass
class Sim:
    """The simulated Telegram the daemon talks to, and the address it listens on."""

    backend: Backend
    address: str

    def channel(self, username: str, posts: int, *, joined: bool = True) -> SimChannel:
        """A channel with ``posts`` plain posts; ``joined`` channels push new posts to us."""
        channel = self.backend.add_channel(username, username.replace("_", " ").title())
        for i in range(posts):
            self.backend.post(channel.id, f"{username} routine bulletin {i}")
        if joined:
            self.backend.join("default", channel.id)
        return channel

    def message_keys(self, *channels: SimChannel) -> set[tuple[int, int]]:
        return {(c.id, m) for c in channels for m in c.messages}


@pytest.fixture
async def sim() -> AsyncIterator[Sim]:
    async with SimulatorServer(Backend(seed=11)) as server:
        yield Sim(server.backend, server.address)


@pytest.fixture
async def daemons() -> AsyncIterator[list[Daemon]]:
    """Daemons a test starts; any still running at the end are killed."""
    started: list[Daemon] = []
    yield started
    for daemon in started:
        await daemon.kill()


class Database:
    """Read-only views of what the daemon stored (a fresh connection per look)."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, poolclass=NullPool)

    async def upgrade(self) -> None:
        """What `monitor db upgrade` does, in-process (quicker than another interpreter)."""
        await upgrade(self.engine)

    async def post_keys(self) -> list[tuple[int, int]]:
        """Every stored (channel id, message id), duplicates included."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(post.c.channel_id, post.c.message_id))
            return [(r.channel_id, r.message_id) for r in rows]

    async def flags(self) -> set[tuple[int, int, str]]:
        """(channel id, message id, entity id) of every flag."""
        query = select(post.c.channel_id, post.c.message_id, flag.c.entity_id).join(
            post, post.c.id == flag.c.post_id
        )
        async with self.engine.connect() as conn:
            return {(r.channel_id, r.message_id, r.entity_id) for r in await conn.execute(query)}

    async def has_flag(self, key: tuple[int, int, str]) -> bool:
        """Whether (channel id, message id, entity id) is flagged."""
        return key in await self.flags()

    async def has_posts(self, keys: set[tuple[int, int]]) -> bool:
        return keys <= set(await self.post_keys())


@pytest.fixture
async def open_db() -> AsyncIterator[Callable[[str], Database]]:
    opened: list[Database] = []

    def make(url: str) -> Database:
        opened.append(Database(url))
        return opened[-1]

    yield make
    for db in opened:
        await db.engine.dispose()
