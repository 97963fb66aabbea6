"""The account's dialog list: ``messages.getDialogs``, ``getPeerDialogs`` and ``getDialogFilters``.

A simulated account's dialogs are the channels it joined (and is not banned from), newest top
message first, paged as Telegram pages them: after ``offset_peer`` when it is in the list,
otherwise before ``(offset_date, offset_id)``; at most 100 a call. The whole list in one answer
is ``messages.Dialogs``; a part of it is ``messages.DialogsSlice`` with the total ``count``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from telethon.tl import types

from monitor.simulator.model import SimAccount, SimChannel, SimMessage
from monitor.simulator.render import message_tl

if TYPE_CHECKING:
    from monitor.simulator.handlers import RequestHandler

__all__ = ["DialogRequests", "dialog_tl"]

MAX_DIALOGS_LIMIT = 100
ARCHIVE_FOLDER = 1


class DialogRequests:
    """Answers the dialog-list requests for a :class:`RequestHandler`."""

    def __init__(self, handler: RequestHandler) -> None:
        self.handler = handler
        self.backend = handler.backend

    def _entries(self, account: SimAccount) -> list[tuple[SimChannel, SimMessage | None]]:
        """Joined channels with their newest visible message, newest first."""
        faults = self.backend.faults
        entries = []
        for channel in self.backend.channels.values():
            if account.name in channel.joined and not faults.is_banned(channel.id, account.name):
                visible = channel.visible()
                entries.append((channel, visible[0] if len(visible) else None))
        entries.sort(key=lambda e: _order_key(*e), reverse=True)
        return entries

    def _parts(
        self, entries: list[tuple[SimChannel, SimMessage | None]], account: SimAccount
    ) -> dict[str, list[Any]]:
        return {
            "dialogs": [dialog_tl(c, top) for c, top in entries],
            "messages": [message_tl(c, top) for c, top in entries if top is not None],
            "chats": [self.handler.chat(c, account) for c, _ in entries],
            "users": [],
        }

    async def get_dialogs(self, request: Any, account: SimAccount) -> Any:
        entries = [] if request.folder_id == ARCHIVE_FOLDER else self._entries(account)
        start = _start_after(entries, request.offset_peer, request.offset_date, request.offset_id)
        limit = max(0, min(request.limit, MAX_DIALOGS_LIMIT))
        page = entries[start : start + limit]
        if start == 0 and len(page) == len(entries):
            return types.messages.Dialogs(**self._parts(page, account))
        return types.messages.DialogsSlice(count=len(entries), **self._parts(page, account))

    async def get_peer_dialogs(self, request: Any, account: SimAccount) -> Any:
        joined = {c.id for c, _ in self._entries(account)}
        wanted = []
        for inp in request.peers:
            if isinstance(inp, types.InputDialogPeer):
                channel = self.handler.channel_for(inp.peer, account)  # CHANNEL_INVALID...
                if channel.id in joined:
                    visible = channel.visible()
                    wanted.append((channel, visible[0] if len(visible) else None))
        state = await self.handler.updates.get_state(request, account)
        return types.messages.PeerDialogs(**self._parts(wanted, account), state=state)

    async def get_dialog_filters(self, request: Any, account: SimAccount) -> Any:
        """No folders: the account has only the default "All chats" list."""
        return types.messages.DialogFilters(filters=[], tags_enabled=False)


def dialog_tl(channel: SimChannel, top: SimMessage | None) -> types.Dialog:
    """The channel's dialog: its newest visible message, all read, and the channel's pts."""
    top_id = top.id if top is not None else 0
    return types.Dialog(
        peer=types.PeerChannel(channel.id),
        top_message=top_id,
        read_inbox_max_id=top_id,
        read_outbox_max_id=0,
        unread_count=0,
        unread_mentions_count=0,
        unread_reactions_count=0,
        unread_poll_votes_count=0,
        notify_settings=types.PeerNotifySettings(),
        pts=channel.pts,
    )


def _order_key(channel: SimChannel, top: SimMessage | None) -> tuple[float, int, int]:
    when = top.date if top is not None else channel.date
    return (when.timestamp(), top.id if top is not None else 0, channel.id)


def _start_after(
    entries: list[tuple[SimChannel, SimMessage | None]],
    offset_peer: Any,
    offset_date: datetime | None,
    offset_id: int,
) -> int:
    if isinstance(offset_peer, types.InputPeerChannel):
        for i, (channel, _) in enumerate(entries):
            if channel.id == offset_peer.channel_id:
                return i + 1
    if offset_date is not None and offset_date.timestamp() > 0:
        bound = (offset_date.timestamp(), offset_id or 2**31)
        for i, entry in enumerate(entries):
            if _order_key(*entry)[:2] < bound:
                return i
        return len(entries)
    return 0
