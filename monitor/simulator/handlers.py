"""Answer the client's TL requests from the backend model, with Telegram's rules and errors."""

from __future__ import annotations

import asyncio
import re
from bisect import bisect_right
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from telethon.tl import functions, types
from telethon.tl.tlobject import TLRequest

from monitor.simulator.dialogs import DialogRequests
from monitor.simulator.difference import UpdateRequests
from monitor.simulator.entities import NewestFirst
from monitor.simulator.model import Backend, SimAccount, SimChannel, SimMessage
from monitor.simulator.render import channel_tl, config_tl, message_tl, photo_tl, user_tl
from monitor.simulator.search import matching as search_matching

__all__ = ["DropConnection", "RequestHandler", "RpcError", "internal_error", "request_name"]

MIB = 1 << 20
MAX_HISTORY_LIMIT = 100
LOGIN_CODE = "12345"
_USERNAME_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{3,31}$")
_WRAPPERS = (
    functions.InvokeWithLayerRequest,
    functions.InitConnectionRequest,
    functions.InvokeWithoutUpdatesRequest,
    functions.InvokeAfterMsgRequest,
    functions.InvokeAfterMsgsRequest,
)
# Requests an account that has not signed in may still make.
_ANONYMOUS = {"GetConfigRequest", "SendCodeRequest", "SignInRequest"}


class RpcError(Exception):
    """Answered to the client as ``rpc_error`` (Telethon raises its matching exception class)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code
        self.message = message


class DropConnection(Exception):
    """A fault rule says: close the client's connection instead of answering."""


def request_name(request: object) -> str:
    return type(request).__name__


def internal_error(name: str) -> str:
    """The RPC error a request gets when its handler fails with a bug (not a Telegram error)."""
    return f"SIMULATOR_INTERNAL_ERROR_{name.upper()}"


def unwrap(request: TLRequest) -> TLRequest:
    while isinstance(request, _WRAPPERS):
        request = request.query
    return request


Handler = Callable[[Any, SimAccount], Awaitable[Any]]


class RequestHandler:
    """One per backend; ``handle`` answers a request on behalf of an account."""

    def __init__(self, backend: Backend, *, host: str = "127.0.0.1", port: int = 443) -> None:
        self.backend = backend
        self.host = host
        self.port = port
        dialogs = DialogRequests(self)
        self.updates = UpdateRequests(self)
        self._table: dict[type, Handler] = {
            functions.help.GetConfigRequest: self.get_config,
            functions.users.GetUsersRequest: self.get_users,
            functions.updates.GetStateRequest: self.updates.get_state,
            functions.updates.GetDifferenceRequest: self.updates.get_difference,
            functions.updates.GetChannelDifferenceRequest: self.updates.get_channel_difference,
            functions.contacts.ResolveUsernameRequest: self.resolve_username,
            functions.channels.GetChannelsRequest: self.get_channels,
            functions.channels.GetFullChannelRequest: self.get_full_channel,
            functions.channels.GetMessagesRequest: self.get_messages,
            functions.channels.JoinChannelRequest: self.join_channel,
            functions.channels.LeaveChannelRequest: self.leave_channel,
            functions.messages.GetHistoryRequest: self.get_history,
            functions.messages.SearchRequest: self.search,
            functions.messages.GetDialogsRequest: dialogs.get_dialogs,
            functions.messages.GetPeerDialogsRequest: dialogs.get_peer_dialogs,
            functions.messages.GetDialogFiltersRequest: dialogs.get_dialog_filters,
            functions.upload.GetFileRequest: self.get_file,
            functions.auth.SendCodeRequest: self.send_code,
            functions.auth.SignInRequest: self.sign_in,
        }

    async def handle(self, request: TLRequest, account: SimAccount) -> Any:
        """Answer ``request`` (wrappers removed); raises RpcError or DropConnection."""
        query = unwrap(request)
        name = request_name(query)
        faults = self.backend.faults
        target = getattr(query, "peer", None) or getattr(query, "channel", None)
        channel = getattr(target, "channel_id", None)
        try:
            if faults.should_drop(name):
                raise DropConnection(name)
            held = faults.hold_for(name, account.name)
            if held is not None and not held.applied:
                await held.released.wait()
            delay = faults.delay_for(name)
            if delay:
                await asyncio.sleep(delay)
            flood = faults.flood_error(name, account.name)
            if flood is not None:
                raise RpcError(420, f"{flood[0]}_{flood[1]}")
            failure = faults.failure_for(name)
            if failure is not None:
                raise RpcError(*failure)
            if not account.authorized and name not in _ANONYMOUS:
                raise RpcError(401, "AUTH_KEY_UNREGISTERED")
            handler = self._table.get(type(query))
            if handler is None:
                module = type(query).__module__.rsplit(".", 1)[-1]
                raise RpcError(400, f"METHOD_NOT_SIMULATED_{module}.{name}".upper())
            result = await handler(query, account)
        except RpcError as exc:
            self.backend.requests.record(name, account.name, exc.message, channel=channel)
            raise
        except DropConnection:
            self.backend.requests.record(name, account.name, "DROPPED", channel=channel)
            raise
        except Exception as exc:  # a simulator bug: answered SIMULATOR_INTERNAL_ERROR_*
            detail = f"{type(exc).__name__}: {exc}"
            self.backend.requests.record(
                name, account.name, internal_error(name), detail=detail, channel=channel
            )
            raise
        self.backend.requests.record(name, account.name, channel=channel)
        if held is not None and held.applied:
            await held.released.wait()
        return result

    # -- resolution helpers -----------------------------------------------------------------------

    def channel_for(self, peer: Any, account: SimAccount) -> SimChannel:
        if isinstance(peer, types.InputPeerChannel | types.InputChannel):
            channel = self.backend.channels.get(peer.channel_id)
            if channel is None or channel.access_hash_for(account.name) != peer.access_hash:
                raise RpcError(400, "CHANNEL_INVALID")
            if self.backend.faults.is_banned(channel.id, account.name):
                raise RpcError(400, "CHANNEL_PRIVATE")
            return channel
        raise RpcError(400, "PEER_ID_INVALID")

    def chat(self, channel: SimChannel, account: SimAccount) -> types.TypeChat:
        banned = self.backend.faults.is_banned(channel.id, account.name)
        return channel_tl(channel, account.name, banned=banned)

    def channel_messages(
        self, channel: SimChannel, account: SimAccount, messages: list[Any], count: int
    ) -> types.messages.ChannelMessages:
        return types.messages.ChannelMessages(
            pts=channel.pts,
            count=count,
            messages=messages,
            topics=[],
            chats=[self.chat(channel, account)],
            users=[],
        )

    # -- connection and account --------------------------------------------------------------------

    async def get_config(self, request: Any, account: SimAccount) -> types.Config:
        return config_tl(self.host, self.port, self.backend.now())

    async def get_users(self, request: Any, account: SimAccount) -> list[types.User]:
        users = []
        for inp in request.id:
            if isinstance(inp, types.InputUserSelf) or (
                isinstance(inp, types.InputUser) and inp.user_id == account.user_id
            ):
                users.append(user_tl(account))
        return users

    async def send_code(self, request: Any, account: SimAccount) -> types.auth.SentCode:
        return types.auth.SentCode(
            type=types.auth.SentCodeTypeApp(length=len(LOGIN_CODE)),
            phone_code_hash=f"{self.backend.derive('code', request.phone_number):x}",
        )

    async def sign_in(self, request: Any, account: SimAccount) -> types.auth.Authorization:
        expected_hash = f"{self.backend.derive('code', request.phone_number):x}"
        if request.phone_code_hash != expected_hash:
            raise RpcError(400, "PHONE_CODE_EXPIRED")
        if request.phone_code != LOGIN_CODE:
            raise RpcError(400, "PHONE_CODE_INVALID")
        if request.phone_number.lstrip("+") != account.phone:
            raise RpcError(400, "PHONE_NUMBER_INVALID")
        account.authorized = True
        return types.auth.Authorization(user=user_tl(account))

    # -- channels -------------------------------------------------------------------------------------

    async def resolve_username(self, request: Any, account: SimAccount) -> Any:
        if not _USERNAME_RE.match(request.username):
            raise RpcError(400, "USERNAME_INVALID")
        channel = self.backend.channel_by_username(request.username)
        if channel is None:
            raise RpcError(400, "USERNAME_NOT_OCCUPIED")
        return types.contacts.ResolvedPeer(
            peer=types.PeerChannel(channel.id), chats=[self.chat(channel, account)], users=[]
        )

    async def get_channels(self, request: Any, account: SimAccount) -> types.messages.Chats:
        chats = []
        for inp in request.id:
            channel = self.backend.channels.get(getattr(inp, "channel_id", 0))
            wanted = getattr(inp, "access_hash", None)
            if channel is None or channel.access_hash_for(account.name) != wanted:
                raise RpcError(400, "CHANNEL_INVALID")
            chats.append(self.chat(channel, account))
        return types.messages.Chats(chats=chats)

    async def get_full_channel(self, request: Any, account: SimAccount) -> Any:
        channel = self.channel_for(request.channel, account)
        full = types.ChannelFull(
            id=channel.id,
            about=channel.about,
            read_inbox_max_id=0,
            read_outbox_max_id=0,
            unread_count=0,
            chat_photo=photo_tl(channel.photo) if channel.photo else types.PhotoEmpty(id=0),
            notify_settings=types.PeerNotifySettings(),
            bot_info=[],
            pts=channel.pts,
            participants_count=channel.participants,
        )
        return types.messages.ChatFull(
            full_chat=full, chats=[self.chat(channel, account)], users=[]
        )

    async def join_channel(self, request: Any, account: SimAccount) -> types.Updates:
        channel = self.channel_for(request.channel, account)
        channel.joined.add(account.name)
        return self._membership_changed(channel, account)

    async def leave_channel(self, request: Any, account: SimAccount) -> types.Updates:
        channel = self.channel_for(request.channel, account)
        channel.joined.discard(account.name)
        return self._membership_changed(channel, account)

    def _membership_changed(self, channel: Any, account: SimAccount) -> types.Updates:
        """What Telegram answers a join or leave with: the channel, no other updates."""
        return types.Updates(
            updates=[],
            users=[],
            chats=[self.chat(channel, account)],
            date=self.backend.now(),
            seq=0,
        )

    async def get_messages(self, request: Any, account: SimAccount) -> Any:
        channel = self.channel_for(request.channel, account)
        if not request.id:
            raise RpcError(400, "MESSAGE_IDS_EMPTY")
        out: list[Any] = []
        for inp in request.id:
            mid = getattr(inp, "id", 0)
            message = channel.messages.get(mid)
            if message is None:
                out.append(types.MessageEmpty(id=mid, peer_id=types.PeerChannel(channel.id)))
            else:
                out.append(message_tl(channel, message))
        return self.channel_messages(channel, account, out, len(out))

    # -- history and search -----------------------------------------------------------------------

    async def get_history(self, request: Any, account: SimAccount) -> Any:
        channel = self.channel_for(request.peer, account)
        visible = channel.visible()
        page = history_page(
            visible,
            offset_id=request.offset_id,
            offset_date=request.offset_date,
            add_offset=request.add_offset,
            limit=request.limit,
            max_id=request.max_id,
            min_id=request.min_id,
        )
        rendered = [message_tl(channel, m) for m in page]
        return self.channel_messages(channel, account, rendered, len(visible))

    async def search(self, request: Any, account: SimAccount) -> Any:
        channel = self.channel_for(request.peer, account)
        found = search_matching(channel.visible(), request)
        page = history_page(
            found,
            offset_id=request.offset_id,
            offset_date=None,
            add_offset=request.add_offset,
            limit=request.limit,
            max_id=request.max_id,
            min_id=request.min_id,
        )
        rendered = [message_tl(channel, m) for m in page]
        return self.channel_messages(channel, account, rendered, len(found))

    # -- files --------------------------------------------------------------------------------------

    async def get_file(self, request: Any, account: SimAccount) -> types.upload.File:
        loc = request.location
        file_type: types.storage.TypeFileType = types.storage.FileJpeg()
        if isinstance(loc, types.InputDocumentFileLocation):
            document = self.backend.document(loc.id)
            if document is None or document.access_hash != loc.access_hash:
                raise RpcError(400, "LOCATION_INVALID")
            if loc.file_reference != document.file_reference:
                raise RpcError(400, "FILE_REFERENCE_EXPIRED")
            data, date, file_type = document.data, document.date, types.storage.FileUnknown()
        elif isinstance(loc, types.InputPhotoFileLocation):
            photo = self.backend.photo(loc.id)
            if photo is None or photo.access_hash != loc.access_hash:
                raise RpcError(400, "LOCATION_INVALID")
            if loc.file_reference != photo.file_reference:
                raise RpcError(400, "FILE_REFERENCE_EXPIRED")
            if loc.thumb_size not in photo.sizes:
                raise RpcError(400, "LOCATION_INVALID")
            data, date = photo.sizes[loc.thumb_size], photo.date
        elif isinstance(loc, types.InputPeerPhotoFileLocation):
            channel = self.channel_for(loc.peer, account)
            photo = channel.photo
            if photo is None or photo.id != loc.photo_id:
                raise RpcError(400, "LOCATION_INVALID")
            sizes = sorted(photo.sizes.values(), key=len)
            data, date = (sizes[-1] if loc.big else sizes[0]), photo.date
        else:
            raise RpcError(400, "LOCATION_INVALID")
        check_file_window(request.offset, request.limit, precise=bool(request.precise))
        return types.upload.File(
            type=file_type,
            mtime=int(date.timestamp()),
            bytes=data[request.offset : request.offset + request.limit],
        )


def _is_set(value: datetime | None) -> bool:
    """A TL date of 0 (sent for None) means "no date"."""
    return value is not None and value.timestamp() > 0


def check_file_window(offset: int, limit: int, *, precise: bool = False) -> None:
    """Telegram's upload.getFile rules: offsets on 4 KiB, limits dividing 1 MiB, no chunk
    crossing a 1 MiB boundary (``precise``: 1 KiB multiples, up to 1 MiB)."""
    unit = 1024 if precise else 4096
    if offset < 0 or offset % unit:
        raise RpcError(400, "OFFSET_INVALID")
    if limit <= 0 or limit % unit or limit > MIB or (not precise and MIB % limit):
        raise RpcError(400, "LIMIT_INVALID")
    if offset // MIB != (offset + limit - 1) // MIB:
        raise RpcError(400, "LIMIT_INVALID")


def history_page(
    newest_first: Sequence[SimMessage],
    *,
    offset_id: int,
    offset_date: datetime | None,
    add_offset: int,
    limit: int,
    max_id: int,
    min_id: int,
) -> list[SimMessage]:
    """Telegram's history paging: start at the first message older than ``offset_id`` (or sent
    before ``offset_date``), move ``add_offset`` (negative = newer), take ``limit`` (at most 100),
    then keep only ids in (min_id, max_id).

    ``newest_first`` is ordered by id, descending; finding the start is a bisect, so a page costs
    O(log n + limit) on a channel's :meth:`SimChannel.visible` view.
    """
    if offset_id:
        start = bisect_right(newest_first, -offset_id, key=lambda m: -m.id)
    elif offset_date is not None and _is_set(offset_date):
        start = _first_before(newest_first, offset_date)
    else:
        start = 0
    start += add_offset
    stop = start + max(0, min(limit, MAX_HISTORY_LIMIT))
    page = newest_first[max(start, 0) : max(stop, 0)]
    return [m for m in page if (not max_id or m.id < max_id) and (not min_id or m.id > min_id)]


def _first_before(newest_first: Sequence[SimMessage], before: datetime) -> int:
    """Index of the first message sent before ``before`` (a bisect when dates follow ids)."""
    if isinstance(newest_first, NewestFirst) and newest_first.dates_ascending:
        moment = -before.timestamp()
        return bisect_right(newest_first, moment, key=lambda m: -m.date.timestamp())
    return next((i for i, m in enumerate(newest_first) if m.date < before), len(newest_first))
