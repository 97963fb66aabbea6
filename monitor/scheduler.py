"""Scheduling: one APScheduler job per enabled channel, flood waits as data, error back-off.

A flood wait parks only its channel (the pipeline persists it; the job's next run moves past
it). Repeated errors push a channel's next poll out exponentially. Changing the watchlist
adds, removes or reschedules jobs without touching the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:  # `monitor status` imports backoff() without Telethon or APScheduler
    from telethon import TelegramClient

    from monitor.config import ChannelSpec, Watchlist
    from monitor.pipeline import ChannelReport, Pipeline

log = structlog.get_logger(__name__)

MAX_BACKOFF = timedelta(hours=1)
RECHECK_EVERY = timedelta(minutes=30)


def backoff(poll_every: timedelta, consecutive_errors: int) -> timedelta:
    """Delay before the next poll after ``consecutive_errors`` failures in a row (capped)."""
    if consecutive_errors <= 0:
        return poll_every
    return min(poll_every * 2 ** (consecutive_errors - 1), max(MAX_BACKOFF, poll_every))


class ChannelScheduler:
    """Owns the AsyncIOScheduler and the per-channel jobs of one Telegram account."""

    def __init__(
        self,
        pipeline: Pipeline,
        client: TelegramClient,
        *,
        max_concurrent: int = 4,
        recheck_every: timedelta = RECHECK_EVERY,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.pipeline = pipeline
        self.client = client
        self.recheck_every = recheck_every
        self.now = now
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.specs: dict[str, ChannelSpec] = {}
        self.errors: dict[str, int] = {}
        self.reports: dict[str, ChannelReport] = {}
        self.totals = {"polls": 0, "new": 0, "changed": 0, "deleted": 0, "errors": 0}
        # Account-wide limit on concurrent Telegram work. Flood waits never sleep in here:
        # the client's flood_sleep_threshold is 0, so a wait comes back as data at once.
        self._slots = asyncio.Semaphore(max_concurrent)
        self._inflight: set[asyncio.Task[object]] = set()
        self._pending: set[asyncio.Task[object]] = set()
        self._busy: set[str] = set()  # job ids whose run is under way
        self._again: set[str] = set()  # ... and were nudged meanwhile

    def start(self, watchlist: Watchlist) -> None:
        self.apply(watchlist)
        self.scheduler.start()

    def apply(self, watchlist: Watchlist) -> None:
        """Make the jobs match ``watchlist``: add new channels, drop removed, reschedule changed."""
        from apscheduler.triggers.interval import IntervalTrigger

        wanted = {spec.key: spec for spec in watchlist.enabled_channels()}
        for key in self.specs.keys() - wanted.keys():
            for job_id in (f"poll:{key}", f"recheck:{key}"):
                if self.scheduler.get_job(job_id):
                    self.scheduler.remove_job(job_id)
            del self.specs[key]
            log.info("channel_unscheduled", channel=key)
        for key, spec in wanted.items():
            old = self.specs.get(key)
            self.specs[key] = spec
            if old is not None and old.poll_every == spec.poll_every:
                continue  # label, tags, backfill: read from self.specs at the next run
            every = spec.poll_every.total_seconds()
            # A new channel is polled at once; a rescheduled one keeps to its new interval.
            first_run = {} if old else {"next_run_time": self.now()}
            self.scheduler.add_job(
                self.poll,
                IntervalTrigger(seconds=every, jitter=max(1, int(every * 0.1))),
                args=[key],
                id=f"poll:{key}",
                name=f"poll @{key}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(every),
                **first_run,
            )
            self.scheduler.add_job(
                self.recheck,
                IntervalTrigger(seconds=self.recheck_every.total_seconds(), jitter=30),
                args=[key],
                id=f"recheck:{key}",
                name=f"recheck @{key}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
            )
            log.info("channel_scheduled", channel=key, every=str(spec.poll_every))

    async def poll(self, key: str) -> ChannelReport | None:
        return await self._run_job(key, "poll")

    async def recheck(self, key: str) -> ChannelReport | None:
        return await self._run_job(key, "recheck")

    async def _run_job(self, key: str, job: str) -> ChannelReport | None:
        """One run of a job; once more at once if nudged while it ran (its pass may have fetched
        before the update, and APScheduler skips a run of a job that is still running)."""
        job_id = f"{job}:{key}"
        self._busy.add(job_id)
        try:
            while True:
                self._again.discard(job_id)
                report = await self._run(key, job)
                if report is None or not report.ok or job_id not in self._again:
                    return report
        finally:
            self._busy.discard(job_id)
            self._again.discard(job_id)

    async def recheck_ids(self, key: str, ids: list[int]) -> ChannelReport | None:
        """Re-fetch exactly ``ids`` (named by a pushed edit or deletion)."""
        return await self._run(key, "recheck", ids)

    def recheck_soon(self, key: str, ids: list[int]) -> None:
        """Schedule :meth:`recheck_ids` from an update handler (keeps the task referenced)."""
        task = asyncio.create_task(self.recheck_ids(key, ids))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _run(self, key: str, job: str, ids: list[int] | None = None) -> ChannelReport | None:
        # The pass starts only once it holds a slot (the account-wide limit), and not at all
        # after shutdown began.
        async with self._slots:
            spec = self.specs.get(key)
            if spec is None or self.pipeline.stopping.is_set():
                return None
            task = asyncio.ensure_future(self._pass(key, spec, job, ids))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            # Shielded: shutting APScheduler down cancels its job tasks, but a pass that has
            # started finishes its batch (``shutdown`` waits for it within the grace period).
            return await asyncio.shield(task)

    async def _pass(
        self, key: str, spec: ChannelSpec, job: str, ids: list[int] | None
    ) -> ChannelReport:
        if job == "poll":
            report = await self.pipeline.collect(self.client, spec)
        else:
            report = await self.pipeline.recheck(self.client, spec, ids=ids)
        self._after(key, spec, report, job_id=f"{job}:{key}")
        return report

    def _after(self, key: str, spec: ChannelSpec, report: ChannelReport, *, job_id: str) -> None:
        self.reports[key] = report
        self.totals["polls"] += 1
        self.totals["new"] += report.new
        self.totals["changed"] += report.changed
        self.totals["deleted"] += report.deleted
        job = self.scheduler.get_job(job_id)
        if report.parked_until is not None:
            if job:
                job.modify(next_run_time=report.parked_until)
            return
        if report.error is not None:
            self.totals["errors"] += 1
            self.errors[key] = self.errors.get(key, 0) + 1
            delay = backoff(spec.poll_every, self.errors[key])
            log.warning("channel_backoff", channel=key, errors=self.errors[key], delay=str(delay))
            if job:
                job.modify(next_run_time=self.now() + delay)
            return
        self.errors.pop(key, None)

    def nudge(self, key: str, *, job: str = "poll") -> None:
        """Run ``key``'s poll (or re-check) now: a pushed update said something changed."""
        if f"{job}:{key}" in self._busy:
            self._again.add(f"{job}:{key}")  # the run under way goes once more when done
            return
        scheduled = self.scheduler.get_job(f"{job}:{key}")
        if scheduled is not None:
            scheduled.modify(next_run_time=self.now())

    async def shutdown(self, *, grace: float = 10.0) -> None:
        """Stop scheduling; let in-flight passes finish their batch within ``grace`` seconds."""
        self.pipeline.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)  # cancels job tasks; the passes are shielded
        pending = set(self._inflight)
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=1)
