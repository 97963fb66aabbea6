"""Live updates: a worker's joins (channels.JoinChannel) with its one account, kept true.

At each heartbeat the worker joins one of its channels that no account has joined, while its
account is under its ``join_limit``; ``account_join`` (storage.joins) records the join, one
account per channel across workers. The claim is provisional until Telegram answers; the next
worker to take the account settles a claim cut short (confirmed if the channel is in the
account's dialogs, else released). On taking the account, and every :data:`RECONCILE_EVERY`
after, the account's rows are reconciled with its dialogs (channels it is no longer in are
recorded as left; watched ones it is in are recorded), and the channels its account joined that
are no longer watched are left (channels.LeaveChannel).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from monitor.accounts import accounts_of
from monitor.config import Watchlist
from monitor.config.accounts import AccountSpec
from storage import joins

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine
    from telethon import TelegramClient

log = structlog.get_logger(__name__)

__all__ = ["JOINS_PER_BEAT", "RECONCILE_EVERY", "Joiner", "join_alone", "single_account"]

#: Joins per heartbeat (Telegram answers a burst of joins with a long flood wait).
JOINS_PER_BEAT = 1
#: How often a worker reads its account's dialogs again to reconcile ``account_join`` (seconds;
#: also on taking the account). One getDialogs call per 100 channels the account is in.
RECONCILE_EVERY = 600.0


def _now() -> datetime:
    return datetime.now(UTC)


class Joiner:
    """Joins channels for live updates with one account, within its join limit, and keeps
    ``account_join`` true to Telegram (:meth:`reconcile`, :meth:`_leave_unwatched`)."""

    def __init__(
        self,
        engine: AsyncEngine,
        account: AccountSpec,
        *,
        worker: str | None = None,
        now: Callable[[], datetime] = _now,
    ) -> None:
        self.engine = engine
        self.account = account
        self.worker = worker  # the worker whose claims these are (None: the SQLite worker)
        self.now = now
        self._in_telegram: set[int] | None = None  # channel ids in the account's dialogs
        self._read_at = 0.0  # monotonic: when the dialogs were last read
        self._paused_until: datetime | None = None  # a flood wait on joins or leaves
        self._full = False  # Telegram said the account is in too many channels

    async def reconcile(self, client: TelegramClient, watched: Sequence[str]) -> None:
        """Read the account's dialogs to the end and make its ``account_join`` rows agree.

        A provisional claim (a worker killed between its claim and Telegram's answer) is
        confirmed if the channel is in the dialogs, else released; a joined channel no longer
        in them (the account left, or an admin removed it) is recorded as left, freeing its
        slot; a watched channel in them without a row is recorded (it counts against the
        limit). Other accounts' rows are never touched.
        """
        from telethon import types

        name = self.account.name
        wanted = set(watched)
        in_telegram: dict[int, str] = {}  # channel id -> its key in the watchlist, or ""
        async for dialog in client.iter_dialogs():
            entity = dialog.entity
            if not isinstance(entity, types.Channel) or getattr(entity, "left", False):
                continue
            key = (entity.username or "").lower()
            key = key if key in wanted else str(entity.id)
            in_telegram[entity.id] = key if key in wanted else ""
        at = self.now()
        async with self.engine.begin() as conn:
            for row in await joins.current_of(name, conn=conn):
                if row.channel_id in in_telegram:
                    if row.state == joins.CLAIMED:
                        await joins.record_found(name, row.channel_id, row.handle, conn=conn, at=at)
                        log.info("join_confirmed", account=name, channel=row.handle)
                elif row.state == joins.CLAIMED:
                    await joins.unclaim(name, row.channel_id, conn=conn)
                    log.info("join_claim_released", account=name, channel=row.handle)
                else:
                    await joins.mark_left(
                        name, [row.channel_id], reason="not in dialogs", conn=conn, at=at
                    )
                    log.warning("channel_left_outside", account=name, channel=row.handle)
            for channel_id, key in in_telegram.items():
                if key:
                    await joins.record_found(name, channel_id, key, conn=conn, at=at)
        self._in_telegram = set(in_telegram)  # read to the end: until the next reconcile
        self._read_at = time.monotonic()

    async def _leave_unwatched(self, client: TelegramClient, watched: Sequence[str]) -> None:
        """Channels no longer watched (removed from channels.yaml, or disabled) give their
        slot back: one this account joined is left (channels.LeaveChannel); one it was in
        already stays in its dialogs, merely no longer counted."""
        from telethon import errors, functions, types

        name = self.account.name
        wanted = set(watched)
        async with self.engine.begin() as conn:
            rows = [
                r
                for r in await joins.current_of(name, conn=conn)
                if r.handle not in wanted and r.state == joins.JOINED
            ]
            peers = {
                p.channel_id: p
                for p in await joins.peers_of(name, [r.handle for r in rows], conn=conn)
            }
        for row in rows:
            peer = peers.get(row.channel_id)
            if not row.found and peer is not None:
                if self._paused_until is not None and self._paused_until > self.now():
                    return
                channel = types.InputChannel(peer.channel_id, peer.access_hash)
                try:
                    await client(functions.channels.LeaveChannelRequest(channel))
                except errors.FloodWaitError as exc:
                    self._paused_until = self.now() + timedelta(seconds=exc.seconds)
                    return
                except errors.RPCError as exc:  # not in it, or the channel is gone: left
                    log.warning(
                        "leave_failed", account=name, channel=row.handle, error=type(exc).__name__
                    )
                if self._in_telegram is not None:
                    self._in_telegram.discard(row.channel_id)
            async with self.engine.begin() as conn:
                await joins.mark_left(
                    name, [row.channel_id], reason="unwatched", conn=conn, at=self.now()
                )
            log.info(
                "channel_left" if not row.found else "channel_unwatched",
                account=name,
                channel=row.handle,
            )

    async def step(
        self,
        client: TelegramClient,
        keys: Sequence[str],
        watched: Sequence[str] = (),
        accounts: Collection[str] = (),
    ) -> list[str]:
        """Join up to :data:`JOINS_PER_BEAT` channels of ``keys`` that no account has joined,
        within the join limit. Returns the handles joined now. The first step (and one every
        :data:`RECONCILE_EVERY`) reconciles with the account's dialogs; every step leaves the
        joined channels no longer in ``watched`` (default ``keys``).

        ``accounts``: the configured accounts (default: this one alone). The joins of an
        account no longer among them are released (``left``, "account not configured"): no
        worker uses it, so its channels would otherwise never be live again. Should it come
        back, its first reconcile records what it is still in.

        Only channels the account has resolved (cached peers) are joined: the first pass over a
        channel resolves it.
        """
        from telethon import errors, functions, types

        name, limit = self.account.name, self.account.join_limit
        watched = watched or keys
        if self._in_telegram is None or time.monotonic() - self._read_at > RECONCILE_EVERY:
            await self.reconcile(client, watched)
        assert self._in_telegram is not None
        await self._leave_unwatched(client, watched)
        configured = {name, *accounts}
        async with self.engine.begin() as conn:
            peers = await joins.peers_of(name, keys, conn=conn)
            taken = {j.channel_id: j.account for j in await joins.list_joins(conn=conn)}
            stale: dict[str, list[int]] = {}
            for channel_id, account in taken.items():
                if account not in configured:
                    stale.setdefault(account, []).append(channel_id)
            for account, ids in stale.items():
                await joins.mark_left(
                    account, ids, reason="account not configured", conn=conn, at=self.now()
                )
                log.warning("joins_released", account=account, channels=len(ids))
        taken = {k: a for k, a in taken.items() if a in configured}
        joined: list[str] = []
        paused = self._paused_until is not None and self._paused_until > self.now()
        for peer in peers:
            if peer.channel_id in taken:
                continue
            if peer.channel_id in self._in_telegram:
                async with self.engine.begin() as conn:
                    await joins.record_found(
                        name, peer.channel_id, peer.handle, conn=conn, at=self.now()
                    )
                continue
            if paused or self._full or len(joined) >= JOINS_PER_BEAT:
                continue
            async with self.engine.begin() as conn:
                claimed = await joins.claim(
                    name,
                    peer.channel_id,
                    peer.handle,
                    limit=limit,
                    conn=conn,
                    at=self.now(),
                    worker=self.worker,
                )
            if not claimed:
                continue
            channel = types.InputChannel(peer.channel_id, peer.access_hash)
            try:
                await client(functions.channels.JoinChannelRequest(channel))
            except Exception as exc:
                async with self.engine.begin() as conn:
                    await joins.unclaim(name, peer.channel_id, conn=conn)
                if isinstance(exc, errors.FloodWaitError):
                    self._paused_until = self.now() + timedelta(seconds=exc.seconds)
                    paused = True
                elif isinstance(exc, errors.ChannelsTooMuchError):
                    self._full = True  # Telegram's own limit is below the configured one
                log.warning(
                    "join_failed", account=name, channel=peer.handle, error=type(exc).__name__
                )
                continue
            self._in_telegram.add(peer.channel_id)
            async with self.engine.begin() as conn:
                confirmed = await joins.confirm(
                    name, peer.channel_id, worker=self.worker, conn=conn, at=self.now()
                )
            if not confirmed:
                # The claim was settled meanwhile by the account's next holder (this worker
                # lost its lease): the join is undone rather than left unrecorded.
                with contextlib.suppress(errors.RPCError):
                    await client(functions.channels.LeaveChannelRequest(channel))
                self._in_telegram.discard(peer.channel_id)
                log.warning("join_undone", account=name, channel=peer.handle)
                continue
            joined.append(peer.handle)
            log.info("channel_joined", account=name, channel=peer.handle)
        return joined


def single_account(watchlist: Watchlist, name: str) -> AccountSpec:
    """The SQLite worker's account ``name`` (the settings' login), with the join limit of the
    first configured account."""
    return AccountSpec(name=name, join_limit=accounts_of(watchlist)[0].join_limit)


async def join_alone(
    joiner: Joiner,
    client: TelegramClient,
    keys: Callable[[], Sequence[str]],
    stop: asyncio.Event,
    *,
    every: float = 20.0,
) -> None:
    """The single worker's joins (SQLite): a :meth:`Joiner.step` over every channel per beat."""
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set():
            return
        try:
            await joiner.step(client, keys())
        except Exception as exc:  # noqa: BLE001 - Telegram or the database away: next beat
            log.warning("joins_failed", account=joiner.account.name, error=str(exc))
