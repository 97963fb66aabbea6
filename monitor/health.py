"""Channel health: notice a channel that went private, was banned or renamed, fell silent or
fails every poll, alert once, and alert once more when it is back to normal.

The tracker looks at every pass the scheduler runs (:meth:`HealthTracker.observe`). A channel
has at most one open problem at a time (an *episode*): the first problem opens it and queues
ONE health alert to the routes with ``health: true``; while it lasts, the problem may change
(a private channel also fails every poll for an hour) without another alert; when nothing is
wrong any more, one "back to normal" alert closes it. Problems, their start and the start of an
error streak are stored (``storage.health``), so a restart neither repeats an alert nor forgets
an episode; the alerts go through the outbox in the transaction that records the change.

What counts as what:

* private: Telegram answers CHANNEL_PRIVATE (made private, or this account removed);
* banned: CHANNEL_BANNED / USER_BANNED_IN_CHANNEL;
* renamed: the channel's username (seen at a re-check) is not the handle in channels.yaml, or
  the handle no longer resolves (USERNAME_NOT_OCCUPIED: renamed, made private or deleted);
* silent: the newest post is older than the channel's ``silent_after`` (off by default);
* failing: every poll has failed for an hour (:data:`FAILING_FOR`), whatever the error.

A flood wait is not a problem: it is Telegram's pacing, and it ends by itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitor.log import get_logger

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from alerts import AlertMessage, Route
    from monitor.config import ChannelSpec
    from monitor.pipeline import ChannelReport, StoredBatch
    from storage.health import ChannelHealth

__all__ = ["FAILING_FOR", "PROBLEMS", "HealthTracker", "problem_of"]

log = get_logger(__name__)

#: Problems in the order one is shown when several hold at once.
PROBLEMS = ("private", "banned", "renamed", "failing", "silent")
#: A channel whose every poll failed for this long is reported as failing.
FAILING_FOR = timedelta(hours=1)


def problem_of(exc: BaseException) -> str | None:
    """The health problem a failed pass's exception shows, if it says one (pure)."""
    from telethon import errors

    named = getattr(exc, "problem", None)  # set by the collector on its own errors
    if isinstance(named, str):
        return named
    if isinstance(exc, errors.ChannelPrivateError):
        return "private"
    if isinstance(exc, errors.ChannelBannedError | errors.UserBannedInChannelError):
        return "banned"
    if isinstance(exc, errors.UsernameNotOccupiedError):
        return "renamed"
    return None


@dataclass(frozen=True, slots=True)
class _Finding:
    problem: str
    detail: str


class HealthTracker:
    """Health of the channels of one running monitor. Call :meth:`load` once, then
    :meth:`observe` after every pass and :meth:`after_commit` after every stored batch."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        routes: Callable[[], Sequence[Route]],
        wake: Callable[[], None] = lambda: None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        failing_for: timedelta = FAILING_FOR,
    ) -> None:
        self.engine = engine
        self.routes = routes
        self.wake = wake
        self.now = now
        self.failing_for = failing_for
        self.rows: dict[str, ChannelHealth] = {}
        self._newest: dict[int, datetime | None] = {}  # channel id -> newest post's date
        self._usernames: dict[str, str | None] = {}  # handle -> username seen at a re-check

    async def load(self) -> None:
        from storage.health import load_health

        async with self.engine.connect() as conn:
            self.rows = await load_health(conn=conn)

    async def after_commit(self, batch: StoredBatch) -> None:
        """Note the newest post date of a stored batch (no database work)."""
        newest = max((r.posted_at for r in batch.records), default=None)
        known = self._newest.get(batch.channel_id)
        if newest is not None and (known is None or newest > known):
            self._newest[batch.channel_id] = newest

    async def observe(self, spec: ChannelSpec, report: ChannelReport, *, job: str) -> None:
        """Update the channel's health from one pass (``job``: ``poll`` or ``recheck``)."""
        if report.parked_until is not None:
            return  # a flood wait says nothing about the channel
        row = self.rows.get(spec.key)
        now = self.now()
        if report.error is not None:
            if row is None or row.failing_since is None:
                row = await self._failing_since(spec, report.channel_id, now)
            finding = self._from_error(spec, report, row.failing_since or now, now)
        else:
            if row is not None and row.failing_since is not None:
                row = await self._failing_since(spec, report.channel_id, None)
            if job == "recheck" and report.channel_id is not None:
                await self._note_username(spec, report.channel_id)
            finding = await self._from_success(spec, report, now)
        current = row.problem if row is not None else None
        if finding is None:
            if current is not None and report.error is None:
                await self._recover(spec, report.channel_id, now)
            return
        if finding.problem != current:
            await self._open(spec, report.channel_id, finding, now)

    # -- what is wrong -----------------------------------------------------------------------

    def _from_error(
        self, spec: ChannelSpec, report: ChannelReport, failing_since: datetime, now: datetime
    ) -> _Finding | None:
        shown = spec.display
        problem = report.problem
        if problem == "private":
            return _Finding(
                "private",
                f"{shown} went private: Telegram answers CHANNEL_PRIVATE (the channel was made "
                "private, or this account was removed from it); it is not collected meanwhile",
            )
        if problem == "banned":
            return _Finding(
                "banned", f"this account is banned from {shown}: Telegram answers {report.error}"
            )
        if problem == "renamed":
            return _Finding(
                "renamed",
                f"{shown} no longer resolves (renamed, made private or deleted): "
                f"{report.error}; find its new name and change the handle in channels.yaml",
            )
        if now - failing_since >= self.failing_for:
            return _Finding(
                "failing",
                f"every poll of {shown} has failed for {_span(now - failing_since)} (since "
                f"{failing_since:%Y-%m-%d %H:%M} UTC); last error: {report.error}",
            )
        row = self.rows.get(spec.key)
        if row is not None and row.problem is not None:  # still failing: keep what is open
            return _Finding(row.problem, row.detail or "")
        return None

    async def _from_success(
        self, spec: ChannelSpec, report: ChannelReport, now: datetime
    ) -> _Finding | None:
        username = self._usernames.get(spec.key)
        if username is not None and not spec.key.isdigit() and username.lower() != spec.key:
            return _Finding(
                "renamed",
                f"{spec.display} was renamed: it is now @{username}; change the handle in "
                "channels.yaml (collection goes on meanwhile)",
            )
        if spec.silent_after is None or report.channel_id is None:
            return None
        newest = await self._newest_post(report.channel_id)
        if newest is not None and now - newest > spec.silent_after:
            return _Finding(
                "silent",
                f"{spec.display} has posted nothing for {_span(now - newest)} (newest post "
                f"{newest:%Y-%m-%d %H:%M} UTC; silent_after is {_span(spec.silent_after)})",
            )
        return None

    async def _newest_post(self, channel_id: int) -> datetime | None:
        if channel_id not in self._newest:
            from storage.health import newest_post_at

            async with self.engine.connect() as conn:
                self._newest[channel_id] = await newest_post_at(channel_id, conn=conn)
        return self._newest[channel_id]

    async def _note_username(self, spec: ChannelSpec, channel_id: int) -> None:
        from storage.channels import get_channel

        async with self.engine.connect() as conn:
            record = await get_channel(channel_id, conn=conn)
        if record is not None:
            self._usernames[spec.key] = record.username or None

    # -- recording and alerting ----------------------------------------------------------------

    async def _failing_since(
        self, spec: ChannelSpec, channel_id: int | None, since: datetime | None
    ) -> ChannelHealth:
        from storage.health import set_failing_since

        async with self.engine.begin() as conn:
            row = await set_failing_since(spec.key, channel_id, since, conn=conn, at=self.now())
        self.rows[spec.key] = row
        return row

    async def _open(
        self, spec: ChannelSpec, channel_id: int | None, finding: _Finding, now: datetime
    ) -> None:
        from alerts import enqueue_health
        from storage.health import open_problem

        row = self.rows.get(spec.key)
        new_episode = row is None or row.problem is None
        async with self.engine.begin() as conn:
            row = await open_problem(
                spec.key,
                channel_id,
                finding.problem,
                finding.detail,
                conn=conn,
                at=now,
                new_episode=new_episode,
            )
            if new_episode:
                message = self._message(spec, row.channel_id, finding.problem, finding.detail, now)
                await enqueue_health(
                    conn=conn,
                    routes=self.routes(),
                    handle=spec.key,
                    episode=row.episode,
                    message=message,
                    now=now,
                )
        self.rows[spec.key] = row
        log.warning(
            "channel_health_problem",
            channel=spec.key,
            problem=finding.problem,
            detail=finding.detail,
            alerted=new_episode,
        )
        if new_episode:
            self.wake()

    async def _recover(self, spec: ChannelSpec, channel_id: int | None, now: datetime) -> None:
        from alerts import enqueue_health
        from storage.health import close_problem

        before = self.rows[spec.key]
        since = f" since {before.since:%Y-%m-%d %H:%M} UTC" if before.since else ""
        detail = f"{spec.display} is back to normal (it was {before.problem}{since})"
        async with self.engine.begin() as conn:
            row = await close_problem(spec.key, conn=conn, at=now)
            message = self._message(spec, channel_id or row.channel_id, "recovered", detail, now)
            await enqueue_health(
                conn=conn,
                routes=self.routes(),
                handle=spec.key,
                episode=row.episode,
                message=message,
                now=now,
            )
        self.rows[spec.key] = row
        log.info("channel_health_recovered", channel=spec.key, was=before.problem)
        self.wake()

    def _message(
        self, spec: ChannelSpec, channel_id: int | None, event: str, detail: str, now: datetime
    ) -> AlertMessage:
        from alerts import AlertMessage

        username = None if spec.key.isdigit() else spec.key
        return AlertMessage(
            kind="health",
            route="",
            channel_id=channel_id or 0,
            channel_title=spec.label or "",
            channel_username=username,
            text=detail,
            posted_at=now,
            health=event,
        )


def _span(delta: timedelta) -> str:
    """``3d 4h``, ``2h 5m``, ``45m``, ``30s``: a duration for people."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{secs}s"
