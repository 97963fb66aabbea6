"""Several `monitor run` workers on one PostgreSQL database, coordinated by leases only.

A worker first takes one account's lease (one worker per Telegram account), then, at every
heartbeat (a third of the lease time), renews what it holds and moves towards its fair share of
the watchlist's channels: the channels divided by the live workers, capped by what the account's
request budget allows at the channels' poll intervals. It gives back channels beyond its share
(a newcomer takes them) and takes free or expired ones (a dead worker's, once its leases expire).
A channel it takes from another account starts at the furthest cursor any account reached.

While its account sits in a long flood wait on messages.getHistory the worker counts as parked:
it gives its channels back and takes none until the wait ends, so other accounts read them.

Live updates (monitor.joiner): at each heartbeat the worker joins one of its channels no
account has joined, within its account's ``join_limit``, and keeps ``account_join`` true to
Telegram and the watchlist. Joined channels push their new messages, which trigger a poll at
once, so leases follow joins: a channel joined by account A goes to the worker holding A while
that worker is alive and under its budget.

On SQLite there is one worker: a lock file next to the database refuses a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import math
import os
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

import structlog
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from monitor.accounts import accounts_of
from monitor.config import Watchlist, load_watchlist
from monitor.config.accounts import AccountSpec
from monitor.errors import MonitorError
from monitor.joiner import Joiner, join_alone, single_account
from monitor.settings import Settings
from storage import joins, leases
from storage.engine import check_schema, create_engine, upgrade

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from monitor.pipeline import Pipeline
    from monitor.scheduler import ChannelScheduler

log = structlog.get_logger(__name__)

DEFAULT_LEASE = timedelta(seconds=60)
#: A flood wait on getHistory at least this long parks the worker (its channels go to others);
#: a shorter one is sat out.
PARK_AFTER = timedelta(seconds=30)
HISTORY = "GetHistoryRequest"
#: The share of an account's getHistory budget its channels' polls may use in steady state (as
#: the scheduler's pacing of first passes: monitor.scheduler.FIRST_PASS_SHARE).
BUDGET_SHARE = 0.8

__all__ = [
    "DEFAULT_LEASE",
    "Coordinator",
    "Joiner",
    "SecondWorkerError",
    "default_worker_name",
    "join_alone",
    "single_account",
    "sqlite_lock",
    "worker_for",
]


class SecondWorkerError(MonitorError):
    """Another worker already collects into this SQLite archive."""


def default_worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


@contextlib.contextmanager
def sqlite_lock(database: Path, worker: str) -> Iterator[None]:
    """Hold ``<database>.worker.lock`` (flock: gone with the process, even after kill -9)."""
    path = database.with_name(database.name + ".worker.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held while running
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise SecondWorkerError(
                f"another worker ({holder}) is already collecting into the SQLite archive "
                f"{database}; SQLite takes one worker at a time",
                hint="stop it first, or run several workers on PostgreSQL "
                "(MONITOR_DATABASE_URL=postgresql://...)",
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"worker {worker}, pid {os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


@contextlib.asynccontextmanager
async def worker_for(
    settings: Settings,
    *,
    name: str | None,
    lease: timedelta = DEFAULT_LEASE,
    account: str | None = None,
    migrate: bool = False,
) -> AsyncIterator[Coordinator | None]:
    """The coordinator of a worker on PostgreSQL; ``None`` on SQLite (after taking its lock)."""
    name = name or default_worker_name()
    database = _sqlite_file(settings.database_url)
    if make_url(settings.database_url).get_backend_name() == "sqlite":
        if database is None:
            yield None
            return
        with sqlite_lock(database, name):
            yield None
        return
    engine = create_engine(settings.database_url, poolclass=NullPool)
    try:
        if migrate:
            await upgrade(engine)
        else:
            await check_schema(engine)
        coordinator = Coordinator(engine, settings, name=name, lease=lease, only_account=account)
        try:
            yield coordinator
        finally:
            await coordinator.close()
    finally:
        await engine.dispose()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _now() -> datetime:
    return datetime.now(UTC)


class Coordinator:
    """One worker's leases: its account, its channels, its heartbeat."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: Settings,
        *,
        name: str,
        lease: timedelta = DEFAULT_LEASE,
        only_account: str | None = None,
        now: Callable[[], datetime] = _now,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.name = name
        self.lease = lease
        self.only_account = only_account
        self.now = now
        self.account: AccountSpec | None = None
        self.channels: set[str] = set()  # channel keys this worker holds
        self._releasing: set[str] = set()  # given up, released once their pass ends
        self._valid_until = 0.0  # monotonic: leases held for sure until then
        self._registered = False
        self._known_keys: frozenset[str] = frozenset()
        self.joiner: Joiner | None = None

    @property
    def beat(self) -> float:
        return max(0.2, self.lease.total_seconds() / 3)

    def owns(self, key: str) -> bool:
        """Whether this worker may poll ``key`` now (its lease is held and not lapsing)."""
        return key in self.channels and time.monotonic() < self._valid_until

    # -- the account ------------------------------------------------------------------------

    async def take_account(self, stop: asyncio.Event) -> AccountSpec | None:
        """Register the worker and take a free account (waiting while all are taken)."""
        watchlist = await asyncio.to_thread(load_watchlist, self.settings.channels_file)
        specs = accounts_of(watchlist)
        if self.only_account is not None:
            from monitor.accounts import account_named

            specs = [account_named(watchlist, self.only_account)]
        names = [spec.name for spec in specs]
        async with self.engine.begin() as conn:
            await self._free_dead_neighbours(conn)
            await leases.register_worker(
                self.name, host=socket.gethostname(), pid=os.getpid(), conn=conn, at=self.now()
            )
            await leases.ensure_leases(leases.ACCOUNT, names, conn=conn)
        self._registered = True
        waited = False
        while not stop.is_set():
            async with self.engine.begin() as conn:
                taken = await leases.acquire(
                    leases.ACCOUNT,
                    names,
                    self.name,
                    limit=1,
                    lease=self.lease,
                    conn=conn,
                    at=self.now(),
                )
                await leases.renew(self.name, lease=self.lease, conn=conn, at=self.now())
            if taken:
                self.account = next(spec for spec in specs if spec.name == taken[0])
                self.joiner = Joiner(self.engine, self.account, worker=self.name, now=self.now)
                self._valid_until = time.monotonic() + self.lease.total_seconds()
                log.info("worker_account_taken", worker=self.name, account=self.account.name)
                return self.account
            if not waited:
                log.warning(
                    "worker_waiting_for_account",
                    worker=self.name,
                    accounts=names,
                    hint="every account is used by another worker; this one stands by",
                )
                waited = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.beat)
        return None

    async def _free_dead_neighbours(self, conn: AsyncConnection) -> None:
        """Workers of this host whose process is gone (killed, say, and restarted now) give
        their leases back at once: no wait for them to expire."""
        host = socket.gethostname()
        for row in await leases.list_workers(conn=conn):
            if row.stopped_at is None and row.host == host and row.pid != os.getpid():
                if not _alive(row.pid):
                    await leases.stop_worker(row.name, conn=conn, at=self.now())
                    log.info("worker_gone", worker=row.name, pid=row.pid, leases="released")

    # -- channels -----------------------------------------------------------------------------

    @property
    def history_per_30s(self) -> int | None:
        """The account's getHistory budget (the scheduler paces first passes to it)."""
        return self.account.history_per_30s if self.account is not None else None

    def capacity(self, watchlist: Watchlist, account: AccountSpec | None = None) -> int:
        """Channels the getHistory budget of ``account`` (default: this worker's) covers at the
        watchlist's poll intervals, keeping :data:`BUDGET_SHARE` of it (interval jitter and
        bigger batches need the rest)."""
        account = account or self.account
        assert account is not None
        specs = watchlist.enabled_channels()
        if not specs:
            return 0
        mean_every = sum(s.poll_every.total_seconds() for s in specs) / len(specs)
        return max(1, int(account.history_per_30s * BUDGET_SHARE * mean_every / 30))

    async def _joined_elsewhere(
        self,
        watchlist: Watchlist,
        keys: Sequence[str],
        live: Sequence[str],
        *,
        conn: AsyncConnection,
        at: datetime,
    ) -> tuple[set[str], set[str]]:
        """(channels joined by this worker's account, channels joined by another account that
        its live holder has room for). Leases follow joins: the second go to that holder (its
        client gets their updates), as many as its budget has room for."""
        assert self.account is not None
        joined = {j.handle: j.account for j in await joins.list_joins(conn=conn)}
        mine = {k for k in keys if joined.get(k) == self.account.name}
        holders = await leases.account_holders(conn=conn, at=at)
        channel_holders = await leases.channel_holders(conn=conn, at=at)
        held = Counter(channel_holders.values())
        specs = {spec.name: spec for spec in accounts_of(watchlist)}
        reserved: set[str] = set()
        for account, holder in holders.items():
            spec = specs.get(account)
            if account == self.account.name or holder not in live or spec is None:
                continue
            room = self.capacity(watchlist, spec) - held[holder]
            theirs = sorted(
                k for k in keys if joined.get(k) == account and channel_holders.get(k) != holder
            )
            reserved.update(theirs[: max(0, room)])
        return mine, reserved

    def _parked_until(self, pipeline: Pipeline) -> datetime | None:
        until = pipeline.parked_methods.get(HISTORY)
        if until is not None and until - self.now() >= PARK_AFTER:
            return until
        return None

    async def balance(
        self, watchlist: Watchlist, pipeline: Pipeline, scheduler: ChannelScheduler | None
    ) -> bool:
        """One heartbeat: renew, then give back or take channels. True if the set changed."""
        assert self.account is not None
        keys = [spec.key for spec in watchlist.enabled_channels()]
        at = self.now()
        parked = self._parked_until(pipeline)
        before = set(self.channels)
        async with self.engine.begin() as conn:
            if frozenset(keys) != self._known_keys:
                await leases.ensure_leases(leases.CHANNEL, keys, conn=conn)
                self._known_keys = frozenset(keys)
            held = await leases.renew(
                self.name,
                lease=self.lease,
                conn=conn,
                at=at,
                account=self.account.name,
                parked_until=parked,
            )
        self._valid_until = time.monotonic() + self.lease.total_seconds() * 0.9
        if self.account.name not in held[leases.ACCOUNT]:
            raise MonitorError(
                f"worker {self.name} lost its lease on account {self.account.name} "
                "(no heartbeat for longer than the lease)",
                hint="it stops; start it again",
            )
        lost = self.channels - held[leases.CHANNEL]
        if lost:
            log.warning("worker_channels_lost", worker=self.name, channels=sorted(lost))
        self.channels = held[leases.CHANNEL] & set(keys) - self._releasing
        self._releasing &= held[leases.CHANNEL]
        # Released in the database only once no pass of theirs is under way.
        done = {k for k in self._releasing if scheduler is None or not scheduler.is_busy(k)}
        async with self.engine.begin() as conn:
            live = await leases.live_workers(conn=conn, at=at, lease=self.lease)
            mine, reserved = await self._joined_elsewhere(watchlist, keys, live, conn=conn, at=at)
            if parked or self.name not in live:
                target = 0
            else:
                share = max(math.ceil(len(keys) / len(live)), len(mine))
                target = min(share, self.capacity(watchlist))
            taken: list[str] = []
            # Channels its account joined come first (their updates come to this worker)...
            if target and (want := sorted(mine - self.channels - self._releasing)):
                taken += await self._acquire(
                    want, target - len(self.channels & mine), pipeline, conn=conn, at=at
                )
            # ...channels another account joined go to that account's worker...
            give = set(self.channels & reserved)
            extra = len(self.channels) - len(give) - target
            if extra > 0:
                # ...and of the rest, those its account joined stay with it.
                rest = sorted(self.channels - give, key=lambda k: (k not in mine, k))
                give |= set(rest[-extra:])
            if give:
                self.channels -= give
                busy = {k for k in give if scheduler is not None and scheduler.is_busy(k)}
                self._releasing |= busy
                done |= give - busy
            if done:
                await leases.release(leases.CHANNEL, sorted(done), self.name, conn=conn, at=at)
                self._releasing -= done
            if len(self.channels) < target:
                wanted = [
                    k
                    for k in keys
                    if k not in self.channels and k not in self._releasing and k not in reserved
                ]
                taken += await self._acquire(
                    wanted, target - len(self.channels), pipeline, conn=conn, at=at
                )
        changed = self.channels != before
        if changed:
            log.info(
                "worker_channels",
                worker=self.name,
                account=self.account.name,
                held=len(self.channels),
                taken=len(taken),
                given=len(before - self.channels),
                target=target,
                live_workers=len(live),
                parked_until=parked,
            )
        return changed

    async def _acquire(
        self,
        wanted: Sequence[str],
        limit: int,
        pipeline: Pipeline,
        *,
        conn: AsyncConnection,
        at: datetime,
    ) -> list[str]:
        """Take up to ``limit`` of ``wanted`` (free or expired), each starting at the furthest
        cursor any account reached."""
        assert self.account is not None
        taken = await leases.acquire(
            leases.CHANNEL, wanted, self.name, limit=limit, lease=self.lease, conn=conn, at=at
        )
        for key in taken:
            channel_id = await leases.seed_cursor(self.account.name, key, conn=conn, at=at)
            if channel_id is not None:
                pipeline.forget_state(channel_id)
        self.channels |= set(taken)
        return taken

    async def run(
        self,
        watchlist: Callable[[], Watchlist],
        pipeline: Pipeline,
        scheduler: ChannelScheduler,
        stop: asyncio.Event,
    ) -> None:
        """Heartbeats until ``stop``; the scheduler follows every change of the channel set.
        A lost account lease stops the worker."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.beat)
            if stop.is_set():
                return
            try:
                if await self.balance(watchlist(), pipeline, scheduler):
                    scheduler.apply(watchlist())
                if self.joiner is not None:
                    watched = [spec.key for spec in watchlist().enabled_channels()]
                    accounts = [a.name for a in accounts_of(watchlist())]
                    await self.joiner.step(
                        scheduler.client, sorted(self.channels), watched, accounts
                    )
            except MonitorError as exc:
                log.error("worker_stopping", worker=self.name, error=str(exc))
                stop.set()
                return
            except Exception as exc:  # noqa: BLE001 - the database is away: try next beat
                log.warning("worker_heartbeat_failed", worker=self.name, error=str(exc))

    async def close(self) -> None:
        """Give every lease back at once (others take over without waiting for expiry)."""
        if not self._registered:
            return
        try:
            async with self.engine.begin() as conn:
                await leases.stop_worker(self.name, conn=conn, at=self.now())
        except Exception as exc:  # noqa: BLE001 - the leases then expire on their own
            log.warning("worker_leases_not_released", worker=self.name, error=str(exc))
        else:
            log.info("worker_stopped", worker=self.name)
