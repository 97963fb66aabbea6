"""Collector state per (account, channel): cursor, schedule, flood waits and error streaks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, case, or_, select, update

from storage.engine import dialect_insert
from storage.models import collector_state

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "CollectorState",
    "advance_cursor",
    "get_state",
    "list_states",
    "park",
    "record_error",
    "record_success",
    "schedule",
    "stamp_polls",
]


@dataclass(frozen=True, slots=True)
class CollectorState:
    account: str
    channel_id: int
    last_message_id: int
    last_poll_at: datetime | None
    next_poll_at: datetime | None
    flood_wait_until: datetime | None
    consecutive_errors: int
    last_error: str | None
    updated_at: datetime


async def get_state(
    account: str, channel_id: int, *, conn: AsyncConnection
) -> CollectorState | None:
    query = select(collector_state).where(
        collector_state.c.account == account, collector_state.c.channel_id == channel_id
    )
    row = (await conn.execute(query)).mappings().first()
    return None if row is None else CollectorState(**row)


async def list_states(*, conn: AsyncConnection) -> list[CollectorState]:
    query = select(collector_state).order_by(
        collector_state.c.account, collector_state.c.channel_id
    )
    return [CollectorState(**row) for row in (await conn.execute(query)).mappings()]


async def _upsert(
    account: str,
    channel_id: int,
    at: datetime,
    conn: AsyncConnection,
    insert_values: dict[str, Any],
    update_values: dict[str, Any],
) -> CollectorState:
    row_values: dict[str, Any] = {
        "account": account,
        "channel_id": channel_id,
        "last_message_id": 0,
        "consecutive_errors": 0,
        "updated_at": at,
    }
    insert = dialect_insert(conn)(collector_state).values({**row_values, **insert_values})
    statement = insert.on_conflict_do_update(
        index_elements=["account", "channel_id"],
        set_={"updated_at": insert.excluded.updated_at, **update_values},
    ).returning(*collector_state.c)
    row = (await conn.execute(statement)).mappings().one()
    return CollectorState(**row)


async def advance_cursor(
    account: str,
    channel_id: int,
    last_message_id: int,
    *,
    conn: AsyncConnection,
    polled_at: datetime,
    next_poll_at: datetime | None = None,
) -> CollectorState:
    """Move the cursor forward to ``last_message_id`` (never backwards) and note the poll time."""
    column = collector_state.c.last_message_id
    values: dict[str, Any] = {"last_message_id": last_message_id, "last_poll_at": polled_at}
    updates: dict[str, Any] = {
        "last_message_id": case((column < last_message_id, last_message_id), else_=column),
        "last_poll_at": polled_at,
    }
    if next_poll_at is not None:
        values["next_poll_at"] = updates["next_poll_at"] = next_poll_at
    return await _upsert(account, channel_id, polled_at, conn, values, updates)


async def schedule(
    account: str, channel_id: int, next_poll_at: datetime, *, conn: AsyncConnection, at: datetime
) -> CollectorState:
    """Set when the channel should be polled next."""
    values = {"next_poll_at": next_poll_at}
    return await _upsert(account, channel_id, at, conn, values, values)


async def park(
    account: str, channel_id: int, until: datetime, *, conn: AsyncConnection, at: datetime
) -> CollectorState:
    """A flood wait: do not poll this channel before ``until``."""
    values = {"flood_wait_until": until, "next_poll_at": until}
    return await _upsert(account, channel_id, at, conn, values, values)


async def record_error(
    account: str, channel_id: int, error: str, *, conn: AsyncConnection, at: datetime
) -> CollectorState:
    """Count one more consecutive failure and keep its message (returned state has the count)."""
    return await _upsert(
        account,
        channel_id,
        at,
        conn,
        {"consecutive_errors": 1, "last_error": error},
        {
            "consecutive_errors": collector_state.c.consecutive_errors + 1,
            "last_error": error,
        },
    )


async def record_success(
    account: str, channel_id: int, *, conn: AsyncConnection, at: datetime
) -> CollectorState:
    """Reset the error streak and any flood wait after a successful request."""
    values = {"consecutive_errors": 0, "last_error": None, "flood_wait_until": None}
    return await _upsert(account, channel_id, at, conn, values, values)


async def stamp_polls(account: str, polled: dict[int, datetime], *, conn: AsyncConnection) -> None:
    """Note when channels were last polled (idle polls, written in one batch), never moving a
    stored poll time backwards. Channels without state are left alone."""
    if not polled:
        return
    c = collector_state.c
    statement = (
        update(collector_state)
        .where(
            c.account == bindparam("b_account"),
            c.channel_id == bindparam("b_channel_id"),
            or_(c.last_poll_at.is_(None), c.last_poll_at < bindparam("b_at")),
        )
        .values(last_poll_at=bindparam("b_at"), updated_at=bindparam("b_at"))
    )
    await conn.execute(
        statement,
        [
            {"b_account": account, "b_channel_id": channel_id, "b_at": at}
            for channel_id, at in polled.items()
        ],
    )
