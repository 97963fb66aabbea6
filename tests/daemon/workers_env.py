"""Several `monitor run --worker` processes against one simulator and one database."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.simulator import Backend
from storage.models import media, post, post_media, post_version, worker_lease
from tests.daemon.conftest import GUARDED_MONITOR, Daemon, Database, Env

LEASE = "3"  # seconds: a dead worker's channels move within this (plus a heartbeat)
#: Upper bound of the waits here: three processes resolving 60 channels each on a loaded
#: two-core machine. A guard against hanging, not a timing assertion.
WAIT = 120.0


async def until(
    condition: Callable[[], Awaitable[bool]], what: str, *, context: Callable[[], str] = str
) -> None:
    """Poll ``condition`` until it holds, failing after ``WAIT`` seconds with ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while not await condition():
        if loop.time() > deadline:
            pytest.fail(f"gave up after {WAIT:.0f}s waiting for {what}\n{context()}")
        await asyncio.sleep(0.2)


def workers_yaml(
    usernames: list[str], accounts: list[str], *, route_url: str, budget: int = 600
) -> str:
    lines = ["defaults:", "  poll_every: 10s", "  backfill: 1000", "  media: [photo]", "channels:"]
    lines += [f'  - handle: "@{u}"' for u in usernames]
    lines += ["accounts:"]
    lines += [f"  - name: {a}\n    history_per_30s: {budget}" for a in accounts]
    lines += [
        "entities:",
        "  - id: cui-wei",
        "    name: Cui Wei",
        "    kind: person",
        '    aliases: ["Cui Wei"]',
        "alerts:",
        "  routes:",
        "    - name: desk",
        f'      url: "{route_url}"',
    ]
    return "\n".join(lines) + "\n"


async def start_worker(env: Env, name: str, *args: str) -> Daemon:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(GUARDED_MONITOR),
        "run",
        "--worker",
        name,
        *args,
        env=env.vars() | {"MONITOR_WORKER_LEASE": LEASE},
        cwd=env.tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return Daemon(proc)


async def channels_by_owner(db: Database) -> dict[str | None, set[str]]:
    """Channel leases held now, by worker (None: free)."""
    query = select(worker_lease.c.name, worker_lease.c.owner, worker_lease.c.expires_at).where(
        worker_lease.c.kind == "channel"
    )
    async with db.engine.connect() as conn:
        now = (await conn.execute(select(func.now()))).scalar()
        rows = list(await conn.execute(query))
    out: dict[str | None, set[str]] = defaultdict(set)
    for name, owner, expires in rows:
        out[owner if owner and expires and expires > now else None].add(name)
    return out


async def archive(db: Database) -> dict[str, object]:
    """What an archive holds, by natural keys: posts (with duplicates), versions per post, media
    hashes per post."""
    async with db.engine.connect() as conn:
        posts = sorted((r.channel_id, r.message_id) for r in await conn.execute(select(post)))
        versions = {
            (r.channel_id, r.message_id): r.n
            for r in await conn.execute(
                select(post.c.channel_id, post.c.message_id, func.count().label("n"))
                .join(post_version, post_version.c.post_id == post.c.id)
                .group_by(post.c.channel_id, post.c.message_id)
            )
        }
        hashes = {
            (r.channel_id, r.message_id): r.sha256
            for r in await conn.execute(
                select(post.c.channel_id, post.c.message_id, media.c.sha256)
                .join(post_media, post_media.c.post_id == post.c.id)
                .join(media, media.c.sha256 == post_media.c.sha256)
            )
        }
    return {"posts": posts, "versions": versions, "hashes": hashes}


def expected_archive(backend: Backend, channel_ids: list[int]) -> dict[str, object]:
    """What an uninterrupted run stores: every simulated post once, one version each, and the
    SHA-256 of every photo."""
    posts = sorted((c, m) for c in channel_ids for m in backend.channel(c).messages)
    hashes = {}
    for c, m in posts:
        message = backend.message(c, m)
        if getattr(message, "photo", None) is not None:
            hashes[(c, m)] = hashlib.sha256(backend.photo_bytes(c, m)).hexdigest()
    return {"posts": posts, "versions": dict.fromkeys(posts, 1), "hashes": hashes}


def history_readers(backend: Backend, since_index: int = 0) -> dict[int, set[str]]:
    """Accounts that read each channel's history (successfully), from the request log."""
    readers: dict[int, set[str]] = defaultdict(set)
    for entry in backend.requests.entries[since_index:]:
        if entry.name == "GetHistoryRequest" and entry.error is None and entry.channel:
            readers[entry.channel].add(entry.account)
    return readers


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]
