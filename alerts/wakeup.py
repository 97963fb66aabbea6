"""Waking a sender in another process when alerts are queued: PostgreSQL's LISTEN/NOTIFY.

Whatever queues outbox rows calls :func:`notify_queued` in the same transaction: PostgreSQL
delivers the notification when (and only if) the transaction commits, so a sender never wakes
for rows it cannot see yet, and several notifications of one transaction arrive as one.
:func:`listen_for_queued` holds one connection that LISTENs and calls ``wake`` for each
notification, reconnecting after a lost connection; senders keep a periodic sweep as the
fallback for anything missed meanwhile. On SQLite both are no-ops (senders poll).

The channel is named after the schema the tables live in (``?schema=NAME`` of the URL), so
archives sharing one PostgreSQL server do not wake each other's senders.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import text

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

__all__ = ["listen_for_queued", "notify_queued", "wakes_by_notify"]

log = structlog.get_logger(__name__)

# One SQL expression for both ends: the channel of the schema the connection works in. A hash
# keeps it within PostgreSQL's 63-byte identifiers whatever the schema's name.
_CHANNEL = "'monitor_alerts_' || left(md5(coalesce(current_schema(), '')), 12)"
RECONNECT_FIRST = 1.0  # seconds before listening again after a lost connection, doubling
RECONNECT_MAX = 30.0


def wakes_by_notify(engine: AsyncEngine) -> bool:
    """True when senders on this database can be woken by :func:`notify_queued`."""
    return engine.dialect.name == "postgresql"


async def notify_queued(conn: AsyncConnection) -> None:
    """Tell listening senders that alerts were queued, when this transaction commits."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text(f"SELECT pg_notify({_CHANNEL}, '')"))


async def listen_for_queued(
    engine: AsyncEngine,
    wake: Callable[[], None],
    stop: asyncio.Event,
    *,
    on_listening: Callable[[], None] | None = None,
) -> None:
    """Call ``wake()`` whenever alerts are queued, until ``stop`` is set (PostgreSQL only).

    A lost connection (the server restarted, a network cut) is logged and listened again
    with back-off; ``wake()`` is also called on each new start, since notifications sent
    while nobody listened are lost. ``on_listening`` is called each time listening starts.
    """
    if not wakes_by_notify(engine):
        return
    delay = RECONNECT_FIRST
    while not stop.is_set():
        try:
            await _listen_once(engine, wake, stop, on_listening)
            delay = RECONNECT_FIRST
        except Exception as exc:  # noqa: BLE001 - the sweep covers the gap; listen again
            log.warning(
                "alert_listen_failed",
                error=f"{type(exc).__name__}: {exc}".splitlines()[0],
                retry_in=f"{delay:.0f}s",
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(RECONNECT_MAX, delay * 2)


async def _listen_once(
    engine: AsyncEngine,
    wake: Callable[[], None],
    stop: asyncio.Event,
    on_listening: Callable[[], None] | None,
) -> None:
    """Listen on one connection until ``stop`` or until the connection is lost."""
    lost = asyncio.Event()
    async with engine.connect() as conn:
        channel = str((await conn.execute(text(f"SELECT {_CHANNEL}"))).scalar_one())
        # Out of the transaction SQLAlchemy began: notifications reach a session only
        # between transactions.
        await conn.rollback()
        raw = (await conn.get_raw_connection()).driver_connection
        assert raw is not None

        def notified(*_args: Any) -> None:
            wake()

        def terminated(*_args: Any) -> None:
            lost.set()

        raw.add_termination_listener(terminated)
        await raw.add_listener(channel, notified)
        try:
            log.info("alert_listen_started", channel=channel)
            wake()  # anything queued before we listened
            if on_listening is not None:
                on_listening()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            if lost.is_set():
                raise ConnectionError("the listening connection was closed")
        finally:
            raw.remove_termination_listener(terminated)
            # Not back to the pool with a LISTEN on it: this connection is closed.
            with contextlib.suppress(Exception):
                await conn.invalidate()
