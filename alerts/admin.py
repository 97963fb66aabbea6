"""Inspect and retry outbox rows (``monitor alerts list|retry``, ``monitor status``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update

from alerts.errors import AlertError, OutboxEntryNotFoundError
from storage.models import alert_outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["OutboxEntry", "list_outbox", "outbox_counts", "retry", "retry_all_failed"]


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int
    idempotency_key: str
    route: str
    post_id: int | None  # None: a channel health alert
    flag_ids: list[int]
    kind: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    title: str

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.__slots__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


def _entry(row: Any) -> OutboxEntry:
    message = (row.payload or {}).get("message") or {}
    title = f"{', '.join(message.get('entities') or [])} in {message.get('channel_title') or '?'}"
    if row.kind == "health":
        channel = message.get("channel_title") or f"@{message.get('channel_username') or '?'}"
        title = f"channel health: {channel} {message.get('health') or '?'}"
    return OutboxEntry(
        id=row.id,
        idempotency_key=row.idempotency_key,
        route=row.route,
        post_id=row.post_id,
        flag_ids=[int(f) for f in row.flag_ids or []],
        kind=row.kind,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        title=title,
    )


async def list_outbox(
    engine: AsyncEngine, *, status: str | None = None, limit: int | None = 100
) -> list[OutboxEntry]:
    """Outbox rows, newest first; ``status='failed'`` for the ones that gave up."""
    query = select(alert_outbox).order_by(alert_outbox.c.id.desc())
    if status is not None:
        query = query.where(alert_outbox.c.status == status)
    if limit is not None:
        query = query.limit(limit)
    async with engine.connect() as conn:
        return [_entry(row) for row in await conn.execute(query)]


async def outbox_counts(engine: AsyncEngine) -> dict[str, int]:
    """``{status: rows}`` for every status (zeros included), for ``monitor status``."""
    counts = dict.fromkeys(("pending", "sending", "delivered", "failed"), 0)
    async with engine.connect() as conn:
        query = select(alert_outbox.c.status, func.count()).group_by(alert_outbox.c.status)
        for status, n in await conn.execute(query):
            counts[status] = int(n)
    return counts


async def retry(engine: AsyncEngine, outbox_id: int, *, now: datetime | None = None) -> None:
    """Make row ``outbox_id`` due now with a fresh attempt budget (failed or backing off)."""
    now = now or datetime.now(UTC)
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(alert_outbox.c.status, alert_outbox.c.delivered_at).where(
                    alert_outbox.c.id == outbox_id
                )
            )
        ).first()
        if row is None:
            raise OutboxEntryNotFoundError(
                f"no alert with id {outbox_id} in the outbox",
                hint="see the ids with: monitor alerts list",
            )
        if row.status == "delivered":
            raise AlertError(
                f"alert {outbox_id} was already delivered at "
                f"{row.delivered_at:%Y-%m-%d %H:%M} UTC; nothing to retry"
            )
        if row.status == "sending":
            raise AlertError(f"alert {outbox_id} is being delivered right now; try again shortly")
        result = await conn.execute(
            update(alert_outbox)
            # Checked again in the update: a worker may have claimed the row since the read.
            .where(alert_outbox.c.id == outbox_id, alert_outbox.c.status.in_(("pending", "failed")))
            .values(status="pending", attempts=0, next_attempt_at=now)
        )
        if result.rowcount == 0:
            raise AlertError(f"alert {outbox_id} is being delivered right now; try again shortly")
        await _notify(conn)


async def retry_all_failed(engine: AsyncEngine, *, now: datetime | None = None) -> int:
    """Re-queue every failed row (fresh attempt budget, due now); returns how many."""
    now = now or datetime.now(UTC)
    async with engine.begin() as conn:
        result = await conn.execute(
            update(alert_outbox)
            .where(alert_outbox.c.status == "failed")
            .values(status="pending", attempts=0, next_attempt_at=now)
        )
        if result.rowcount:
            await _notify(conn)
    return int(result.rowcount)


async def _notify(conn: AsyncConnection) -> None:
    """Wake senders in other processes (imported here: `monitor status` reads counts only)."""
    from alerts.wakeup import notify_queued

    await notify_queued(conn)
