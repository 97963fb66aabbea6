"""The pipeline: the only place that calls the collector, storage, matching and alerts in turn.

Each batch of posts is stored, matched and queued for alerts, and the channel cursor advanced, in
one transaction: a crash re-reads at most one batch and the unique keys absorb the repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeVar, cast

import structlog
from sqlalchemy.exc import SQLAlchemyError
from telethon import TelegramClient, errors, types

from monitor.collector import (
    FLOOD_ERRORS,
    PAGE_SIZE,
    Collector,
    backfill_floor,
    fetch_channel_info,
    input_peer,
    resolve_channel,
)
from monitor.config import ChannelSpec
from monitor.errors import CollectorError
from monitor.health import problem_of
from monitor.search.text import index_text
from storage import channels as channel_repo
from storage import missing_media as missing_repo
from storage import posts as post_repo
from storage import state as state_repo
from storage.media import MediaStore, record_media
from storage.photo_hashes import save_hashes
from storage.records import PostRecord
from storage.writing import in_transaction

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from storage.posts import UpsertResult

log = structlog.get_logger(__name__)
_stdlib_log = logging.getLogger(__name__)  # level check before paying for an idle pass's event
T = TypeVar("T")

RECHECK_WINDOW = timedelta(days=2)
MEDIA_RETRY = timedelta(days=30)  # how long a photo Telegram refuses is tried again
HISTORY = "GetHistoryRequest"
# Waits Telegram imposes: FLOOD_WAIT_X, and FLOOD_PREMIUM_WAIT_X on file downloads of
# non-Premium accounts (Telethon raises a sibling class, not a FloodWaitError).


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """What one transaction stored: handed to hooks (matching, alerts) inside that transaction."""

    channel_id: int
    records: Sequence[PostRecord]
    new: Sequence[int]  # post ids stored for the first time
    changed: Sequence[int]  # post ids that got a new version (edits)
    captured_at: datetime
    post_ids: Mapping[tuple[int, int], int]  # (channel_id, message_id) -> post id


@dataclass(frozen=True, slots=True)
class _Failed:
    error: Exception


_END = object()


async def prefetched(batches: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """``batches``, with the next one fetched from Telegram while the caller stores this one.

    A pass waits on Telegram and on the database in turn; overlapping them saves most of the
    shorter wait. At most one batch is held ahead. An error while fetching is raised here after
    the batches fetched before it, as without prefetching; closing this generator (``aclosing``)
    stops the fetching.
    """
    queue: asyncio.Queue[object] = asyncio.Queue(maxsize=1)

    async def fetch() -> None:
        try:
            async for batch in batches:
                await queue.put(batch)
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            await queue.put(_Failed(exc))
        else:
            await queue.put(_END)
        finally:
            if isinstance(batches, AsyncGenerator):
                await batches.aclose()

    fetcher = asyncio.create_task(fetch())
    try:
        while (item := await _next(queue, fetcher)) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield cast(T, item)
    finally:
        fetcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await fetcher


async def _next(queue: asyncio.Queue[object], fetcher: asyncio.Task[None]) -> object:
    """The next item, or the fetcher's fate if it ended without one (cancelled from outside):
    never a wait on a queue nobody fills."""
    while queue.empty() and not fetcher.done():
        getter = asyncio.ensure_future(queue.get())
        try:
            await asyncio.wait({getter, fetcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            getter.cancel()  # no-op when it has an item; else the item stays queued
        if getter.done() and not getter.cancelled():
            return getter.result()
    if queue.empty():
        fetcher.result()  # raises how it ended
        raise CollectorError("fetching stopped without handing over its batches")
    return queue.get_nowait()


BatchHook = Callable[[StoredBatch, "AsyncConnection"], Awaitable[None]]
CommitHook = Callable[[StoredBatch], Awaitable[None]]
State = state_repo.CollectorState


@dataclass
class ChannelReport:
    """One channel's pass, for logs, `monitor collect` and `monitor status`."""

    key: str
    channel_id: int | None = None
    new: int = 0
    changed: int = 0
    deleted: int = 0
    photos: int = 0
    batches: int = 0
    parked_until: datetime | None = None
    error: str | None = None
    problem: str | None = None  # what the error says about the channel (monitor.health)
    flags: list[int] = field(default_factory=list)
    # Stored from pushed updates alone: no getHistory read, so the channel was not read to its
    # newest post (the scheduled poll, the safety net, keeps its time).
    from_updates: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None and self.parked_until is None


class Pipeline:
    """Collects channels for one Telegram account into storage."""

    def __init__(
        self,
        *,
        engine: AsyncEngine,
        media_store: MediaStore,
        account: str = "default",
        on_batch: Sequence[BatchHook] = (),
        after_commit: Sequence[CommitHook] = (),
        detect_language: Callable[[str], str | None] | None = None,
        detect_languages: Callable[[Sequence[str]], list[str | None]] | None = None,
        now: Callable[[], datetime] = utcnow,
        media_retry: timedelta = MEDIA_RETRY,
    ) -> None:
        self.engine = engine
        self.media_retry = media_retry
        self.media_store = media_store
        self.account = account
        self.on_batch = list(on_batch)
        self.after_commit = list(after_commit)
        self.detect_language = detect_language
        # A batch form (one model call per stored batch) is used in preference when given.
        self.detect_languages = detect_languages
        self.now = now
        # Set on shutdown: a pass stops after the batch it is storing (committed, never half).
        self.stopping = asyncio.Event()
        self.channel_keys: dict[int, str] = {}  # channel id -> watchlist key, as resolved
        # Request types flood-waited for this account (e.g. "GetHistoryRequest") -> until when.
        self.parked_methods: dict[str, datetime] = {}
        # An idle poll touches no database: peers and collector state are read once and then
        # kept here (every write's returned row replaces the copy), and the time of an idle
        # poll is only noted, for :meth:`flush` to write in one batch.
        self._peers: dict[str, types.InputPeerChannel] = {}
        self._states: dict[int, State] = {}
        self._polled: dict[int, datetime] = {}

    # -- peers -------------------------------------------------------------------------------

    async def peer(
        self, client: TelegramClient, spec: ChannelSpec, *, refresh: bool = False
    ) -> types.InputPeerChannel:
        """The channel's peer: from the cached access hash, or resolved once and cached
        (``refresh``: resolved again, replacing the cached hash)."""
        cached = None
        if refresh:
            self._peers.pop(spec.key, None)
        elif (known := self._peers.get(spec.key)) is not None:
            return known
        else:
            async with self.engine.connect() as conn:
                cached = await channel_repo.get_peer(self.account, spec.key, conn=conn)
        if cached is not None:
            self.channel_keys[cached[0]] = spec.key
            self._peers[spec.key] = input_peer(*cached)
            return self._peers[spec.key]
        resolved = await resolve_channel(client, spec.key)
        self.channel_keys[resolved.peer.channel_id] = spec.key
        try:
            info = await fetch_channel_info(client, resolved.peer)
        except errors.RPCError as exc:  # about/subscribers are nice to have, not essential
            log.warning("channel_info_failed", channel=spec.key, error=str(exc))
            info = resolved.record
        now = self.now()
        async with self.engine.begin() as conn:
            await channel_repo.upsert_channel(info, conn=conn, seen_at=now)
            await channel_repo.save_peer(
                self.account,
                spec.key,
                resolved.peer.channel_id,
                resolved.peer.access_hash,
                conn=conn,
                resolved_at=now,
            )
        log.info("channel_resolved", channel=spec.key, channel_id=resolved.peer.channel_id)
        self._peers[spec.key] = resolved.peer
        return resolved.peer

    # -- collector state, kept in memory -----------------------------------------------------

    async def _state(self, channel_id: int) -> State | None:
        if channel_id not in self._states:
            async with self.engine.connect() as conn:
                state = await state_repo.get_state(self.account, channel_id, conn=conn)
            if state is None:
                return None
            self._states[channel_id] = state
        return self._states[channel_id]

    def forget_state(self, channel_id: int) -> None:
        """Read the channel's state again at its next pass (another worker moved its cursor)."""
        self._states.pop(channel_id, None)

    def _remember(self, state: State) -> State:
        self._states[state.channel_id] = state
        return state

    async def flush(self) -> int:
        """Write the times of idle polls noted since the last flush, in one transaction (the
        scheduler calls this every few seconds and on shutdown). Returns how many channels."""
        if not self._polled:
            return 0
        polled, self._polled = self._polled, {}
        async with self.engine.begin() as conn:
            await state_repo.stamp_polls(self.account, polled, conn=conn)
        for channel_id, at in polled.items():
            if (state := self._states.get(channel_id)) is not None:
                self._states[channel_id] = replace(state, last_poll_at=at)
        return len(polled)

    # -- collection --------------------------------------------------------------------------

    async def collect(
        self,
        client: TelegramClient,
        spec: ChannelSpec,
        *,
        backfill: int | None = None,
        media: Sequence[str] | None = None,
        on_progress: Callable[[int], None] | None = None,
        pushed: Sequence[types.Message] = (),
        read_history: bool = True,
    ) -> ChannelReport:
        """One pass over a channel: every post newer than the stored cursor.

        A first pass starts ``backfill`` posts below the newest. A flood wait parks the channel
        (persisted) and returns; other errors are recorded and returned in the report.

        ``pushed``: new messages Telegram pushed as updates, which carry the whole message.
        Those that continue the stored cursor without a gap are stored as they are, with no
        getHistory call; with ``read_history`` False that is the whole pass, unless they leave
        a gap (an update missed, a post sent before the cursor was set), which is read.
        """
        report = ChannelReport(spec.key)
        async with self._outcome(report):

            async def work(peer: types.InputPeerChannel, state: State | None) -> None:
                await self._collect_new(
                    client,
                    spec,
                    peer,
                    state,
                    report,
                    backfill,
                    media,
                    on_progress,
                    pushed=pushed,
                    read_history=read_history,
                )

            await self._with_peer(client, spec, report, work)
        idle = report.ok and not (report.new or report.changed or report.photos)
        if idle and not _stdlib_log.isEnabledFor(logging.DEBUG):
            return report  # an idle poll is the common case: no event to build
        (log.debug if idle else log.info)(
            "channel_collected",
            channel=spec.key,
            new=report.new,
            changed=report.changed,
            photos=report.photos,
            parked_until=report.parked_until,
            error=report.error,
        )
        return report

    async def recheck(
        self,
        client: TelegramClient,
        spec: ChannelSpec,
        *,
        window: timedelta = RECHECK_WINDOW,
        ids: Sequence[int] | None = None,
    ) -> ChannelReport:
        """Re-fetch posts by id: edits become new versions, missing ids deletions.

        By default the posts of the last ``window``, and any older post whose media download
        failed and is due for another attempt (with back-off, for ``media_retry`` after
        capture); ``ids`` re-fetches exactly those (a pushed edit or deletion names them,
        whatever their age).
        """
        report = ChannelReport(spec.key)
        async with self._outcome(report):

            async def work(peer: types.InputPeerChannel, state: State | None) -> None:
                await self._recheck(client, spec, peer, report, window, ids)

            await self._with_peer(client, spec, report, work)
        log.info(
            "channel_rechecked",
            channel=spec.key,
            changed=report.changed,
            deleted=report.deleted,
            parked_until=report.parked_until,
            error=report.error,
        )
        return report

    @contextlib.asynccontextmanager
    async def _outcome(self, report: ChannelReport) -> AsyncIterator[None]:
        """Telegram's answers as report data: a flood wait parks, an error is recorded (and
        backed off by the scheduler), a clean pass resets the channel's error streak."""
        try:
            yield
        except FLOOD_ERRORS as exc:
            await self._flood_wait(report, exc)
        except (
            CollectorError,
            errors.RPCError,
            OSError,  # connections, timeouts, a full disk
            ValueError,  # Telethon's "Request was unsuccessful N time(s)" after server errors
            SQLAlchemyError,  # the database: a lock, a refused row, a lost connection
        ) as exc:
            await self._failed(report, exc)
        else:
            if report.channel_id is not None and report.parked_until is None:
                known = self._states.get(report.channel_id)
                if known is None or known.consecutive_errors or known.flood_wait_until:
                    async with self.engine.begin() as conn:
                        self._remember(
                            await state_repo.record_success(
                                self.account, report.channel_id, conn=conn, at=self.now()
                            )
                        )

    async def _with_peer(
        self,
        client: TelegramClient,
        spec: ChannelSpec,
        report: ChannelReport,
        work: Callable[[types.InputPeerChannel, State | None], Awaitable[None]],
    ) -> None:
        """Run ``work`` on the unparked channel's peer. Access hashes belong to one Telegram
        account: when Telegram rejects the cached one (CHANNEL_INVALID, e.g. the session is now
        another account's), the handle is resolved again, once, and the work retried."""
        for refresh in (False, True):
            peer, state = await self._unparked_peer(client, spec, report, refresh=refresh)
            if peer is None:
                return
            try:
                await work(peer, state)
                return
            except errors.ChannelInvalidError:
                if refresh:
                    raise
                log.warning("cached_access_hash_rejected", channel=spec.key)

    async def _unparked_peer(
        self, client: TelegramClient, spec: ChannelSpec, report: ChannelReport, *, refresh: bool
    ) -> tuple[types.InputPeerChannel | None, state_repo.CollectorState | None]:
        """The channel's peer and collector state; no peer (report marked) while parked."""
        peer = await self.peer(client, spec, refresh=refresh)
        report.channel_id = peer.channel_id
        state = await self._state(peer.channel_id)
        if state is not None and state.flood_wait_until and state.flood_wait_until > self.now():
            report.parked_until = state.flood_wait_until
            return None, state
        return peer, state

    async def _collect_new(
        self,
        client: TelegramClient,
        spec: ChannelSpec,
        peer: types.InputPeerChannel,
        state: state_repo.CollectorState | None,
        report: ChannelReport,
        backfill: int | None,
        media: Sequence[str] | None,
        on_progress: Callable[[int], None] | None,
        *,
        pushed: Sequence[types.Message] = (),
        read_history: bool = True,
    ) -> None:
        first_pass = state is None or state.last_poll_at is None
        detects = self.detect_languages is not None or self.detect_language is not None
        collector = Collector(
            client,
            self.media_store,
            download=media or spec.media,
            languages=self._languages if detects else None,
        )
        if state is not None and not first_pass and pushed:
            following = _following(pushed, state.last_message_id)
            if following is not None:
                if following:
                    records = await collector.convert(peer, following)
                    await self._store(peer.channel_id, records, report, labelled=True)
                    newest = following[-1].id
                    state = self._remember(replace(state, last_message_id=newest))
                    self._polled.pop(peer.channel_id, None)  # the store stamped the time
                if not read_history:
                    report.from_updates = True
                    return
        history_parked = self._parked_until(HISTORY)
        if first_pass and history_parked:
            # A backfill needs GetHistory: wait for the account's flood wait to end.
            await self._park_until(report, history_parked)
            return
        wanted = spec.backfill if backfill is None else backfill
        if (state is None or first_pass) and 0 < wanted <= PAGE_SIZE:
            # One call: the newest ``wanted`` messages are the whole first pass.
            newest = await collector.history(peer, limit=wanted)
            min_id = min((m.id for m in newest), default=1) - 1
            batches = collector.posts_of(peer, newest)
        else:
            if state is None or first_pass:
                min_id = await backfill_floor(client, peer, wanted)
            else:
                min_id = state.last_message_id
            batches = (
                collector.new_posts_by_ids(peer, min_id=min_id)
                if history_parked
                else collector.new_posts(peer, min_id=min_id)
            )
        newest = min_id
        async with contextlib.aclosing(prefetched(batches)) as ahead:
            async for records in ahead:
                await self._store(peer.channel_id, records, report, labelled=True)
                newest = max(newest, *(r.message_id for r in records))
                if on_progress:
                    on_progress(len(records))
                if self.stopping.is_set():
                    break
        now = self.now()
        if report.batches:  # _store advanced the cursor in each batch's transaction
            if state is not None:
                cursor = max(state.last_message_id, newest)
                self._remember(replace(state, last_message_id=cursor, last_poll_at=now))
            else:
                self._states.pop(peer.channel_id, None)  # read again on the next pass
            self._polled.pop(peer.channel_id, None)
        elif state is None or first_pass or state.last_message_id != min_id:
            async with self.engine.begin() as conn:
                self._remember(
                    await state_repo.advance_cursor(
                        self.account, peer.channel_id, min_id, conn=conn, polled_at=now
                    )
                )
        else:  # idle: nothing changed but the poll time, written later in a batch
            self._polled[peer.channel_id] = now

    async def _recheck(
        self,
        client: TelegramClient,
        spec: ChannelSpec,
        peer: types.InputPeerChannel,
        report: ChannelReport,
        window: timedelta,
        wanted: Sequence[int] | None,
    ) -> None:
        now = self.now()
        async with self.engine.connect() as conn:
            due = await missing_repo.media_retries_due(
                peer.channel_id, spec.media, conn=conn, now=now, period=self.media_retry
            )
            if wanted is not None:
                ids = list(wanted)
                retry = set(due) & set(ids)
            else:
                recent = await post_repo.posts_to_recheck(
                    peer.channel_id, conn=conn, since=now - window
                )
                # Missing media is retried whatever the post's age: fetching the message again
                # also refreshes the photo's file reference before the download.
                ids = sorted({*recent, *due})
                retry = set(due)
            stored = await post_repo.content_hashes(peer.channel_id, ids, conn=conn)
        if retry:
            log.info("media_retry", channel=spec.key, messages=len(retry))
        collector = Collector(client, self.media_store, download=spec.media)
        found, gone = await collector.by_ids(peer, ids)
        records = await collector.convert(peer, found, download=False)
        edited = {r.message_id for r in records if stored.get(r.message_id) != r.content_hash}
        edited |= retry & {r.message_id for r in records}
        if edited:  # download the media of edited posts (a photo may have changed) and of
            # posts whose earlier download failed
            fresh = await collector.convert(
                peer, [m for m in found if m.id in edited], download=True
            )
            by_id = {r.message_id: r for r in fresh}
            records = [by_id.get(r.message_id, r) for r in records]
        # Channel info (title, about, subscribers) only on the periodic re-check: a pushed edit
        # or deletion must not spend channels.GetFullChannel, one of Telegram's tightest limits.
        info = await fetch_channel_info(client, peer) if wanted is None else None
        async with self.engine.begin() as conn:
            if info is not None:
                await channel_repo.upsert_channel(info, conn=conn, seen_at=now)
            if gone:
                report.deleted = await post_repo.mark_deleted(
                    peer.channel_id, gone, conn=conn, at=now
                )
        await self._store(peer.channel_id, records, report, advance=False)

    async def _store(
        self,
        channel_id: int,
        records: Sequence[PostRecord],
        report: ChannelReport,
        *,
        advance: bool = True,
        labelled: bool = False,
    ) -> None:
        """``labelled``: the collector already set each record's language (None included)."""
        if not records:
            return
        if not labelled and (self.detect_languages is not None or self.detect_language is not None):
            records = self._with_language(records)
        captured_at = self.now()

        async def write(conn: AsyncConnection) -> tuple[UpsertResult, StoredBatch]:
            return await self._write_batch(conn, channel_id, records, captured_at, advance)

        # On SQLite the whole transaction is one hop to a worker thread (storage.writing).
        result, batch = await in_transaction(self.engine, write)
        report.batches += 1
        report.new += len(batch.new)
        report.changed += len(batch.changed)
        new_ids = {(c, m) for c, m, _ in result.new}
        report.photos += sum(
            1
            for r in records
            if (r.channel_id, r.message_id) in new_ids
            for item in r.media
            if item.sha256
        )
        for committed in self.after_commit:
            await committed(batch)

    async def _write_batch(
        self,
        conn: AsyncConnection,
        channel_id: int,
        records: Sequence[PostRecord],
        captured_at: datetime,
        advance: bool,
    ) -> tuple[UpsertResult, StoredBatch]:
        """A batch's rows, its batch hooks' and the cursor, in the transaction of ``conn``.

        May run off the event loop's thread (:func:`storage.writing.in_transaction`): only the
        connection and pure code here, and in the hooks."""
        for record in records:
            for item in record.media:
                if item.sha256:
                    await record_media(item, conn=conn, seen_at=captured_at)
        await save_hashes(  # photos' perceptual hashes, computed by the collector's thread
            {
                i.sha256: i.phash
                for r in records
                for i in r.media
                if i.sha256 and i.phash is not None
            },
            conn=conn,
            at=captured_at,
        )
        # New posts (ids above the cursor) are inserted without a lookup first.
        result = await post_repo.upsert_posts(
            records,
            conn=conn,
            captured_at=captured_at,
            expect_new=advance,
            index_text=index_text,  # full-text search, in this same transaction
        )
        batch = StoredBatch(
            channel_id=channel_id,
            records=records,
            new=[key.post_id for key in result.new],
            changed=[key.post_id for key in result.changed],
            captured_at=captured_at,
            post_ids={
                (key.channel_id, key.message_id): key.post_id
                for key in (*result.new, *result.changed, *result.unchanged)
            },
        )
        for hook in self.on_batch:
            await hook(batch, conn)
        if advance:
            await state_repo.advance_cursor(
                self.account,
                channel_id,
                max(r.message_id for r in records),
                conn=conn,
                polled_at=captured_at,
            )
        return result, batch

    def _languages(self, texts: Sequence[str]) -> list[str | None]:
        """The language of each text (None for an empty one, or without a detector)."""
        if self.detect_languages is not None:
            wanted = [i for i, text in enumerate(texts) if text]
            found: list[str | None] = [None] * len(texts)
            for i, language in zip(
                wanted, self.detect_languages([texts[i] for i in wanted]), strict=True
            ):
                found[i] = language
            return found
        if self.detect_language is not None:
            return [self.detect_language(text) if text else None for text in texts]
        return [None] * len(texts)

    def _with_language(self, records: Sequence[PostRecord]) -> Sequence[PostRecord]:
        wanted = [i for i, r in enumerate(records) if r.text and r.language is None]
        if not wanted:
            return records
        found = self._languages([records[i].text for i in wanted])
        out = list(records)
        for i, language in zip(wanted, found, strict=True):
            out[i] = replace(records[i], language=language)
        return out

    def _parked_until(self, method: str) -> datetime | None:
        until = self.parked_methods.get(method)
        return until if until is not None and until > self.now() else None

    async def _flood_wait(
        self, report: ChannelReport, exc: errors.FloodWaitError | errors.FloodPremiumWaitError
    ) -> None:
        """Park the channel, and the request type for the whole account (Telethon refuses to
        send that type again until the wait ends, so other channels must use another)."""
        until = self.now() + timedelta(seconds=exc.seconds)
        if exc.request is not None:
            method = type(exc.request).__name__
            self.parked_methods[method] = max(until, self.parked_methods.get(method, until))
        await self._park_until(report, until)
        log.warning("channel_parked", channel=report.key, seconds=exc.seconds, until=until)

    async def _park_until(self, report: ChannelReport, until: datetime) -> None:
        report.parked_until = until
        if report.channel_id is None:
            return
        async with self.engine.begin() as conn:
            self._remember(
                await state_repo.park(
                    self.account, report.channel_id, until, conn=conn, at=self.now()
                )
            )

    async def _failed(self, report: ChannelReport, exc: BaseException) -> None:
        report.error = _describe(exc)
        report.problem = problem_of(exc)
        if report.channel_id is None:
            return
        try:
            async with self.engine.begin() as conn:
                self._remember(
                    await state_repo.record_error(
                        self.account, report.channel_id, report.error, conn=conn, at=self.now()
                    )
                )
        except Exception as again:  # noqa: BLE001 - the database is away: the report still counts
            log.warning("channel_error_not_recorded", channel=report.key, error=_describe(again))


def _following(messages: Sequence[types.Message], cursor: int) -> list[types.Message] | None:
    """The pushed ``messages`` above ``cursor``, oldest first, if they follow it with no gap
    (an empty list when every one is stored already); None when an id is missing between.

    Channel message ids are sequential, so a gap is a message we have not seen: an update
    Telegram did not deliver, a service message (pinned, title changed) or a post deleted
    before it was pushed. Only a read of the history tells which.
    """
    fresh = sorted({m.id: m for m in messages if m.id > cursor}.values(), key=lambda m: m.id)
    expected = range(cursor + 1, cursor + 1 + len(fresh))
    return fresh if [m.id for m in fresh] == list(expected) else None


def _describe(exc: BaseException) -> str:
    """A short message for logs and ``monitor status``: a database error's own message, without
    the statement and its parameters (post text) that SQLAlchemy appends."""
    if isinstance(exc, CollectorError | errors.RPCError):
        return str(exc) or type(exc).__name__
    orig = getattr(exc, "orig", None)  # sqlalchemy.exc.DBAPIError wraps the driver's error
    cause = orig if isinstance(orig, BaseException) else exc
    message = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"{type(cause).__name__}: {message}" if message else type(cause).__name__
