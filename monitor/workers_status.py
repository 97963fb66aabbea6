"""What `monitor workers` shows: each worker, its account and channels, heartbeat age and lag."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.config import load_watchlist
from monitor.settings import Settings
from monitor.workers import DEFAULT_LEASE
from storage import check_schema, create_engine
from storage import joins as join_repo
from storage import leases as lease_repo


async def collect_workers(settings: Settings) -> list[dict[str, Any]]:
    """One row per worker known to the database, stopped ones included.

    ``state``: running, flood wait (its account parked), silent (no heartbeat for a default
    lease: killed, or cut off) or stopped. ``lag_seconds`` is how far behind schedule the worker's most overdue channel is: the time
    since its last poll beyond its poll interval (0 when every channel is on time).
    """
    watchlist = load_watchlist(settings.channels_file)
    every = {spec.key: spec.poll_every for spec in watchlist.enabled_channels()}
    engine = create_engine(settings.database_url)
    now = datetime.now(UTC)
    try:
        await check_schema(engine)
        async with engine.connect() as conn:
            workers = await lease_repo.list_workers(conn=conn)
            holders = await lease_repo.channel_holders(conn=conn, at=now)
            polls = {
                w.account: await lease_repo.last_polls(w.account, conn=conn)
                for w in workers
                if w.account is not None
            }
    finally:
        await engine.dispose()
    rows = []
    for w in workers:
        channels = sorted(key for key, owner in holders.items() if owner == w.name)
        last = polls.get(w.account, {}) if w.account else {}
        lag = 0.0
        for key in channels:
            if key in last and key in every:
                late = (now - last[key] - every[key]).total_seconds()
                lag = max(lag, late)
        rows.append(
            {
                "name": w.name,
                "host": w.host,
                "pid": w.pid,
                "account": w.account,
                "state": _state(w, now),
                "heartbeat_age_seconds": round((now - w.heartbeat_at).total_seconds(), 1),
                "channels": channels,
                "lag_seconds": round(lag, 1),
                "parked_until": w.parked_until,
                "started_at": w.started_at,
            }
        )
    return rows


def _state(worker: lease_repo.WorkerRow, now: datetime) -> str:
    if worker.stopped_at is not None:
        return "stopped"
    if now - worker.heartbeat_at > DEFAULT_LEASE:  # killed, or its machine or network gone
        return "silent"
    if worker.parked_until is not None and worker.parked_until > now:
        return "flood wait"
    return "running"


async def collect_live(settings: Settings) -> list[dict[str, Any]]:
    """One row per enabled channel: ``live`` when an account joined it (its new messages are
    pushed to that account's worker), else polled only (every account at its join limit).
    ``joining``: an account claimed it and its join is not confirmed yet (a worker is joining
    it, or was killed doing so and the account's next worker settles it)."""
    watchlist = load_watchlist(settings.channels_file)
    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        async with engine.connect() as conn:
            joined = {j.handle: j for j in await join_repo.list_joins(conn=conn)}
    finally:
        await engine.dispose()
    rows = []
    for spec in watchlist.enabled_channels():
        join = joined.get(spec.key)
        live = join is not None and join.state == join_repo.JOINED
        rows.append(
            {
                "channel": spec.key,
                "live": live,
                "joining": join is not None and join.state == join_repo.CLAIMED,
                "account": join.account if join else None,
                "joined_at": join.joined_at if join else None,
            }
        )
    return rows
