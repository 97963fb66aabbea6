"""Deliver due outbox rows: claim atomically, render, send, mark delivered or schedule a retry.

Claiming is a compare-and-set ``UPDATE ... WHERE id = :id AND attempts = :seen AND status IN
('pending', 'sending') AND next_attempt_at <= :now`` that sets ``status = 'sending'``,
``attempts + 1`` and ``next_attempt_at = now + lease``: atomic on SQLite and PostgreSQL alike, so
two workers never both own a row, and a row left in ``sending`` by a dead worker becomes claimable
again when its lease runs out (at-least-once; receivers dedupe on the idempotency key). The claim
returns the row as it is now (``RETURNING``): a flag merged into it after it was read is sent too.
The sinks of a row are sent to concurrently, so one claim lasts at most ``send_timeout``.

Per route, rows go out strictly in creation order: only the oldest unfinished row may be sent,
so a route whose sink is down waits (with backoff) instead of reordering. Digest rows of a route
are sent together as one message once their window has ended.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import and_, or_, select, update

from alerts.attachments import read_photos
from alerts.errors import AlertDeliveryError
from alerts.message import AlertMessage
from alerts.redact import redact
from alerts.render import Renderer
from alerts.sinks.base import Sink
from storage.files import process_started
from storage.media import MediaStore
from storage.models import alert_outbox

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["DeliveryReport", "RetryPolicy", "deliver_due", "release_dead_leases", "worker_identity"]

log = structlog.get_logger(__name__)
UNFINISHED = ("pending", "sending")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``min(cap, base * 2**(attempts-1))``, minus up to
    ``jitter`` of it at random; ``failed`` after ``max_attempts``. A claim is held for ``lease``;
    a sink taking longer than ``send_timeout`` (kept below the lease; a row's sinks are sent to
    at the same time) counts as a failure."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(hours=1)
    max_attempts: int = 12
    jitter: float = 0.5
    lease: timedelta = timedelta(minutes=2)
    send_timeout: timedelta = timedelta(seconds=60)

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        raw = min(self.cap, self.base * (2 ** max(0, attempts - 1)))
        return raw * (1 - self.jitter * rng.random())


@dataclass
class DeliveryReport:
    """What one or more delivery passes did (rows, not sink calls, except ``sends``)."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    sends: int = 0
    remaining: int = 0  # unfinished rows left (set by drain)
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.retrying += other.retrying
        self.failed += other.failed
        self.sends += other.sends
        self.errors.extend(other.errors)

    def __str__(self) -> str:
        return (
            f"delivered={self.delivered} retrying={self.retrying} failed={self.failed} "
            f"remaining={self.remaining}"
        )


@dataclass
class _Pass:
    engine: AsyncEngine
    sinks: Mapping[str, Sequence[Sink]]
    renderer: Renderer
    policy: RetryPolicy
    rng: random.Random
    now: datetime
    flush_digests: bool
    owner: str | None = None
    media: MediaStore | None = None
    report: DeliveryReport = field(default_factory=DeliveryReport)

    def _due(self) -> Any:
        return or_(
            alert_outbox.c.next_attempt_at.is_(None), alert_outbox.c.next_attempt_at <= self.now
        )

    def _claiming(self) -> Any:
        """An UPDATE that claims the rows it matches: "sending", under a lease, one more try."""
        return update(alert_outbox).values(
            status="sending",
            attempts=alert_outbox.c.attempts + 1,
            next_attempt_at=self.now + self.policy.lease,
            lease_owner=self.owner,
        )

    async def claim(self, row: Any, *, ignore_due: bool = False) -> Any:
        """The row as claimed (fresh payload, ``attempts`` counted), or None if not ours."""
        due = self._due()
        if ignore_due:  # flushing a digest early: only rows nobody has tried yet
            due = and_(alert_outbox.c.status == "pending", alert_outbox.c.attempts == 0)
        async with self.engine.begin() as conn:
            result = await conn.execute(
                self._claiming()
                .where(
                    alert_outbox.c.id == row.id,
                    alert_outbox.c.attempts == row.attempts,
                    alert_outbox.c.status.in_(UNFINISHED),
                    due,
                )
                .returning(*alert_outbox.c)
            )
            return result.first()

    async def _send_one(
        self, sink: Sink, message: AlertMessage, key: str, photos: tuple[tuple[str, bytes], ...]
    ) -> str | None:
        """Send to one sink; the error text, or None when it took the message."""
        try:
            rendered = self.renderer.render(message, sink.format)
            if photos:
                rendered = replace(rendered, attachments=photos)
            await asyncio.wait_for(
                sink.send(rendered, idempotency_key=key),
                self.policy.send_timeout.total_seconds(),
            )
        except AlertDeliveryError as exc:
            return redact(str(exc))
        except TimeoutError:
            return f"{sink.name}: no answer within {self.policy.send_timeout}"
        except Exception as exc:  # a sink bug must not stop the loop or lose the row
            log.exception("alert_sink_crashed", sink=sink.name, key=key)
            # Stored and shown by `monitor alerts list`: an exception may quote the URL.
            return redact(f"{sink.name}: {type(exc).__name__}: {exc}")
        return None

    async def send(self, rows: Sequence[Any], message: AlertMessage, key: str) -> bool:
        """Send to every sink of the route not yet done; settle the (claimed) rows. True when
        delivered."""
        route = rows[0].route
        sinks = self.sinks.get(route)
        errors: list[str] = []
        done = [set((r.payload or {}).get("sent") or []) for r in rows]
        if not sinks:
            # Retrying cannot help until the route is back: fail at once, say how to recover.
            errors.append(
                f"route {route!r} is not configured (removed from channels.yaml?); restore it, "
                "then run `monitor alerts retry --all-failed`"
            )
        # Sinks may share a safe name (two webhooks on one host): number the repeats.
        seen: dict[str, int] = {}
        todo: list[tuple[str, Sink]] = []
        for sink in sinks or ():
            seen[sink.name] = seen.get(sink.name, 0) + 1
            n = seen[sink.name]
            mark = f"{key}|{sink.name}" + (f"#{n}" if n > 1 else "")
            if not all(mark in d for d in done):
                todo.append((mark, sink))
        photos = ()
        if todo and message.attachments:  # the photos the route attaches, from the media store
            async with self.engine.connect() as conn:
                photos = await read_photos(conn, self.media, message.attachments)
        outcomes = await asyncio.gather(*(self._send_one(s, message, key, photos) for _, s in todo))
        for (mark, _sink), error in zip(todo, outcomes, strict=True):
            if error is not None:
                errors.append(error)
                continue
            self.report.sends += 1
            for d in done:
                d.add(mark)
        # One retry time for all rows, so a digest that failed is retried as one message.
        retry_at = self.now + self.policy.delay(rows[0].attempts, self.rng) if errors else None
        async with self.engine.begin() as conn:
            for row, sent in zip(rows, done, strict=True):
                payload = dict(row.payload or {})
                payload["sent"] = sorted(sent)
                values: dict[str, Any] = {"payload": payload, "lease_owner": None}
                attempts = row.attempts
                if not errors:
                    values |= {"status": "delivered", "delivered_at": self.now, "last_error": None}
                elif attempts >= self.policy.max_attempts or not sinks:
                    values |= {"status": "failed", "last_error": "; ".join(errors)[:2000]}
                else:
                    values |= {
                        "status": "pending",
                        "last_error": "; ".join(errors)[:2000],
                        "next_attempt_at": retry_at,
                    }
                owned = and_(
                    alert_outbox.c.id == row.id,
                    alert_outbox.c.attempts == attempts,
                    alert_outbox.c.status == "sending",
                )
                result = await conn.execute(update(alert_outbox).where(owned).values(**values))
                if result.rowcount != 1:
                    log.warning("alert_lease_lost", route=route, outbox_id=row.id)
                    continue
                if not errors:
                    self.report.delivered += 1
                elif values["status"] == "failed":
                    self.report.failed += 1
                else:
                    self.report.retrying += 1
        if errors:
            self.report.errors.extend(errors)
            log.warning(
                "alert_delivery_failed",
                route=route,
                key=key,
                attempts=rows[0].attempts,
                error="; ".join(errors),
            )
        else:
            log.info("alert_delivered", route=route, key=key, rows=len(rows))
        return not errors

    async def claim_head(self, name: str) -> Any:
        """The route's oldest unfinished alert (digests aside), claimed, in one statement; None
        when there is none, it is not due yet (later ones wait behind it: a route's alerts leave
        in order), or another worker holds it."""
        head = (
            select(alert_outbox.c.id)
            .where(
                alert_outbox.c.route == name,
                alert_outbox.c.status.in_(UNFINISHED),
                alert_outbox.c.kind != "digest",
            )
            .order_by(alert_outbox.c.id)
            .limit(1)
            .scalar_subquery()
        )
        async with self.engine.begin() as conn:
            result = await conn.execute(
                self._claiming()
                # Rechecked on the row itself: a worker that claimed it first leaves it
                # "sending" with its lease in the future, so this matches nothing.
                .where(
                    alert_outbox.c.id == head,
                    alert_outbox.c.status.in_(UNFINISHED),
                    self._due(),
                )
                .returning(*alert_outbox.c)
            )
            return result.first()

    async def route(self, name: str, batch: int) -> None:
        handled = 0
        while handled < batch:
            head = await self.claim_head(name)
            if head is None:
                break
            handled += 1
            message = AlertMessage.from_dict(head.payload["message"])
            if not await self.send([head], message, head.idempotency_key):
                async with self.engine.connect() as conn:
                    status = (
                        await conn.execute(
                            select(alert_outbox.c.status).where(alert_outbox.c.id == head.id)
                        )
                    ).scalar()
                if status != "failed":  # retrying: later rows wait behind it
                    break
        await self.digest(name, batch)

    async def digest(self, name: str, batch: int) -> None:
        due = alert_outbox.c.next_attempt_at <= self.now
        if self.flush_digests:
            due = due | and_(alert_outbox.c.status == "pending", alert_outbox.c.attempts == 0)
        async with self.engine.connect() as conn:
            rows = list(
                await conn.execute(
                    select(alert_outbox)
                    .where(
                        alert_outbox.c.route == name,
                        alert_outbox.c.status.in_(UNFINISHED),
                        alert_outbox.c.kind == "digest",
                        due,
                    )
                    .order_by(alert_outbox.c.id)
                    .limit(batch)
                )
            )
        claimed = []
        for row in rows:
            mine = await self.claim(row, ignore_due=(row.next_attempt_at or self.now) > self.now)
            if mine is not None:
                claimed.append(mine)
        if not claimed:
            return
        items = [AlertMessage.from_dict(row.payload["message"]) for row in claimed]
        key = f"{name}:digest:{claimed[0].id}-{claimed[-1].id}:{len(claimed)}"
        await self.send(claimed, AlertMessage.digest(name, items), key)


async def deliver_due(
    engine: AsyncEngine,
    sinks: Mapping[str, Sequence[Sink]],
    *,
    now: datetime | None = None,
    batch: int = 100,
    renderer: Renderer | None = None,
    policy: RetryPolicy | None = None,
    rng: random.Random | None = None,
    flush_digests: bool = False,
    owner: str | None = None,
    media: MediaStore | None = None,
) -> DeliveryReport:
    """One pass: send every due row (up to ``batch`` per route), routes in parallel.

    ``now`` (aware UTC) is the clock for due checks, leases and backoff: tests pass it to step
    through time. ``flush_digests`` sends digest rows before their window ends (demo, shutdown).
    ``owner`` (:func:`worker_identity`) is written on the leases taken, so that a restart of
    this worker after a crash can take them back (:func:`release_dead_leases`). ``media``: the
    store the photos that routes attach are read from (without it, alerts go without them).
    """
    now = now or datetime.now(UTC)
    run = _Pass(
        engine,
        sinks,
        renderer or Renderer(),
        policy or RetryPolicy(),
        rng or random.Random(),
        now,
        flush_digests,
        owner,
        media,
    )
    async with engine.connect() as conn:
        routes = list(
            (
                await conn.execute(
                    select(alert_outbox.c.route)
                    .where(alert_outbox.c.status.in_(UNFINISHED))
                    .distinct()
                )
            ).scalars()
        )
    outcomes = await asyncio.gather(
        *(run.route(name, batch) for name in sorted(routes)), return_exceptions=True
    )
    for outcome in outcomes:  # every route finished its pass; now surface the first error
        if isinstance(outcome, BaseException):
            raise outcome
    return run.report


def worker_identity() -> str:
    """``host|pid|start``: names this process as a lease holder (a pid alone may be reused)."""
    started = process_started() or time.time()
    return f"{socket.gethostname()}|{os.getpid()}|{started:.0f}"


def _holder_is_gone(owner: str, me: str) -> bool:
    """True when ``owner`` is a process of this host that no longer runs."""
    try:
        host, pid_text, start_text = owner.rsplit("|", 2)
        pid, start = int(pid_text), float(start_text)
    except ValueError:
        return False  # not ours to judge
    if host != me.rsplit("|", 2)[0] or owner == me:
        return False  # another machine, or this very process
    if not Path("/proc/self/stat").exists():  # no /proc: ask the kernel whether the pid runs
        if pid == os.getpid():
            return True  # our pid, started at another time: an earlier life of this worker
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    started = process_started(pid)
    return started is None or abs(started - start) > 1.0  # gone, or the pid was reused


async def release_dead_leases(engine: AsyncEngine, *, owner: str, now: datetime) -> int:
    """Make the alerts that a dead worker of this host was sending due again at ``now``.

    A worker killed mid-send (kill -9, OOM, power) leaves its rows in ``sending`` until the lease
    runs out; its route waits behind them. On start a worker looks at the leases held on this
    host and releases those whose process is gone, so delivery resumes at once. Leases of live
    processes and of other hosts are left to expire as before.
    """
    async with engine.connect() as conn:
        held = (
            await conn.execute(
                select(alert_outbox.c.lease_owner)
                .where(alert_outbox.c.status == "sending", alert_outbox.c.lease_owner.is_not(None))
                .distinct()
            )
        ).scalars()
        dead = [holder for holder in held if _holder_is_gone(holder, owner)]
    if not dead:
        return 0
    async with engine.begin() as conn:
        result = await conn.execute(
            update(alert_outbox)
            .where(alert_outbox.c.status == "sending", alert_outbox.c.lease_owner.in_(dead))
            .values(next_attempt_at=now, lease_owner=None)
        )
    released = int(result.rowcount or 0)
    if released:
        log.info("alert_leases_released", n=released, holders=len(dead))
    return released
