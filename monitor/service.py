"""The running monitor: every long-lived resource composed in one ``AsyncExitStack``.

``open_runtime`` gives the engine, watchlist, client and pipeline to the CLI commands;
``run_daemon`` adds the scheduler, watchlist reloads (SIGHUP and a file watch) and graceful
shutdown on SIGTERM/SIGINT.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import gc
import os
import queue
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from telethon import TelegramClient, events, utils

from alerts import AlertConfigError, Route, Sink
from monitor.accounts import account_settings
from monitor.alerting import Alerting
from monitor.config import Watchlist, compile_matcher, load_watchlist
from monitor.errors import ConfigError
from monitor.flagging import Flagger
from monitor.health import HealthTracker
from monitor.language import get_detector
from monitor.matching import Matcher
from monitor.media_url import media_store_for
from monitor.pipeline import Pipeline
from monitor.scheduler import ChannelScheduler
from monitor.settings import Settings, prepare_data_dir
from monitor.signals import daemon_signals
from monitor.telegram import open_client
from monitor.workers import (
    DEFAULT_LEASE,
    Coordinator,
    Joiner,
    join_alone,
    single_account,
    worker_for,
)
from storage import create_engine, head_revision, prepare_schema, sync_entities, upgrade

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from monitor.photos.reader import OcrReader
    from monitor.simulator import Backend

log = structlog.get_logger(__name__)

ACCOUNT = "default"
SHUTDOWN_GRACE = 10.0  # seconds from SIGTERM to exit (the README's promise)
# Of that, kept for closing the client and the database and leaving the interpreter.
CLOSE_RESERVE = 3.0


@dataclass
class Runtime:
    """What a command needs while it runs. Built by :func:`open_runtime`."""

    settings: Settings
    engine: AsyncEngine
    client: TelegramClient
    watchlist: Watchlist
    pipeline: Pipeline
    flagger: Flagger
    alerting: Alerting
    reloads: int = 0
    ocr: OcrReader | None = None  # reads photos of channels with ``ocr:`` (monitor.photos)
    closers: contextlib.AsyncExitStack | None = None  # what open_runtime closes at the end

    async def start_ocr(self) -> None:
        """Read the photos of channels with ``ocr:``: the reader starts when the first channel
        asks (at start, or by a reload), and the archived photos of those channels that have
        no text yet are queued (each photo once)."""
        if not any(spec.ocr for spec in self.watchlist.channels):
            return
        if self.ocr is None:
            from monitor.photos.reader import start_reader

            self.ocr = start_reader(
                self.engine,
                self.pipeline.media_store,
                self.flagger,
                binary=self.settings.ocr_tesseract,
                workers=self.settings.ocr_workers,
                keys=self.pipeline.channel_keys,
                specs=lambda: {c.key: c.ocr for c in self.watchlist.channels},
            )
            self.pipeline.after_commit.append(self.ocr.after_commit)
            if self.closers is not None:
                self.closers.push_async_callback(self.ocr.aclose)
        channels = await _ocr_channels(self.engine, self.pipeline.account, self.watchlist)
        await self.ocr.queue_unread(channels)

    async def reload(self) -> bool:
        """Re-read channels.yaml. A broken file is reported and the last good one kept.

        Reading, validating and compiling run in a worker thread, so polls and alerts go on
        while a large watchlist loads. The swap is all or nothing: the new watchlist and
        matcher take over together, once the database has its entities, or not at all: the
        routes' sinks are built first, so an unusable alert URL changes nothing, not even the
        entity table.
        """
        try:
            watchlist, matcher = await asyncio.to_thread(load_compiled, self.settings, isolate=True)
            adopt_routes = self.alerting.prepare(watchlist)  # every sink built, nothing adopted
        except (ConfigError, AlertConfigError) as exc:
            hint = f"; {exc.hint}" if getattr(exc, "hint", None) else ""
            log.error("watchlist_reload_failed", error=f"{exc}{hint}", kept="previous watchlist")
            return False
        # The one write: if it fails, nothing below runs and the previous watchlist stays.
        async with self.engine.begin() as conn:
            await sync_entities(_entity_values(watchlist), conn=conn, actor="channels.yaml")
        self.watchlist = watchlist
        self.flagger.use(matcher)
        adopt_routes()
        self.reloads += 1
        try:  # a channel that now asks for OCR: its new and archived photos are read
            await self.start_ocr()
        except Exception:  # the watchlist is in force; only reading photos failed to start
            log.exception("ocr_start_failed")
        log.info(
            "watchlist_reloaded",
            channels=len(watchlist.enabled_channels()),
            entities=len(watchlist.entities),
        )
        return True


def load_compiled(settings: Settings, *, isolate: bool = False) -> tuple[Watchlist, Matcher]:
    """The watchlist and its matcher (from the data directory's cache when unchanged).

    Blocking (file reads, a second or so for a large watchlist): call it in a thread, with
    ``isolate`` so a large automaton is built in a child process (see ``compile_matcher``).
    """
    watchlist = load_watchlist(settings.channels_file)
    cache_dir = settings.data_dir / "cache"
    return watchlist, compile_matcher(watchlist.entities, cache_dir, isolate=isolate)


def _entity_values(watchlist: Watchlist) -> list[tuple[str, str, str, list[str], list[str]]]:
    return [(e.id, e.name, e.kind, list(e.tags), list(e.aliases)) for e in watchlist.entities]


@contextlib.asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    backend: Backend | None = None,
    migrate: bool = False,
    watchlist: Watchlist | None = None,
    extra_routes: Sequence[tuple[Route, Sequence[Sink]]] = (),
    account: str = ACCOUNT,
) -> AsyncIterator[Runtime]:
    """Engine (schema checked or migrated), watchlist, connected client, pipeline and flagger."""
    async with contextlib.AsyncExitStack() as stack:
        watchlist = watchlist or load_watchlist(settings.channels_file)
        prepare_data_dir(settings)
        media_store = media_store_for(settings)  # a directory, or s3:// (MONITOR_MEDIA_URL)
        if removed := media_store.remove_partial_files():  # left by a process killed mid-write
            log.info("partial_media_removed", n=len(removed), folder=str(media_store.root))
        matcher = compile_matcher(watchlist.entities, settings.data_dir / "cache")
        engine = create_engine(settings.database_url)
        stack.push_async_callback(engine.dispose)
        if migrate:
            await upgrade(engine)
        elif await prepare_schema(engine):  # a brand-new SQLite archive
            log.info("database_created", revision=head_revision())
        async with engine.begin() as conn:
            await sync_entities(_entity_values(watchlist), conn=conn, actor="channels.yaml")
        client = await stack.enter_async_context(
            open_client(settings, backend=backend, account=account)
        )
        alerting = Alerting(
            engine,
            watchlist,
            desk_timezone=settings.desk_timezone or watchlist.alerts.timezone or "UTC",
            extra=extra_routes,
            media=media_store,
            web_url=settings.web_url,
        )
        flagger = Flagger(matcher, on_flagged_batch=[alerting.on_flagged_batch])
        detector = get_detector(settings.language_detector)
        pipeline = Pipeline(
            engine=engine,
            media_store=media_store,
            account=account,
            on_batch=[flagger],
            after_commit=[alerting.after_commit],
            detect_languages=detector.detect_many,
            media_retry=timedelta(days=settings.media_retry_days),
        )
        # Idle polls' times are noted in memory and written in batches: the last batch here.
        stack.push_async_callback(_flush_quietly, pipeline)
        runtime = Runtime(
            settings, engine, client, watchlist, pipeline, flagger, alerting, closers=stack
        )
        await runtime.start_ocr()
        yield runtime


async def _ocr_channels(engine: AsyncEngine, account: str, watchlist: Watchlist) -> dict[int, Any]:
    """channel id -> ``ocr:`` languages, for the OCR channels this account has resolved before
    (a channel never resolved has nothing archived to read)."""
    from storage.channels import get_peer

    found: dict[int, Any] = {}
    async with engine.connect() as conn:
        for spec in watchlist.channels:
            if spec.ocr and (peer := await get_peer(account, spec.key, conn=conn)) is not None:
                found[peer[0]] = spec.ocr
    return found


async def _flush_quietly(pipeline: Pipeline) -> None:
    try:
        await pipeline.flush()
    except Exception as exc:  # noqa: BLE001 - closing down: the poll times are only notes
        log.warning("poll_times_not_written", error=f"{type(exc).__name__}: {exc}")


@dataclass
class RunSummary:
    seconds: float
    polls: int
    new: int
    changed: int
    deleted: int
    errors: int
    reloads: int
    alerts: int
    skipped: int = 0

    def line(self) -> str:
        return (
            f"stopped after {self.seconds:.0f}s: {self.polls} polls, {self.new} new posts, "
            f"{self.changed} edits, {self.deleted} deletions, {self.alerts} alerts sent, "
            f"{self.errors} errors, {self.skipped} scheduled runs skipped (still busy), "
            f"{self.reloads} watchlist reloads"
        )


async def run_daemon(
    settings: Settings,
    *,
    backend: Backend | None = None,
    stop: asyncio.Event | None = None,
    migrate: bool = False,
    extra_routes: Sequence[tuple[Route, Sequence[Sink]]] = (),
    on_ready: Callable[[Runtime, ChannelScheduler], None] | None = None,
    worker: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    account: str | None = None,
) -> RunSummary:
    """Poll every enabled channel on its schedule until ``stop`` is set (or SIGTERM/SIGINT).

    Shutdown has one budget of :data:`SHUTDOWN_GRACE` seconds: passes finish the batch they are
    storing, then queued alerts get what is left; nothing half-stored is committed.

    On PostgreSQL the daemon is a ``worker`` (see monitor.workers): it collects with one
    account and the channels it holds leases on; on SQLite it is the only one.
    """
    started = time.monotonic()
    stop = stop or asyncio.Event()
    asyncio.get_running_loop().set_default_executor(_AbandonableThreads())
    reload_requested = asyncio.Event()
    # Handlers first: a SIGTERM while connecting still ends in an orderly stop and a summary.
    with daemon_signals(stop, reload_requested.set):
        async with (
            worker_for(
                settings, name=worker, lease=lease, account=account, migrate=migrate
            ) as coordinator,
            _started(
                settings,
                stop,
                backend=backend,
                migrate=migrate,
                extra_routes=extra_routes,
                coordinator=coordinator,
            ) as runtime,
        ):
            if runtime is None:  # stopped before Telegram or the database came back
                summary = RunSummary(time.monotonic() - started, 0, 0, 0, 0, 0, 0, 0)
                log.info("monitor_stopped", summary=summary.line())
                return summary
            health = HealthTracker(
                runtime.engine,
                routes=lambda: runtime.alerting.routes,
                wake=runtime.alerting.worker.wake,
            )
            await health.load()
            runtime.pipeline.after_commit.append(health.after_commit)
            if coordinator is not None and coordinator.history_per_30s:
                # The account's getHistory budget is a hard limit on our side too: whatever the
                # plan, polls wait for room rather than run into FLOOD_WAIT.
                from monitor.budget import HistoryBudget
                from monitor.telegram import limit_history

                limit_history(runtime.client, HistoryBudget(coordinator.history_per_30s))
            scheduler = ChannelScheduler(
                runtime.pipeline,
                runtime.client,
                on_report=[health.observe],
                # A worker paces its first passes to its account's getHistory budget.
                history_per_30s=coordinator.history_per_30s if coordinator else None,
            )
            alerts_stop = asyncio.Event()
            # MONITOR_SEND_ALERTS=false: only queue; `monitor alerts send` delivers.
            deliverer = asyncio.create_task(
                runtime.alerting.worker.run_forever(alerts_stop)
                if settings.send_alerts
                else alerts_stop.wait()
            )
            watcher = asyncio.create_task(_watch_files(runtime, reload_requested, stop))
            reloader = asyncio.create_task(_reload_loop(runtime, scheduler, reload_requested, stop))
            helpers = [watcher, reloader]
            if coordinator is not None:  # only the channels it holds; heartbeats re-balance
                await coordinator.balance(runtime.watchlist, runtime.pipeline, None)
                scheduler.owns = coordinator.owns
                beats = coordinator.run(
                    lambda: runtime.watchlist, runtime.pipeline, scheduler, stop
                )
                helpers.append(asyncio.create_task(beats))
            else:  # the single worker (SQLite) joins with its one account too
                joiner = Joiner(runtime.engine, single_account(runtime.watchlist, ACCOUNT))
                keys = lambda: [s.key for s in runtime.watchlist.enabled_channels()]  # noqa: E731
                joining = join_alone(
                    joiner, runtime.client, keys, stop, every=lease.total_seconds() / 3
                )
                helpers.append(asyncio.create_task(joining))
            scheduler.start(runtime.watchlist)
            follow_updates(runtime.client, scheduler)
            catch_up_after_reconnects(runtime.client, scheduler)
            # What start-up loaded (Telethon, SQLAlchemy, the watchlist and its matcher: hundreds
            # of thousands of long-lived objects) moves to the collector's permanent generation:
            # no full collection walks it again, each one a pause of the event loop.
            gc.freeze()
            log.info(
                "monitor_started",
                channels=len(scheduler.specs),
                alerts="sent" if settings.send_alerts else "queued for monitor alerts send",
            )
            if on_ready:
                on_ready(runtime, scheduler)
            try:
                await stop.wait()
            finally:
                log.info("monitor_stopping")
                deadline = time.monotonic() + SHUTDOWN_GRACE - CLOSE_RESERVE
                for task in helpers:
                    task.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)
                await scheduler.shutdown(grace=_left(deadline))
                # Alerts for what the last batches flagged, in the time left; the rest stays
                # queued for the next start.
                alerts_stop.set()
                await asyncio.wait({deliverer}, timeout=_left(deadline))
                if deliverer.done() and _left(deadline) > 0 and settings.send_alerts:
                    await runtime.alerting.worker.drain(_left(deadline), flush_digests=False)
                elif not deliverer.done():
                    deliverer.cancel()
            summary = RunSummary(
                seconds=time.monotonic() - started,
                polls=scheduler.totals["polls"],
                new=scheduler.totals["new"],
                changed=scheduler.totals["changed"],
                deleted=scheduler.totals["deleted"],
                errors=scheduler.totals["errors"],
                reloads=runtime.reloads,
                alerts=runtime.alerting.worker.totals.delivered,
                skipped=scheduler.totals["skipped"],
            )
    log.info("monitor_stopped", summary=summary.line())
    return summary


class _AbandonableThreads(concurrent.futures.ThreadPoolExecutor):
    """The daemon's default executor (``asyncio.to_thread``): daemon threads, and a shutdown
    that does not wait. Work still running at SIGTERM (a large watchlist being read for a
    reload) is abandoned instead of holding the exit past the 10 s budget."""

    def __init__(self, max_workers: int = 4) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="monitor")
        self._jobs: queue.SimpleQueue[
            tuple[concurrent.futures.Future[Any], Callable[..., Any], tuple[Any, ...]] | None
        ] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._idle = threading.Semaphore(0)
        self._closed = False

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[Any]:
        if self._closed:
            raise RuntimeError("cannot schedule new futures after shutdown")
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        self._jobs.put((future, functools.partial(fn, **kwargs), args))
        if not self._idle.acquire(blocking=False) and len(self._workers) < self._max_workers:
            worker = threading.Thread(target=self._work, name="monitor-worker", daemon=True)
            self._workers.append(worker)
            worker.start()
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn, args = job
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn(*args))
                except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
                    future.set_exception(exc)
            self._idle.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._closed = True
        for _ in self._workers:
            self._jobs.put(None)  # idle workers end; a busy one is abandoned (daemon thread)


#: Start-up attempts while Telegram is unreachable or the database locked or away: the first
#: retry after this many seconds, doubling up to the cap.
START_RETRY_FIRST = 2.0
START_RETRY_MAX = 60.0


@contextlib.asynccontextmanager
async def _started(
    settings: Settings,
    stop: asyncio.Event,
    *,
    backend: Backend | None,
    migrate: bool,
    extra_routes: Sequence[tuple[Route, Sequence[Sink]]],
    coordinator: Coordinator | None = None,
) -> AsyncIterator[Runtime | None]:
    """:func:`open_runtime`, tried again with back-off while Telegram cannot be reached or the
    database is locked or away, saying so once per attempt; ``None`` if ``stop`` came first.
    A wrong setting or an old schema is not retried: the CLI reports it and exits."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    from monitor.telegram import TelegramUnreachable

    attempt = 0
    account = ACCOUNT
    if coordinator is not None:  # a worker on PostgreSQL: one account, waiting for a free one
        if (spec := await coordinator.take_account(stop)) is None:
            yield None
            return
        settings, account = account_settings(settings, spec), spec.name
    async with contextlib.AsyncExitStack() as stack:
        while not stop.is_set():
            attempt += 1
            opening = asyncio.ensure_future(
                stack.enter_async_context(
                    open_runtime(
                        settings,
                        backend=backend,
                        migrate=migrate,
                        extra_routes=extra_routes,
                        account=account,
                    )
                )
            )
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait({opening, stopping}, return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if not opening.done():  # SIGTERM while connecting: give up the attempt
                opening.cancel()
                await asyncio.wait({opening})
                break
            try:
                runtime = opening.result()
            except (TelegramUnreachable, OperationalError, InterfaceError, OSError) as exc:
                what = (
                    "Telegram unreachable"
                    if isinstance(exc, TelegramUnreachable)
                    else "database locked or unavailable"
                )
                delay = min(START_RETRY_MAX, START_RETRY_FIRST * 2 ** (attempt - 1))
                log.warning(
                    "start_failed",
                    what=what,
                    error=_short_error(exc),
                    attempt=attempt,
                    retry_in=f"{delay:.0f}s",
                    retry_at=(datetime.now(UTC) + timedelta(seconds=delay)).isoformat(
                        timespec="seconds"
                    ),
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                continue
            if attempt > 1:
                log.info("start_succeeded", attempts=attempt)
            yield runtime
            return
        yield None


def _short_error(exc: BaseException) -> str:
    """The error's own first line (a database error without its SQL and parameters)."""
    orig = getattr(exc, "orig", None)
    cause = orig if isinstance(orig, BaseException) else exc
    text = str(cause).strip()
    return f"{type(cause).__name__}: {text.splitlines()[0]}" if text else type(cause).__name__


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def follow_updates(client: TelegramClient, scheduler: ChannelScheduler) -> None:
    """Pushed updates (joined channels only): a new post is stored from the update itself
    (:meth:`ChannelScheduler.pushed`), an edit or deletion triggers an immediate re-check.

    Polling stays the safety net: after a gap Telethon replays new messages but not edits or
    deletions, which the periodic re-check catches.
    """

    def key_of(event: object) -> str | None:
        chat_id = getattr(event, "chat_id", None)
        if chat_id is None:
            return None
        channel_id, _ = utils.resolve_id(chat_id)
        return scheduler.pipeline.channel_keys.get(channel_id)

    async def on_new(event: events.NewMessage.Event) -> None:
        if key := key_of(event):
            scheduler.pushed(key, event.message)

    async def on_edit(event: events.MessageEdited.Event) -> None:
        if key := key_of(event):
            scheduler.recheck_soon(key, [event.message.id])

    async def on_delete(event: events.MessageDeleted.Event) -> None:
        if key := key_of(event):
            scheduler.recheck_soon(key, list(event.deleted_ids))

    client.add_event_handler(on_new, events.NewMessage())
    client.add_event_handler(on_edit, events.MessageEdited())
    client.add_event_handler(on_delete, events.MessageDeleted())


def catch_up_after_reconnects(client: TelegramClient, scheduler: ChannelScheduler) -> None:
    """After Telethon reconnects on its own, re-check every channel (:meth:`catch_up`).

    Telethon 1.45 has no public reconnect event: its sender calls one callback after each
    automatic reconnect (the client's own update catch-up), which is wrapped here.
    """
    sender = client._sender
    original = sender._auto_reconnect_callback

    async def reconnected() -> None:
        if original is not None:
            await original()
        log.info("telegram_reconnected", then="re-checking every channel")
        scheduler.catch_up()

    sender._auto_reconnect_callback = reconnected


async def _reload_loop(
    runtime: Runtime,
    scheduler: ChannelScheduler,
    requested: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    while not stop.is_set():
        await requested.wait()
        requested.clear()
        try:
            reloaded = await runtime.reload()
        except Exception as exc:  # e.g. the database is away: report, keep the last good, go on
            error = f"{type(exc).__name__}: {exc}"
            log.exception("watchlist_reload_failed", error=error, kept="previous watchlist")
            continue
        if reloaded:
            scheduler.apply(runtime.watchlist)


async def _watch_files(runtime: Runtime, requested: asyncio.Event, stop: asyncio.Event) -> None:
    """Request a reload whenever channels.yaml or a file it includes changes on disk.

    Watches the folders of the current watchlist's files, but only those files: anything else
    written there (a log file next to channels.yaml) is filtered out before it costs a reload or
    a log line. Folders, not the files themselves, so an editor's save by rename is seen. After
    a reload that includes files elsewhere, the watch moves with it. If watching fails (say,
    the system's limit on watched files), that is logged and SIGHUP still reloads.
    """
    from watchfiles import awatch

    def watched() -> set[str]:
        return {
            os.path.abspath(p) for p in (runtime.settings.channels_file, *runtime.watchlist.files)
        }

    try:
        while not stop.is_set():
            files = watched()
            folders = sorted({os.path.dirname(p) for p in files})

            def only_watchlist(_change: object, path: str, files: set[str] = files) -> bool:
                return path in files  # absolute paths

            # yield_on_timeout: wake every second with no changes, so a reload that includes
            # files in another folder moves the watch there without waiting for an event.
            async for changes in awatch(
                *folders,
                watch_filter=only_watchlist,
                stop_event=stop,
                debounce=300,
                recursive=False,
                rust_timeout=1000,
                yield_on_timeout=True,
            ):
                if changes:  # only the watchlist's files pass the filter
                    requested.set()
                if watched() != files:
                    break  # the watchlist now includes other files: watch those
    except Exception as exc:  # noqa: BLE001 - the daemon goes on; SIGHUP still works
        log.error("file_watch_failed", error=str(exc), hint="send SIGHUP to reload channels.yaml")
