"""Channel health alerts in the outbox: the same table, worker, retries and ordering as flag
alerts, so they are delivered with the same guarantees (at least once, in order per route,
keyed for deduplication by the receiver).

A health row has no post (``post_id`` NULL) and ``kind = 'health'``; its payload is an
:class:`~alerts.message.AlertMessage` of kind ``health``. The idempotency key names the channel,
its problem episode and the event (``{route}:health:{handle}:{episode}:{problem|recovered}``),
so queuing the same event twice (say, after a crash before the state was saved) adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select

from alerts.message import AlertMessage
from alerts.routes import Route
from alerts.wakeup import notify_queued
from storage.engine import dialect_insert
from storage.models import alert_outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["enqueue_health"]

log = structlog.get_logger(__name__)


async def enqueue_health(
    *,
    conn: AsyncConnection,
    routes: Iterable[Route],
    handle: str,
    episode: int,
    message: AlertMessage,
    now: datetime | None = None,
) -> list[int]:
    """Queue ``message`` (kind ``health``) on every route with ``health`` that covers the
    channel; returns the new row ids. Call it in the transaction that records the change."""
    if message.kind != "health" or not message.health:
        raise ValueError("enqueue_health() takes a health message (kind 'health', its event)")
    now = now or datetime.now(UTC)
    channel_id = message.channel_id or None
    rows = []
    for route in routes:
        if not route.health or not route.wants_channel(channel_id, message.channel_username):
            continue
        routed = AlertMessage.from_dict({**message.to_dict(), "route": route.name})
        key = f"{route.name}:health:{handle}:{episode}:{message.health}"
        rows.append(
            {
                "idempotency_key": key,
                "route": route.name,
                "post_id": None,
                "flag_ids": [],
                "kind": "health",
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
                "payload": {"message": routed.to_dict(), "sent": []},
            }
        )
    if not rows:
        return []
    insert = dialect_insert(conn)(alert_outbox).on_conflict_do_nothing(
        index_elements=["idempotency_key"]
    )
    await conn.execute(insert, rows)
    await notify_queued(conn)
    keys = [row["idempotency_key"] for row in rows]
    found = await conn.execute(
        select(alert_outbox.c.id).where(alert_outbox.c.idempotency_key.in_(keys))
    )
    ids = sorted(int(i) for i in found.scalars())
    log.info("health_alert_queued", channel=handle, health=message.health, routes=len(rows))
    return ids
