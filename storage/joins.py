"""Which account joined which channel (live updates), shared by every worker.

An ``account_join`` row per channel: inserting it is the claim, so of two workers claiming the
same channel at once one inserts and the other finds the row taken (the primary key decides, on
PostgreSQL and SQLite alike). An account's rows count against its join limit; the count and the
insert run under a lock on the account's lease row (``FOR UPDATE``; SQLite has one writer).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, select

from storage.engine import dialect_insert
from storage.models import account_join, account_peer, worker_lease

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["Join", "Peer", "claim", "joined_count", "list_joins", "peers_of", "unclaim"]


@dataclass(frozen=True, slots=True)
class Join:
    channel_id: int
    handle: str
    account: str
    joined_at: datetime


@dataclass(frozen=True, slots=True)
class Peer:
    handle: str
    channel_id: int
    access_hash: int


async def joined_count(account: str, *, conn: AsyncConnection) -> int:
    query = select(func.count()).select_from(account_join).where(account_join.c.account == account)
    return int((await conn.execute(query)).scalar_one())


async def claim(
    account: str,
    channel_id: int,
    handle: str,
    *,
    limit: int | None,
    conn: AsyncConnection,
    at: datetime,
) -> bool:
    """Record that ``account`` joins ``channel_id``, if no account has and ``account`` has
    fewer than ``limit`` channels (``None``: no limit, for a channel it is already in).

    True if the row is now ``account``'s (claimed now or before), False if another account
    holds the channel or the limit is reached.
    """
    # One claim per account at a time: the count below cannot be overtaken.
    await conn.execute(
        select(worker_lease.c.name)
        .where(worker_lease.c.kind == "account", worker_lease.c.name == account)
        .with_for_update()
    )
    owner = (
        await conn.execute(
            select(account_join.c.account).where(account_join.c.channel_id == channel_id)
        )
    ).scalar()
    if owner is not None:
        return owner == account
    if limit is not None and await joined_count(account, conn=conn) >= limit:
        return False
    insert = dialect_insert(conn)(account_join).values(
        channel_id=channel_id, handle=handle, account=account, joined_at=at
    )
    result = await conn.execute(
        insert.on_conflict_do_nothing(index_elements=["channel_id"]).returning(
            account_join.c.account
        )
    )
    return result.scalar() == account


async def unclaim(account: str, channel_id: int, *, conn: AsyncConnection) -> None:
    """Forget ``account``'s claim (the join failed, or the account left the channel)."""
    c = account_join.c
    await conn.execute(delete(account_join).where(c.account == account, c.channel_id == channel_id))


async def list_joins(*, conn: AsyncConnection) -> list[Join]:
    rows = (await conn.execute(select(account_join).order_by(account_join.c.handle))).mappings()
    return [Join(**row) for row in rows]


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
