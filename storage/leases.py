"""Workers and leases: several collectors share one PostgreSQL database, nothing else.

A lease is a ``worker_lease`` row (kind, name) with an owner and an expiry. A worker takes free
or expired rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` (two workers asking at once never get
the same row), renews what it holds with each heartbeat, and gives rows back when it stops or
hands channels to a newcomer. A worker killed outright renews nothing: its leases expire and
the others take them. SQLite ignores ``FOR UPDATE``: it is the single-worker backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, or_, select, update

from storage.engine import dialect_insert
from storage.models import account_peer, collector_state, worker, worker_lease

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "ACCOUNT",
    "CHANNEL",
    "Lease",
    "WorkerRow",
    "account_holders",
    "acquire",
    "channel_holders",
    "ensure_leases",
    "last_polls",
    "leases_of",
    "list_leases",
    "list_workers",
    "live_workers",
    "register_worker",
    "release",
    "renew",
    "seed_cursor",
    "stop_worker",
]

ACCOUNT = "account"
CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class WorkerRow:
    name: str
    host: str
    pid: int
    account: str | None
    started_at: datetime
    heartbeat_at: datetime
    parked_until: datetime | None
    stopped_at: datetime | None


@dataclass(frozen=True, slots=True)
class Lease:
    kind: str
    name: str
    owner: str | None
    acquired_at: datetime | None
    heartbeat_at: datetime | None
    expires_at: datetime | None

    def held(self, at: datetime) -> bool:
        return self.owner is not None and self.expires_at is not None and self.expires_at > at


async def register_worker(
    name: str, *, host: str, pid: int, conn: AsyncConnection, at: datetime
) -> None:
    """Add the worker (or restart one of that name): heartbeat now, no account yet."""
    values = {
        "name": name,
        "host": host,
        "pid": pid,
        "account": None,
        "started_at": at,
        "heartbeat_at": at,
        "parked_until": None,
        "stopped_at": None,
    }
    insert = dialect_insert(conn)(worker).values(values)
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=["name"], set_={k: v for k, v in values.items() if k != "name"}
        )
    )


async def stop_worker(name: str, *, conn: AsyncConnection, at: datetime) -> None:
    """A clean stop: every lease given back, the worker marked stopped."""
    await conn.execute(
        update(worker_lease)
        .where(worker_lease.c.owner == name)
        .values(owner=None, expires_at=None, heartbeat_at=at)
    )
    await conn.execute(
        update(worker).where(worker.c.name == name).values(stopped_at=at, heartbeat_at=at)
    )


async def ensure_leases(kind: str, names: Sequence[str], *, conn: AsyncConnection) -> None:
    """Rows for ``names`` (free), for those that have none yet."""
    if not names:
        return
    insert = dialect_insert(conn)(worker_lease)
    await conn.execute(
        insert.on_conflict_do_nothing(index_elements=["kind", "name"]),
        [{"kind": kind, "name": name, "owner": None} for name in names],
    )


async def acquire(
    kind: str,
    names: Sequence[str],
    owner: str,
    *,
    limit: int,
    lease: timedelta,
    conn: AsyncConnection,
    at: datetime,
) -> list[str]:
    """Take up to ``limit`` of ``names`` that nobody holds (free, or expired), in name order.

    Rows another transaction is taking at this moment are skipped, not waited for.
    """
    if limit <= 0 or not names:
        return []
    c = worker_lease.c
    query = (
        select(c.name)
        .where(
            c.kind == kind,
            c.name.in_(list(names)),
            or_(c.owner.is_(None), c.expires_at.is_(None), c.expires_at <= at),
        )
        .order_by(c.name)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    taken = list((await conn.execute(query)).scalars())
    if taken:
        await conn.execute(
            update(worker_lease)
            .where(c.kind == kind, c.name.in_(taken))
            .values(owner=owner, acquired_at=at, heartbeat_at=at, expires_at=at + lease)
        )
    return taken


async def renew(
    owner: str,
    *,
    lease: timedelta,
    conn: AsyncConnection,
    at: datetime,
    account: str | None = None,
    parked_until: datetime | None = None,
) -> dict[str, set[str]]:
    """The heartbeat: extend every lease ``owner`` still holds; returns them by kind.

    A lease that expired and was taken by another worker is no longer ``owner``'s and is not in
    the answer: the caller stops using it.
    """
    c = worker_lease.c
    rows = await conn.execute(
        update(worker_lease)
        .where(c.owner == owner)
        .values(heartbeat_at=at, expires_at=at + lease)
        .returning(c.kind, c.name)
    )
    held: dict[str, set[str]] = {ACCOUNT: set(), CHANNEL: set()}
    for kind, name in rows:
        held.setdefault(kind, set()).add(name)
    await conn.execute(
        update(worker)
        .where(worker.c.name == owner)
        .values(heartbeat_at=at, account=account, parked_until=parked_until, stopped_at=None)
    )
    return held


async def release(
    kind: str, names: Sequence[str], owner: str, *, conn: AsyncConnection, at: datetime
) -> None:
    """Give ``names`` back (only those ``owner`` still holds): free at once for others."""
    if not names:
        return
    c = worker_lease.c
    await conn.execute(
        update(worker_lease)
        .where(c.kind == kind, c.owner == owner, c.name.in_(list(names)))
        .values(owner=None, expires_at=None, heartbeat_at=at)
    )


async def live_workers(*, conn: AsyncConnection, at: datetime, lease: timedelta) -> list[str]:
    """Workers whose heartbeat is fresher than one lease and whose account may read now."""
    w = worker.c
    query = (
        select(w.name)
        .where(
            w.stopped_at.is_(None),
            w.heartbeat_at > at - lease,
            or_(w.parked_until.is_(None), w.parked_until <= at),
        )
        .order_by(w.name)
    )
    return list((await conn.execute(query)).scalars())


async def list_workers(*, conn: AsyncConnection) -> list[WorkerRow]:
    rows = (await conn.execute(select(worker).order_by(worker.c.name))).mappings()
    return [WorkerRow(**row) for row in rows]


async def list_leases(*, conn: AsyncConnection, kind: str | None = None) -> list[Lease]:
    query = select(worker_lease).order_by(worker_lease.c.kind, worker_lease.c.name)
    if kind is not None:
        query = query.where(worker_lease.c.kind == kind)
    return [Lease(**row) for row in (await conn.execute(query)).mappings()]


async def leases_of(owner: str, *, conn: AsyncConnection) -> list[Lease]:
    query = select(worker_lease).where(worker_lease.c.owner == owner).order_by(worker_lease.c.name)
    return [Lease(**row) for row in (await conn.execute(query)).mappings()]


async def seed_cursor(
    account: str, handle: str, *, conn: AsyncConnection, at: datetime
) -> int | None:
    """A channel taken over from another account: start ``account``'s cursor at the furthest
    any account reached, so the new owner reads on from there (no backfill, no gap).

    Returns the channel id seeded, or None when no account has read the channel yet. Never
    moves a cursor backwards.
    """
    channel_id = (
        await conn.execute(
            select(account_peer.c.channel_id).where(account_peer.c.handle == handle).limit(1)
        )
    ).scalar()
    if channel_id is None:
        return None
    s = collector_state.c
    best = (
        await conn.execute(
            select(s.last_message_id, s.last_poll_at)
            .where(s.channel_id == channel_id, s.last_poll_at.is_not(None))
            .order_by(s.last_message_id.desc())
            .limit(1)
        )
    ).first()
    if best is None:
        return None
    own = (
        await conn.execute(
            select(s.last_message_id, s.last_poll_at).where(
                and_(s.account == account, s.channel_id == channel_id)
            )
        )
    ).first()
    if own is not None and own.last_poll_at is not None and own.last_message_id >= best[0]:
        return channel_id
    insert = dialect_insert(conn)(collector_state).values(
        account=account,
        channel_id=channel_id,
        last_message_id=best[0],
        last_poll_at=best[1],
        consecutive_errors=0,
        updated_at=at,
    )
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=["account", "channel_id"],
            set_={
                "last_message_id": insert.excluded.last_message_id,
                "last_poll_at": func.coalesce(s.last_poll_at, insert.excluded.last_poll_at),
                "updated_at": at,
            },
        )
    )
    return channel_id


async def channel_holders(*, conn: AsyncConnection, at: datetime) -> dict[str, str]:
    """Channel key -> the worker holding its lease now."""
    c = worker_lease.c
    query = select(c.name, c.owner).where(
        c.kind == CHANNEL, c.owner.is_not(None), c.expires_at > at
    )
    return {row[0]: row[1] for row in await conn.execute(query)}


async def account_holders(*, conn: AsyncConnection, at: datetime) -> dict[str, str]:
    """Account name -> the worker holding its lease now."""
    c = worker_lease.c
    query = select(c.name, c.owner).where(
        c.kind == ACCOUNT, c.owner.is_not(None), c.expires_at > at
    )
    return {row[0]: row[1] for row in await conn.execute(query)}


async def last_polls(account: str, *, conn: AsyncConnection) -> dict[str, datetime]:
    """Channel key -> when ``account`` last polled it."""
    s, p = collector_state.c, account_peer.c
    query = (
        select(p.handle, s.last_poll_at)
        .join(collector_state, and_(s.account == p.account, s.channel_id == p.channel_id))
        .where(p.account == account, s.last_poll_at.is_not(None))
    )
    return {row[0]: row[1] for row in await conn.execute(query)}
