"""The delivery loop the service runs, and ``drain`` for the demo and shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import func, select

from alerts import admin
from alerts.delivery import (
    UNFINISHED,
    DeliveryReport,
    RetryPolicy,
    deliver_due,
    release_dead_leases,
    worker_identity,
)
from alerts.render import Renderer
from alerts.sinks.base import Sink
from alerts.wakeup import listen_for_queued
from storage.media import MediaStore
from storage.models import alert_outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["OutboxWorker"]

log = structlog.get_logger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


class OutboxWorker:
    """Owns the delivery loop for one process.

    ``run_forever`` passes over the outbox every ``poll_interval`` seconds, or at once after
    :meth:`wake` (the pipeline calls it after committing new flags, so alerts leave within a
    second). It survives database errors (logged, retried next pass) and stops when ``stop`` is set.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        sinks: Mapping[str, Sequence[Sink]],
        *,
        renderer: Renderer | None = None,
        policy: RetryPolicy | None = None,
        batch: int = 100,
        poll_interval: float = 1.0,
        rng: random.Random | None = None,
        clock: Callable[[], datetime] = utcnow,
        owner: str | None = None,
        media: MediaStore | None = None,  # where attached photos are read from
        before_pass: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.engine = engine
        self.media = media
        self.sinks = sinks
        self.renderer = renderer or Renderer()
        self.policy = policy or RetryPolicy()
        self.batch = batch
        self.poll_interval = poll_interval
        self.rng = rng or random.Random()
        self.clock = clock
        self.owner = owner or worker_identity()
        self._wake = asyncio.Event()
        self._released = False
        self.totals = DeliveryReport()
        #: Awaited before each pass of :meth:`run_forever` (a sender reloads its routes there).
        self.before_pass = before_pass

    def wake(self) -> None:
        """New rows were committed: deliver now instead of at the next poll."""
        self._wake.set()

    async def release_dead_leases(self) -> int:
        """Take back, once, the alerts a killed worker of this host was sending (see
        :func:`alerts.delivery.release_dead_leases`); done before the first delivery pass."""
        released = await release_dead_leases(self.engine, owner=self.owner, now=self.clock())
        self._released = True
        return released

    async def deliver_due(
        self, now: datetime | None = None, *, flush_digests: bool = False
    ) -> DeliveryReport:
        if not self._released:
            await self.release_dead_leases()
        report = await deliver_due(
            self.engine,
            self.sinks,
            now=now or self.clock(),
            batch=self.batch,
            renderer=self.renderer,
            policy=self.policy,
            rng=self.rng,
            flush_digests=flush_digests,
            owner=self.owner,
            media=self.media,
        )
        self.totals.add(report)
        return report

    async def run_forever(self, stop: asyncio.Event | None = None, *, listen: bool = False) -> None:
        """Deliver until ``stop`` is set.

        ``listen`` (a sender of its own, ``monitor alerts send``): also wake when another
        process queues alerts (PostgreSQL's NOTIFY, see :mod:`alerts.wakeup`), pass again at
        once while passes find work (a backlog larger than ``batch``), and sleep no longer than
        until the next retry or lease falls due; ``poll_interval`` is then only the sweep that
        catches what a lost notification missed.
        """
        stop = stop or asyncio.Event()
        log.info("alert_worker_started", routes=len(self.sinks))
        listener = None
        if listen:
            listener = asyncio.create_task(listen_for_queued(self.engine, self.wake, stop))
        try:
            while not stop.is_set():
                self._wake.clear()
                wait = self.poll_interval
                try:
                    if self.before_pass is not None:
                        await self.before_pass()
                    report = await self.deliver_due()
                    if listen:
                        if report.delivered + report.failed + report.retrying:
                            continue  # there may be more: pass again before sleeping
                        wait = await self._until_due(wait)
                except Exception:  # DB blip, sink bug: log with traceback, try again next pass
                    log.exception("alert_pass_failed")
                await self._sleep(wait, stop)
        finally:
            if listener is not None:
                listener.cancel()
                await asyncio.gather(listener, return_exceptions=True)
        log.info("alert_worker_stopped", summary=str(self.totals))

    async def drain(self, timeout: float, *, flush_digests: bool = True) -> DeliveryReport:  # noqa: ASYNC109
        """Deliver until nothing is pending (or ``timeout`` seconds pass); digests go out early.

        Rows backing off are waited for while the deadline allows; whatever is left is counted
        in ``remaining`` and stays in the outbox for the next run.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        report = DeliveryReport()
        while True:
            report.add(await self.deliver_due(flush_digests=flush_digests))
            remaining, next_due = await self._unfinished()
            report.remaining = remaining
            left = deadline - loop.time()
            if remaining == 0 or left <= 0:
                return report
            wait = 0.05
            if next_due is not None:
                wait = max(wait, (next_due - self.clock()).total_seconds())
            await self._sleep(min(wait, left), None)

    async def retry(self, outbox_id: int) -> None:
        await admin.retry(self.engine, outbox_id, now=self.clock())
        self.wake()

    async def retry_all_failed(self) -> int:
        n = await admin.retry_all_failed(self.engine, now=self.clock())
        self.wake()
        return n

    async def _until_due(self, longest: float) -> float:
        """Seconds until the next unfinished row falls due (a retry, a digest window, another
        sender's lease), at most ``longest``."""
        now = self.clock()
        async with self.engine.connect() as conn:
            next_due = (
                await conn.execute(
                    select(func.min(alert_outbox.c.next_attempt_at)).where(
                        alert_outbox.c.status.in_(UNFINISHED),
                        alert_outbox.c.next_attempt_at > now,
                    )
                )
            ).scalar()
        if next_due is None:
            return longest
        if isinstance(next_due, str):  # SQLite aggregates lose the column type
            next_due = datetime.fromisoformat(next_due)
        if next_due.tzinfo is None:
            next_due = next_due.replace(tzinfo=UTC)
        return max(0.05, min(longest, (next_due - now).total_seconds()))

    async def _unfinished(self) -> tuple[int, datetime | None]:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(func.count(), func.min(alert_outbox.c.next_attempt_at)).where(
                        alert_outbox.c.status.in_(UNFINISHED)
                    )
                )
            ).one()
        next_due = row[1]
        if isinstance(next_due, str):  # SQLite aggregates lose the column type
            next_due = datetime.fromisoformat(next_due)
        if next_due is not None and next_due.tzinfo is None:
            next_due = next_due.replace(tzinfo=UTC)
        return int(row[0]), next_due

    async def _sleep(self, seconds: float, stop: asyncio.Event | None) -> None:
        waiters = [asyncio.ensure_future(self._wake.wait())]
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter
