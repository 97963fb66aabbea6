"""The alert sender: a process of its own that delivers what the workers queue in the outbox.

``monitor alerts send`` runs :func:`run_sender`. It uses the same routes (channels.yaml), sinks,
retries, per-route order and leases as a worker that sends (``alerts.OutboxWorker``), so any
number of senders and sending workers may share one outbox and each alert still goes once. On
PostgreSQL it wakes when a transaction queueing alerts commits (LISTEN/NOTIFY,
:mod:`alerts.wakeup`) and sweeps every ``poll`` seconds besides; on SQLite it polls.

Workers told not to send (``MONITOR_SEND_ALERTS=false`` or ``monitor run --no-alerts``) only
queue. channels.yaml is read again when it (or a file it includes) changes, before the next
pass, so a route a worker just started queueing for is known to the sender; SIGHUP forces it.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from pathlib import Path

import structlog

from alerts import AlertConfigError, DeliveryReport, OutboxWorker, wakes_by_notify
from monitor.alerting import Alerting
from monitor.config import Watchlist, load_watchlist
from monitor.errors import ConfigError
from monitor.media_url import media_store_for
from monitor.settings import Settings
from monitor.signals import daemon_signals
from storage import check_schema, create_engine

log = structlog.get_logger(__name__)

POLL_SQLITE = 1.0  # seconds between passes on SQLite, where nothing wakes a sender
POLL_POSTGRESQL = 30.0  # the sweep behind NOTIFY on PostgreSQL
SHUTDOWN_GRACE = 10.0  # seconds from SIGTERM to exit, as for `monitor run`
ONCE_PASSES = 1000  # --once: passes at most (each sends up to 100 alerts per route)


@dataclass
class SenderSummary:
    seconds: float
    report: DeliveryReport
    reloads: int = 0

    def line(self) -> str:
        r = self.report
        return (
            f"stopped after {self.seconds:.0f}s: {r.delivered} alerts delivered, "
            f"{r.retrying} retrying, {r.failed} failed, {self.reloads} watchlist reloads"
        )


class _Routes:
    """The sender's watchlist: read again before a pass when one of its files changed."""

    def __init__(self, settings: Settings, alerting: Alerting, watchlist: Watchlist) -> None:
        self.settings = settings
        self.alerting = alerting
        self.watchlist = watchlist
        self.stamps = self._stamps()
        self.requested = False  # SIGHUP
        self.reloads = 0

    def _stamps(self) -> dict[Path, int | None]:
        files = {self.settings.channels_file, *self.watchlist.files}
        return {path: _mtime(path) for path in files}

    async def refresh(self) -> None:
        if not self.requested and self._stamps() == self.stamps:
            return
        self.requested = False
        stamps = self._stamps()
        try:
            watchlist = await asyncio.to_thread(load_watchlist, self.settings.channels_file)
            adopt = self.alerting.prepare(watchlist)
        except (ConfigError, AlertConfigError) as exc:
            self.stamps = stamps  # reported once; the next change is read again
            hint = f"; {exc.hint}" if getattr(exc, "hint", None) else ""
            log.error("watchlist_reload_failed", error=f"{exc}{hint}", kept="previous routes")
            return
        adopt()
        self.watchlist = watchlist
        self.stamps = self._stamps()
        self.reloads += 1
        log.info("alert_routes_reloaded", routes=len(self.alerting.routes))


def _mtime(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


async def run_sender(
    settings: Settings,
    *,
    once: bool = False,
    poll: float | None = None,
    stop: asyncio.Event | None = None,
) -> SenderSummary:
    """Deliver queued alerts until SIGTERM/SIGINT (or ``stop``); with ``once``, deliver what
    is due now and return. ``poll``: seconds between sweeps (default by database, above)."""
    started = time.monotonic()
    watchlist = load_watchlist(settings.channels_file)
    media = media_store_for(settings)
    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        alerting = Alerting(
            engine,
            watchlist,
            desk_timezone=settings.desk_timezone or watchlist.alerts.timezone or "UTC",
            media=media,
            web_url=settings.web_url,
        )
        worker = alerting.worker
        routes = _Routes(settings, alerting, watchlist)
        worker.before_pass = routes.refresh
        listen = wakes_by_notify(engine)
        worker.poll_interval = poll or (POLL_POSTGRESQL if listen else POLL_SQLITE)
        if once:
            for _ in range(ONCE_PASSES):
                report = await worker.deliver_due()
                if not report.delivered + report.failed + report.retrying:
                    break
        else:
            await _run(worker, routes, stop or asyncio.Event(), listen=listen)
        summary = SenderSummary(time.monotonic() - started, worker.totals, routes.reloads)
    finally:
        await engine.dispose()
    log.info("alert_sender_stopped", summary=summary.line())
    return summary


async def _run(worker: OutboxWorker, routes: _Routes, stop: asyncio.Event, *, listen: bool) -> None:
    def reload() -> None:
        routes.requested = True
        worker.wake()

    with daemon_signals(stop, reload):
        log.info(
            "alert_sender_started",
            routes=len(routes.alerting.routes),
            wake="notify" if listen else "poll",
            sweep_seconds=worker.poll_interval,
        )
        loop = asyncio.create_task(worker.run_forever(stop, listen=True))
        stopping = asyncio.ensure_future(stop.wait())
        await asyncio.wait({loop, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if loop.done():
            loop.result()  # an unexpected end: raise it
            return
        log.info("alert_sender_stopping")
        # The pass in flight finishes within the grace; a send cut short keeps its lease and
        # is sent again (same idempotency key) once the lease runs out or this host restarts.
        done, _ = await asyncio.wait({loop}, timeout=SHUTDOWN_GRACE - 2)
        if not done:
            loop.cancel()
            await asyncio.gather(loop, return_exceptions=True)
            log.warning("alert_sender_cut_short", leases="left to expire")
