"""Which account joined which channel (live updates), shared by every worker.

An ``account_join`` row per join. At most one row per channel is current (``claimed`` or
``joined``; its unique ``current_channel_id`` is NULL once left), so of two workers claiming the same channel at once one
inserts and the other finds the row taken, on PostgreSQL and SQLite alike. An account's current
rows count against its join limit; the count and the insert run under a lock on the account's
lease row (``FOR UPDATE``; SQLite has one writer).

A claim is provisional: ``claimed`` by a worker holding the account, then ``joined`` once
Telegram answered the join (:func:`confirm`). A worker killed in between leaves the claim; the
next holder of the account settles it against the account's dialogs (:func:`settle`). Rows of
channels the account is no longer in are kept as ``left`` (time, reason): history, not slots.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select, update

from storage.engine import dialect_insert
from storage.models import account_join, account_peer, worker_lease

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "CLAIMED",
    "JOINED",
    "LEFT",
    "Join",
    "Peer",
    "claim",
    "confirm",
    "current_of",
    "joined_count",
    "list_joins",
    "mark_left",
    "peers_of",
    "record_found",
    "unclaim",
]

CLAIMED, JOINED, LEFT = "claimed", "joined", "left"
#: ``origin``: we called channels.JoinChannel, or the account was in the channel already.
BY_JOIN, FOUND = "joined", "found"


@dataclass(frozen=True, slots=True)
class Join:
    channel_id: int
    handle: str
    account: str
    state: str
    origin: str
    claimed_by: str | None
    claimed_at: datetime
    joined_at: datetime | None
    left_at: datetime | None = None
    left_reason: str | None = None

    @property
    def found(self) -> bool:
        """The account was in the channel before any join of ours."""
        return self.origin == FOUND


@dataclass(frozen=True, slots=True)
class Peer:
    handle: str
    channel_id: int
    access_hash: int


_c = account_join.c
_CURRENT = _c.state != LEFT
_FIELDS = [getattr(_c, f) for f in Join.__dataclass_fields__]


async def joined_count(account: str, *, conn: AsyncConnection) -> int:
    """The account's join slots in use: its current rows, provisional claims included."""
    query = select(func.count()).select_from(account_join).where(_c.account == account, _CURRENT)
    return int((await conn.execute(query)).scalar_one())


async def _lock_account(
    account: str, worker: str | None, *, conn: AsyncConnection, at: datetime
) -> bool:
    """Lock the account's lease row (one claim per account at a time: the count cannot be
    overtaken). False if ``worker`` is given and does not hold the account's lease now."""
    row = (
        await conn.execute(
            select(worker_lease.c.owner, worker_lease.c.expires_at)
            .where(worker_lease.c.kind == "account", worker_lease.c.name == account)
            .with_for_update()
        )
    ).first()
    if worker is None:
        return True
    return (
        row is not None
        and row.owner == worker
        and row.expires_at is not None
        and (row.expires_at > at)
    )


async def _owner(channel_id: int, *, conn: AsyncConnection) -> str | None:
    query = select(_c.account).where(_c.channel_id == channel_id, _CURRENT)
    return (await conn.execute(query)).scalar()


async def _insert(conn: AsyncConnection, **values: object) -> bool:
    """Insert a current row unless the channel has one (its unique ``current_channel_id``
    decides: of two racing inserts one waits for the other, then does nothing)."""
    values["current_channel_id"] = values["channel_id"]
    insert = dialect_insert(conn)(account_join).values(**values)
    result = await conn.execute(
        insert.on_conflict_do_nothing(index_elements=["current_channel_id"]).returning(_c.account)
    )
    return result.scalar() == values["account"]


async def claim(
    account: str,
    channel_id: int,
    handle: str,
    *,
    limit: int,
    conn: AsyncConnection,
    at: datetime,
    worker: str | None = None,
) -> bool:
    """Claim ``channel_id`` for ``account`` to join, provisionally (``claimed`` by ``worker``),
    if no account has it and ``account`` has fewer than ``limit`` slots in use.

    With ``worker`` given, only while that worker holds the account's lease. True if the claim
    is now ``account``'s (new, or its row from before); False if another account has the
    channel, the limit is reached, or the lease is not the worker's.
    """
    if not await _lock_account(account, worker, conn=conn, at=at):
        return False
    owner = await _owner(channel_id, conn=conn)
    if owner is not None:
        return owner == account
    if await joined_count(account, conn=conn) >= limit:
        return False
    return await _insert(
        conn,
        channel_id=channel_id,
        handle=handle,
        account=account,
        state=CLAIMED,
        origin=BY_JOIN,
        claimed_by=worker,
        claimed_at=at,
    )


async def record_found(
    account: str, channel_id: int, handle: str, *, conn: AsyncConnection, at: datetime
) -> bool:
    """Record a channel ``account`` is in already (its dialogs) as joined, beyond its limit if
    need be. True if the channel is now ``account``'s; a claim of its own is confirmed."""
    await _lock_account(account, None, conn=conn, at=at)
    owner = await _owner(channel_id, conn=conn)
    if owner is not None:
        if owner == account:
            await conn.execute(
                update(account_join)
                .where(_c.channel_id == channel_id, _c.account == account, _c.state == CLAIMED)
                .values(state=JOINED, joined_at=at)
            )
        return owner == account
    return await _insert(
        conn,
        channel_id=channel_id,
        handle=handle,
        account=account,
        state=JOINED,
        origin=FOUND,
        claimed_at=at,
        joined_at=at,
    )


async def confirm(
    account: str, channel_id: int, *, worker: str | None, conn: AsyncConnection, at: datetime
) -> bool:
    """Telegram answered the join: ``worker``'s claim becomes ``joined``. False if the claim is
    no longer there (the next holder of the account settled it meanwhile): undo the join."""
    c = _c
    query = (
        update(account_join)
        .where(c.account == account, c.channel_id == channel_id, c.state == CLAIMED)
        .values(state=JOINED, joined_at=at)
    )
    query = query.where(c.claimed_by.is_(None) if worker is None else c.claimed_by == worker)
    return (await conn.execute(query)).rowcount == 1


async def unclaim(account: str, channel_id: int, *, conn: AsyncConnection) -> None:
    """Forget ``account``'s provisional claim (the join failed, or never happened)."""
    await conn.execute(
        delete(account_join).where(
            _c.account == account, _c.channel_id == channel_id, _c.state == CLAIMED
        )
    )


async def mark_left(
    account: str,
    channel_ids: Collection[int],
    *,
    reason: str,
    conn: AsyncConnection,
    at: datetime,
) -> int:
    """``account`` is no longer in ``channel_ids``: their current rows become history
    (``left``, when, why) and free their slots. Returns how many rows changed."""
    if not channel_ids:
        return 0
    query = (
        update(account_join)
        .where(_c.account == account, _c.channel_id.in_(list(channel_ids)), _CURRENT)
        .values(state=LEFT, left_at=at, left_reason=reason, current_channel_id=None)
    )
    return (await conn.execute(query)).rowcount


async def current_of(account: str, *, conn: AsyncConnection) -> list[Join]:
    """The account's current rows (claimed or joined)."""
    query = select(*_FIELDS).where(_c.account == account, _CURRENT).order_by(_c.handle)
    return [Join(**row) for row in (await conn.execute(query)).mappings()]


async def list_joins(*, conn: AsyncConnection, history: bool = False) -> list[Join]:
    """Every current row by handle (with ``history``: the left ones too, oldest first)."""
    query = select(*_FIELDS)
    if history:
        query = query.order_by(_c.handle, _c.claimed_at, _c.id)
    else:
        query = query.where(_CURRENT).order_by(_c.handle)
    return [Join(**row) for row in (await conn.execute(query)).mappings()]


async def peers_of(account: str, handles: Sequence[str], *, conn: AsyncConnection) -> list[Peer]:
    """The channels of ``handles`` that ``account`` has resolved (its cached access hashes)."""
    if not handles:
        return []
    p = account_peer.c
    query = (
        select(p.handle, p.channel_id, p.access_hash)
        .where(p.account == account, p.handle.in_(list(handles)))
        .order_by(p.handle)
    )
    return [Peer(*row) for row in await conn.execute(query)]
