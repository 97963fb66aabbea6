"""Channels, their history (snapshots) and per-account access hashes (peers)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from storage.engine import dialect_insert
from storage.models import account_peer, channel, channel_snapshot
from storage.records import ChannelRecord

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["get_channel", "get_peer", "list_channels", "save_peer", "upsert_channel"]

_TRACKED = ("username", "title", "about", "subscribers")


def _fields(record: ChannelRecord) -> dict[str, Any]:
    return {
        "username": record.username,
        "title": record.title,
        "about": record.about,
        "subscribers": record.subscribers,
    }


async def upsert_channel(
    record: ChannelRecord, *, conn: AsyncConnection, seen_at: datetime
) -> bool:
    """Insert or update a channel; add a ``channel_snapshot`` row only when a field changed.

    Returns True when the channel is new or changed.
    """
    fields = _fields(record)
    current = (
        await conn.execute(
            select(*(channel.c[name] for name in _TRACKED)).where(channel.c.id == record.channel_id)
        )
    ).first()
    if current is None:
        insert = dialect_insert(conn)(channel).values(
            id=record.channel_id, first_seen_at=seen_at, updated_at=seen_at, **fields
        )
        result = await conn.execute(insert.on_conflict_do_nothing(index_elements=["id"]))
        if result.rowcount == 0:  # a concurrent writer got there first: compare with theirs
            return await upsert_channel(record, conn=conn, seen_at=seen_at)
    elif dict(current._mapping) == fields:
        return False
    else:
        await conn.execute(
            update(channel)
            .where(channel.c.id == record.channel_id)
            .values(updated_at=seen_at, **fields)
        )
    await conn.execute(
        channel_snapshot.insert().values(
            channel_id=record.channel_id, captured_at=seen_at, **fields
        )
    )
    return True


async def get_channel(channel_id: int, *, conn: AsyncConnection) -> ChannelRecord | None:
    row = (await conn.execute(select(channel).where(channel.c.id == channel_id))).first()
    if row is None:
        return None
    return ChannelRecord(channel_id=row.id, **{name: row._mapping[name] for name in _TRACKED})


async def list_channels(*, conn: AsyncConnection) -> list[ChannelRecord]:
    rows = await conn.execute(select(channel).order_by(channel.c.id))
    return [
        ChannelRecord(channel_id=row.id, **{name: row._mapping[name] for name in _TRACKED})
        for row in rows
    ]


async def get_peer(account: str, handle: str, *, conn: AsyncConnection) -> tuple[int, int] | None:
    """The cached ``(channel_id, access_hash)`` for ``handle`` as seen by ``account``."""
    row = (
        await conn.execute(
            select(account_peer.c.channel_id, account_peer.c.access_hash).where(
                account_peer.c.account == account, account_peer.c.handle == handle
            )
        )
    ).first()
    return None if row is None else (row.channel_id, row.access_hash)


async def save_peer(
    account: str,
    handle: str,
    channel_id: int,
    access_hash: int,
    *,
    conn: AsyncConnection,
    resolved_at: datetime,
) -> None:
    """Cache a resolved peer. A channel maps to one handle per account: an older handle for the
    same channel (say, before a rename) is replaced."""
    await conn.execute(
        delete(account_peer).where(
            account_peer.c.account == account,
            account_peer.c.channel_id == channel_id,
            account_peer.c.handle != handle,
        )
    )
    insert = dialect_insert(conn)(account_peer).values(
        account=account,
        handle=handle,
        channel_id=channel_id,
        access_hash=access_hash,
        resolved_at=resolved_at,
    )
    await conn.execute(
        insert.on_conflict_do_update(
            index_elements=["account", "handle"],
            set_={
                "channel_id": insert.excluded.channel_id,
                "access_hash": insert.excluded.access_hash,
                "resolved_at": insert.excluded.resolved_at,
            },
        )
    )
