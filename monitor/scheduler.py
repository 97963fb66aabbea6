"""Scheduling: one APScheduler job per enabled channel, flood waits as data, error back-off.

A flood wait parks only its channel (the pipeline persists it; the job's next run moves past
it). Repeated errors push a channel's next poll out exponentially. Changing the watchlist
adds, removes or reschedules jobs without touching the others.

A job only queues its pass for the account's worker slots (:mod:`monitor.slots`) and returns:
a channel whose pass is still queued or running skips that run (counted, not logged), so a
slow pass never piles up runs. Passes caused by pushed updates wait in their own lane, served
before scheduled ones, so alerts stay quick when scheduled polls fill every slot.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.budget import PUSHED
from monitor.log import get_logger
from monitor.slots import Slots, Ticket

if TYPE_CHECKING:  # `monitor status` imports backoff() without Telethon or APScheduler
    from telethon import TelegramClient
    from telethon.tl.types import Message

    from monitor.config import ChannelSpec, Watchlist
    from monitor.pipeline import ChannelReport, Pipeline

log = get_logger(__name__)  # structlog loads when it first logs
ReportHook = Callable[..., Awaitable[None]]  # (spec, report, *, job) after each pass

MAX_BACKOFF = timedelta(hours=1)
RECHECK_EVERY = timedelta(minutes=30)
FLUSH_EVERY = timedelta(seconds=15)  # idle polls' times are written in one batch this often
CANCEL_MARGIN = 1.0  # seconds of a shutdown's grace kept for cancelling late passes
FIRST_RUNS_PER_SECOND = 50  # new channels' first polls are spread out at about this rate
# At start, every channel is re-checked (catch-up after downtime) this long after start, spread
# at about this rate (a re-check also asks for channel info, one of Telegram's tighter limits).
CATCH_UP_AFTER = timedelta(seconds=2)
CATCH_UP_PER_SECOND = 5
# An account's first passes, with the polls of the channels already started, stay within this
# share of its getHistory budget per 30 s (the rest is headroom: interval jitter, bigger
# batches, gaps in pushed updates); each new channel costs what :func:`first_pass_calls` says.
FIRST_PASS_SHARE = 0.8
BUDGET_WINDOW = 30.0
HISTORY_PAGE = 100  # messages.getHistory's most messages per call (monitor.collector.PAGE_SIZE)


def first_pass_calls(backfill: int) -> int:
    """getHistory calls of a new channel's first pass: one page of the newest ``backfill``
    messages, or for a longer backfill (or none) the floor, then a page per hundred, the last
    one short."""
    if 0 < backfill <= HISTORY_PAGE:
        return 1
    return 2 + backfill // HISTORY_PAGE


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
        pushed_slots: int = 1,
        recheck_every: timedelta = RECHECK_EVERY,
        flush_every: timedelta = FLUSH_EVERY,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_report: Sequence[ReportHook] = (),
        history_per_30s: int | None = None,
    ) -> None:
        from apscheduler.schedulers.asyncio import AsyncIOScheduler

        self.pipeline = pipeline
        self.client = client
        self.on_report = list(on_report)  # e.g. monitor.health: told of every finished pass
        self.recheck_every = recheck_every
        self.now = now
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.specs: dict[str, ChannelSpec] = {}
        self.errors: dict[str, int] = {}
        self.reports: dict[str, ChannelReport] = {}
        self.flush_every = flush_every
        self.totals = {
            "polls": 0,
            "new": 0,
            "changed": 0,
            "deleted": 0,
            "errors": 0,
            "skipped": 0,  # scheduled runs skipped: the channel's pass was still queued/running
        }
        # Account-wide limit on concurrent Telegram work, plus slots only pushed work may use.
        # Flood waits never sleep in here: the client's flood_sleep_threshold is 0, so a wait
        # comes back as data at once.
        self._slots = Slots(max_concurrent, reserved=pushed_slots)
        self._inflight: set[asyncio.Task[object]] = set()
        self._pending: set[asyncio.Task[object]] = set()
        self._busy: dict[str, Ticket] = {}  # job ids whose run is queued or under way
        self._again: set[str] = set()  # ... and were nudged while under way
        # New messages pushed as updates, per channel, until its next poll takes them.
        self._inbox: dict[str, list[Message]] = {}
        # Several workers (monitor.workers): only the channels this one holds a lease on.
        self.owns: Callable[[str], bool] = lambda _key: True
        # The account's getHistory budget per 30 s: new channels' first passes are paced to it
        # (None: only spread at FIRST_RUNS_PER_SECOND). Channels taken later queue behind the
        # first passes already scheduled.
        self.history_per_30s = history_per_30s
        # Scheduled first passes still to come: (when, getHistory calls).
        self._first_passes: list[tuple[datetime, int]] = []

    def start(self, watchlist: Watchlist) -> None:
        from apscheduler.triggers.interval import IntervalTrigger

        self.apply(watchlist)
        self.scheduler.add_job(
            self._flush_job,
            IntervalTrigger(seconds=self.flush_every.total_seconds()),
            id="flush",
            name="write idle polls' times",
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.start()

    def apply(self, watchlist: Watchlist) -> None:
        """Make the jobs match ``watchlist``: add new channels, drop removed, reschedule changed."""
        from apscheduler.triggers.interval import IntervalTrigger

        wanted = {spec.key: spec for spec in watchlist.enabled_channels() if self.owns(spec.key)}
        # New channels' first polls are spread (not all at once when a thousand start together).
        added = len(wanted.keys() - self.specs.keys())
        spread = added / FIRST_RUNS_PER_SECOND
        catch_up = added / CATCH_UP_PER_SECOND
        first_runs = iter(
            self._first_run_times(
                [
                    (s.poll_every.total_seconds(), first_pass_calls(s.backfill))
                    for k, s in wanted.items()
                    if k not in self.specs
                ],
                [s.poll_every.total_seconds() for k, s in wanted.items() if k in self.specs],
            )
        )
        for key in self.specs.keys() - wanted.keys():
            for job_id in (f"poll:{key}", f"recheck:{key}"):
                if self.scheduler.get_job(job_id):
                    self.scheduler.remove_job(job_id)
            del self.specs[key]
            self._inbox.pop(key, None)
            log.info("channel_unscheduled", channel=key)
        for key, spec in wanted.items():
            old = self.specs.get(key)
            self.specs[key] = spec
            if old is not None and old.poll_every == spec.poll_every:
                continue  # label, tags, backfill: read from self.specs at the next run
            every = spec.poll_every.total_seconds()
            # A new channel is polled soon; a rescheduled one keeps to its new interval.
            first_run: dict[str, datetime] = {}
            if not old:
                paced = next(first_runs)
                at = paced or self.now() + timedelta(seconds=_jitter(min(spread, every)))
                first_run = {"next_run_time": at}
            self.scheduler.add_job(
                self._due,
                IntervalTrigger(seconds=every, jitter=max(1, int(every * 0.1))),
                args=[key, "poll"],
                id=f"poll:{key}",
                name=f"poll @{key}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(every),
                **first_run,
            )
            self.scheduler.add_job(
                self._due,
                IntervalTrigger(seconds=self.recheck_every.total_seconds(), jitter=30),
                args=[key, "recheck"],
                id=f"recheck:{key}",
                name=f"recheck @{key}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                # Catch-up: a channel new to this run (every channel, at start) is re-checked
                # soon after its first poll, so edits and deletions made while the daemon was
                # down are recorded now, not in 30 minutes. Spread out, as the first polls are.
                # A rescheduled channel keeps its turn.
                # Paced to a budget: after the channel's first pass, never before it.
                **({} if old else {"next_run_time": self._catch_up_time(catch_up, first_run)}),
            )
            log.info("channel_scheduled", channel=key, every=str(spec.poll_every))

    def _first_run_times(
        self, new: list[tuple[float, int]], kept_every: list[float]
    ) -> list[datetime | None]:
        """When new channels (``(poll interval in seconds, first-pass calls)`` each) run their
        first passes: with the polls of the channels already running (``kept_every``) and of
        those started before them, until :data:`FIRST_PASS_SHARE` of the account's budget is
        used in each 30 s window, after the first passes already scheduled (the first window's
        share at once, spread at FIRST_RUNS_PER_SECOND). All None (spread only) without a
        budget."""
        if not self.history_per_30s:
            return [None] * len(new)
        share = self.history_per_30s * FIRST_PASS_SHARE
        # Calls per 30 s window that running channels' polls take in steady state.
        load = sum(BUDGET_WINDOW / every for every in kept_every if every > 0)
        now = self.now()
        span = _WINDOW + _PASS_SPAN  # a pass's calls count this long after it starts
        passes = self._first_passes = [(t, c) for t, c in self._first_passes if t > now - span]
        lo, used = 0, sum(c for _, c in passes)  # passes[lo:] are in the window; their calls
        times: list[datetime | None] = []
        gap = timedelta(seconds=1 / FIRST_RUNS_PER_SECOND)
        for every, calls in new:
            # A window takes first passes while its share is not used up: the last one may
            # cross it (a pass's calls are its worst case, and the account's limiter holds
            # any excess), and a window whose share the polls take still has one.
            room = share - load
            # Appended in time order: this one comes once the window before it has room.
            at = max(now, passes[-1][0] + gap) if passes else now
            while lo < len(passes) and (passes[lo][0] <= at - span or used >= room):
                at = max(at, passes[lo][0] + span)
                used -= passes[lo][1]
                lo += 1
            passes.append((at, calls))
            used += calls
            times.append(at)
            load += BUDGET_WINDOW / every if every > 0 else 0.0
        return times

    def _catch_up_time(
        self, spread: float, first_run: dict[str, datetime] | None = None
    ) -> datetime:
        if self.history_per_30s and first_run:  # paced: right after the first pass
            return first_run["next_run_time"] + CATCH_UP_AFTER
        return self.now() + CATCH_UP_AFTER + timedelta(seconds=_jitter(spread))

    def catch_up(self) -> None:
        """Re-check every channel soon (spread out): after a reconnect, edits and deletions made
        while the connection was down are recorded now, not at the next 30-minute re-check.
        Pushed updates cover joined channels only; this covers all."""
        spread = len(self.specs) / CATCH_UP_PER_SECOND
        for key in self.specs:
            if job := self.scheduler.get_job(f"recheck:{key}"):
                job.modify(next_run_time=self._catch_up_time(spread))

    async def poll(self, key: str) -> ChannelReport | None:
        return await self._run_job(key, "poll", self._claim(f"poll:{key}"))

    async def recheck(self, key: str) -> ChannelReport | None:
        return await self._run_job(key, "recheck", self._claim(f"recheck:{key}"))

    def _claim(self, job_id: str, *, pushed: bool = False) -> Ticket:
        """Mark ``job_id`` queued at once (before its task runs), so no second run is spawned."""
        ticket = self._busy[job_id] = self._slots.ticket(pushed=pushed)
        return ticket

    async def _due(self, key: str, job: str) -> None:
        """An APScheduler run: queue the pass and return at once (the job never waits for a
        slot, so APScheduler never has a run still going). Skipped, and counted, while the
        channel's previous pass is queued or running."""
        job_id = f"{job}:{key}"
        if job_id in self._busy:
            self.totals["skipped"] += 1
            return
        self._spawn(self._run_job(key, job, self._claim(job_id)))

    def _spawn(self, work: Coroutine[object, object, object]) -> None:
        task = asyncio.ensure_future(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _run_job(self, key: str, job: str, ticket: Ticket) -> ChannelReport | None:
        """One run of a job; once more at once (in the pushed lane) if nudged while it ran (its
        pass may have fetched before the update)."""
        job_id = f"{job}:{key}"
        try:
            while True:
                self._again.discard(job_id)
                report = await self._run(key, job, ticket=ticket)
                if report is None or not report.ok or job_id not in self._again:
                    return report
                ticket = self._claim(job_id, pushed=True)
        finally:
            if self._busy.get(job_id) is ticket:
                del self._busy[job_id]
            self._again.discard(job_id)

    async def recheck_ids(
        self, key: str, ids: list[int], *, pushed: bool = True
    ) -> ChannelReport | None:
        """Re-fetch exactly ``ids`` (named by a pushed edit or deletion)."""
        return await self._run(key, "recheck", ids, ticket=self._slots.ticket(pushed=pushed))

    def recheck_soon(self, key: str, ids: list[int]) -> None:
        """Schedule :meth:`recheck_ids` from an update handler, in the pushed lane."""
        self._spawn(self.recheck_ids(key, ids))

    async def _run(
        self, key: str, job: str, ids: list[int] | None = None, *, ticket: Ticket
    ) -> ChannelReport | None:
        # The pass starts only once it holds a slot (the account-wide limit), and not at all
        # after shutdown began.
        async with self._slots.hold(ticket):
            spec = self.specs.get(key)
            if spec is None or self.pipeline.stopping.is_set() or not self.owns(key):
                return None
            # The task's requests wait for the account's budget in the pushed lane if it is one.
            lane = PUSHED.set(ticket.pushed)
            try:
                task = asyncio.ensure_future(
                    self._pass(key, spec, job, ids, pushed=ticket.pushed, scheduled=ticket.promoted)
                )
            finally:
                PUSHED.reset(lane)
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)
            # Shielded: shutting down cancels the queued runs, but a pass that has started
            # finishes its batch (``shutdown`` waits for it within the grace period).
            return await asyncio.shield(task)

    async def _pass(
        self,
        key: str,
        spec: ChannelSpec,
        job: str,
        ids: list[int] | None,
        *,
        pushed: bool,
        scheduled: bool = False,
    ) -> ChannelReport:
        try:
            if job == "poll" and (messages := self._inbox.pop(key, None)):
                # Caused by pushed posts: stored from the updates. A scheduled poll (promoted
                # when they came) still reads the history, the safety net for missed updates.
                report = await self.pipeline.collect(
                    self.client,
                    spec,
                    pushed=messages,
                    read_history=scheduled or not pushed,
                )
            elif job == "poll":
                report = await self.pipeline.collect(self.client, spec)
            else:
                report = await self.pipeline.recheck(self.client, spec, ids=ids)
        except asyncio.CancelledError:
            # Shutdown cut the pass short (its open batch rolled back): not an error.
            log.info("channel_pass_cancelled", channel=key, job=job)
            raise
        except Exception as exc:  # a bug, not Telegram or the database: counted and backed off
            from monitor.pipeline import ChannelReport

            log.exception("channel_pass_failed", channel=key, job=job)
            report = ChannelReport(key, error=f"{type(exc).__name__}: {exc}")
        self._after(key, spec, report, job_id=f"{job}:{key}", pushed=pushed)
        for hook in self.on_report:
            try:
                await hook(spec, report, job=job)
            except Exception:  # e.g. the database is away: the pass itself is done
                log.exception("pass_hook_failed", channel=key, job=job)
        return report

    def _after(
        self, key: str, spec: ChannelSpec, report: ChannelReport, *, job_id: str, pushed: bool
    ) -> None:
        self.reports[key] = report
        self.totals["polls"] += 1
        self.totals["new"] += report.new
        self.totals["changed"] += report.changed
        self.totals["deleted"] += report.deleted
        job = self.scheduler.get_job(job_id)
        if report.ok:
            self.errors.pop(key, None)
            if (
                pushed
                and job_id.startswith("poll:")
                and job is not None
                and not report.from_updates
            ):
                # The channel was just read to its newest post: its next scheduled poll (the
                # safety net for missed updates) comes a full interval from now, not sooner.
                job.modify(next_run_time=self.now() + spec.poll_every)
            return
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

    def pushed(self, key: str, message: Message) -> None:
        """A new post Telegram pushed: the channel's poll runs now, in the pushed lane, and
        stores it from the update itself (no getHistory call) when it follows the channel's
        cursor (:meth:`Pipeline.collect`). A scheduled poll that takes it still reads."""
        if key not in self.specs or not self.owns(key):
            return  # another worker holds the channel: its polls read the post
        self._inbox.setdefault(key, []).append(message)
        self.nudge(key)

    def nudge(self, key: str, *, job: str = "poll") -> None:
        """Run ``key``'s poll (or re-check) now, ahead of scheduled passes: a pushed update
        said something changed."""
        job_id = f"{job}:{key}"
        ticket = self._busy.get(job_id)
        if ticket is None:
            if key in self.specs:
                self._spawn(self._run_job(key, job, self._claim(job_id, pushed=True)))
        elif ticket.granted:
            self._again.add(job_id)  # the run under way goes once more when done
        else:
            self._slots.promote(ticket)  # still queued: it moves to the pushed lane

    def is_busy(self, key: str) -> bool:
        """Whether a pass of ``key`` is queued or under way."""
        return f"poll:{key}" in self._busy or f"recheck:{key}" in self._busy

    async def flush(self) -> None:
        """Write the idle polls' times the pipeline noted (one transaction)."""
        try:
            await self.pipeline.flush()
        except Exception as exc:  # e.g. the database is away: the times are only lost notes
            log.warning("poll_times_not_written", error=f"{type(exc).__name__}: {exc}")

    async def _flush_job(self) -> None:
        """The periodic flush. Shutdown cancels one under way (its own flush writes the times
        last): not an error, so APScheduler must not log it as one."""
        try:
            await self.flush()
        except asyncio.CancelledError:
            log.info("poll_times_write_cancelled", reason="shutting down")

    async def shutdown(self, *, grace: float = 10.0) -> None:
        """Stop scheduling; let in-flight passes finish their batch, all within ``grace`` seconds.

        A pass still running (a stalled download, say) when :data:`CANCEL_MARGIN` seconds are
        left is cancelled: its open batch rolls back, what it committed stays.
        """
        loop = asyncio.get_running_loop()
        end = loop.time() + grace

        def left() -> float:
            return max(0.0, end - loop.time())

        self.pipeline.stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)  # cancels job tasks; the passes are shielded
        for task in list(self._pending):
            task.cancel()  # queued passes never start; started ones are shielded
        pending = set(self._inflight)
        if pending:
            _, late = await asyncio.wait(pending, timeout=max(0.0, left() - CANCEL_MARGIN))
            for task in late:
                task.cancel()
            if late:
                log.info("passes_cancelled", channels=len(late), reason="shutdown deadline")
                await asyncio.wait(late, timeout=max(left(), 0.1))
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=max(left(), 0.1))
        try:
            await asyncio.wait_for(self.flush(), timeout=max(left(), 0.5))
        except TimeoutError:
            log.warning("poll_times_not_written", error="no time left at shutdown")


_WINDOW = timedelta(seconds=BUDGET_WINDOW)
_PASS_SPAN = CATCH_UP_AFTER + timedelta(seconds=1)  # a new channel's calls: its first pass to
# the end of its catch-up re-check


def _jitter(seconds: float) -> float:
    return random.uniform(0, seconds) if seconds > 0 else 0.0  # noqa: S311 - not security
