"""Update state and catch-up: ``updates.getState``, ``getDifference`` and ``getChannelDifference``.

Every change to a channel (new post, edit, deletion, pin) takes the next pts of that channel and
is kept in the channel's log (:attr:`SimChannel.changes`), so a client that was away can be told
what it missed, as Telegram tells it:

- ``getChannelDifference(pts)``: ``ChannelDifferenceEmpty`` when nothing changed after ``pts``;
  ``ChannelDifference`` with the posts that are new and, in ``other_updates``, the edits,
  deletions and pins; ``ChannelDifferenceTooLong`` (the dialog with the current pts and the
  latest posts) when more than ``limit`` pts passed (at most 100 for a user account), after which
  a client must refetch history itself.
- ``getDifference(pts, date, qts)``: the account's common state (the simulator has no private
  chats, so its pts stays 1) and, in ``other_updates``, what the account's channels changed since
  ``date``: the channel updates themselves when there are few (Telethon applies them in pts
  order, skipping those it has), ``UpdateChannelTooLong`` for a channel with more, so the client
  asks ``getChannelDifference`` for it.

Telethon 1.45 note: its MessageBox drops the pts-carrying ``other_updates`` of a channel
difference (it has already moved to the difference's final pts), so a channel's edits and
deletions reach its event handlers only when they come inline in ``getDifference`` (or pushed).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from telethon.tl import types

from monitor.simulator.dialogs import dialog_tl
from monitor.simulator.entities import ChangeEvent
from monitor.simulator.model import SimAccount, SimChannel
from monitor.simulator.render import change_update, message_tl

if TYPE_CHECKING:
    from monitor.simulator.handlers import RequestHandler

__all__ = ["ACCOUNT_PTS", "INLINE_CHANNEL_PTS", "USER_CHANNEL_DIFFERENCE_LIMIT", "UpdateRequests"]

ACCOUNT_PTS = 1  # the common message box: private chats and small groups, none simulated
USER_CHANNEL_DIFFERENCE_LIMIT = 100  # getChannelDifference's largest limit for a user account
# getDifference gives a channel's missed updates inline up to this many pts, otherwise
# UpdateChannelTooLong. Telegram does not document its threshold; this is the simulator's.
INLINE_CHANNEL_PTS = 20


class UpdateRequests:
    """Answers the update-state requests for a :class:`RequestHandler`."""

    def __init__(self, handler: RequestHandler) -> None:
        self.handler = handler
        self.backend = handler.backend

    async def get_state(self, request: Any, account: SimAccount) -> types.updates.State:
        return self._state()

    def _state(self) -> types.updates.State:
        date = self.backend.state_date()
        return types.updates.State(pts=ACCOUNT_PTS, qts=0, date=date, seq=0, unread_count=0)

    async def get_difference(self, request: Any, account: SimAccount) -> Any:
        other: list[Any] = []
        chats: list[Any] = []
        for channel in sorted(self.backend.channels.values(), key=lambda c: c.id):
            if account.name not in channel.joined:
                continue
            if self.backend.faults.is_banned(channel.id, account.name):
                continue
            # Scanning one change past what fits inline tells a "too long" channel.
            missed = self.backend.missed_since(
                channel, request.date, at_most=INLINE_CHANNEL_PTS + 1
            )
            if not missed:
                continue
            chats.append(self.handler.chat(channel, account))
            if sum(e.pts_count for e in missed) > INLINE_CHANNEL_PTS:
                other.append(types.UpdateChannelTooLong(channel.id, pts=channel.pts))
            else:
                other.extend(inline_updates(channel, missed))
        state = self._state()
        if not other:
            return types.updates.DifferenceEmpty(date=state.date, seq=state.seq)
        return types.updates.Difference(
            new_messages=[],
            new_encrypted_messages=[],
            other_updates=other,
            chats=chats,
            users=[],
            state=state,
        )

    async def get_channel_difference(self, request: Any, account: SimAccount) -> Any:
        channel = self.handler.channel_for(request.channel, account)
        limit = min(max(request.limit, 1), USER_CHANNEL_DIFFERENCE_LIMIT)
        # A pts the channel never reached (a session from an earlier simulator run) is answered
        # with the current pts, so the client adopts it.
        if request.pts >= channel.pts:
            return types.updates.ChannelDifferenceEmpty(pts=channel.pts, final=True)
        if request.pts + limit < channel.pts:
            return self._too_long(channel, account, limit)
        events = _after(channel, request.pts)
        new_ids = {mid for e in events if e.kind == "new" for mid in e.message_ids}
        news = [
            message_tl(channel, channel.messages[mid])
            for e in events
            if e.kind == "new"
            for mid in e.message_ids
            if not channel.messages[mid].deleted
        ]
        other = [
            change_update(channel, e)
            for e in events
            if e.kind != "new"
            and not (
                e.kind == "edit"
                and (e.message_ids[0] in new_ids or channel.messages[e.message_ids[0]].deleted)
            )
        ]
        return types.updates.ChannelDifference(
            pts=channel.pts,
            new_messages=news,
            other_updates=other,
            chats=[self.handler.chat(channel, account)],
            users=[],
            final=True,
        )

    def _too_long(self, channel: SimChannel, account: SimAccount, limit: int) -> Any:
        latest = channel.visible()[:limit]
        return types.updates.ChannelDifferenceTooLong(
            dialog=dialog_tl(channel, latest[0] if latest else None),
            messages=[message_tl(channel, m) for m in latest],
            chats=[self.handler.chat(channel, account)],
            users=[],
            final=True,
        )


def _after(channel: SimChannel, pts: int) -> list[ChangeEvent]:
    """The channel's changes after ``pts``, oldest first (the log is in pts order: a bisect)."""
    return channel.changes[bisect_right(channel.changes, pts, key=lambda e: e.pts) :]


def inline_updates(channel: SimChannel, events: list[ChangeEvent]) -> list[types.TypeUpdate]:
    """``events`` as updates with their pts. A post that was deleted later has nothing to show:
    its new-message and edit updates are left out and their pts_count is carried by the next
    update, so the client sees no gap."""
    out: list[types.TypeUpdate] = []
    carried = 0
    for event in events:
        mid = event.message_ids[0]
        if event.kind in ("new", "edit") and channel.messages[mid].deleted:
            carried += event.pts_count
            continue
        update = change_update(channel, event)
        if carried:
            update.pts_count += carried
            carried = 0
        out.append(update)
    return out
