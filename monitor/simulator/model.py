"""The simulated Telegram's state: accounts, channels, messages, photos and per-channel pts.

Everything here is plain data plus the operations a scenario or a test performs (post, edit,
delete, ...). Nothing here knows about TL objects or MTProto; ``handlers`` turns this state into
``telethon.tl.types`` answers and ``session`` pushes changes to connected clients.

Identifiers (channel ids, access hashes, photo ids, file references, auth keys) are derived from
the backend's ``seed`` and a stable key, so the same scenario gives the same values on every run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from monitor.simulator.entities import (
    ChangeEvent,
    SimAccount,
    SimChannel,
    SimDocument,
    SimForward,
    SimMessage,
    SimPhoto,
    SimulatorError,
    account_auth_key,
    auth_key_id,
)
from monitor.simulator.faults import Faults
from monitor.simulator.photosizes import derive_photo_sizes
from monitor.simulator.requestlog import RequestLog

__all__ = [
    "Backend",
    "account_auth_key",
    "ChangeEvent",
    "SimAccount",
    "SimChannel",
    "SimDocument",
    "SimForward",
    "SimMessage",
    "SimPhoto",
    "SimulatorError",
]

_UNSET: Any = object()
_ISSUED_KEPT = 4096  # seconds of state dates remembered (older ones: a client gets more, not less)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise SimulatorError(f"naive datetime {value!r}: the simulator needs tz-aware UTC times")
    return value.astimezone(UTC)


class Backend:
    """The whole simulated Telegram. One instance may serve many clients and transports."""

    def __init__(self, *, seed: int = 0, now: Callable[[], datetime] | None = None) -> None:
        self.seed = seed
        self._now = now or (lambda: datetime.now(UTC))
        self.channels: dict[int, SimChannel] = {}
        self.accounts: dict[str, SimAccount] = {}
        self.requests = RequestLog()
        self.faults = Faults()
        self._subscribers: list[Callable[[ChangeEvent], None]] = []
        self._drop_next = 0
        self._photos: dict[int, SimPhoto] = {}
        self._private: dict[int, str | None] = {}  # private channels: their former usernames
        self._documents: dict[int, SimDocument] = {}
        self._photo_counter = 0
        self._group_counter = 0
        self.change_seq = 0  # changes so far, all channels: ``ChangeEvent.seq`` of the last one
        # Second of an update-state date handed out -> the lowest change_seq its holder had seen.
        self._issued: dict[int, int] = {}
        self.add_account("default")

    # -- deterministic identifiers ------------------------------------------------------------

    def derive(self, *parts: object, bits: int = 63) -> int:
        """A stable non-negative integer from the seed and ``parts``."""
        key = ":".join([str(self.seed), *map(str, parts)]).encode()
        return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") >> (64 - bits)

    def derive_bytes(self, *parts: object, n: int = 32) -> bytes:
        out = b""
        i = 0
        while len(out) < n:
            out += hashlib.sha256(
                ":".join([str(self.seed), *map(str, parts), str(i)]).encode()
            ).digest()
            i += 1
        return out[:n]

    def now(self) -> datetime:
        return _utc(self._now())

    # -- accounts --------------------------------------------------------------------------------

    def add_account(
        self, name: str, *, phone: str | None = None, authorized: bool = True
    ) -> SimAccount:
        if name in self.accounts:
            raise SimulatorError(f"account {name!r} already exists")
        index = len(self.accounts)
        account = SimAccount(
            name=name,
            user_id=700_000_000 + index,
            access_hash=self.derive("user", name) - (1 << 62),
            auth_key=account_auth_key(name),
            phone=phone or f"9996{index:06d}",
            first_name=name.capitalize(),
            authorized=authorized,
        )
        self.accounts[name] = account
        return account

    def account(self, name: str) -> SimAccount:
        try:
            return self.accounts[name]
        except KeyError:
            raise SimulatorError(f"no simulated account named {name!r}") from None

    def account_by_key_id(self, key_id: int) -> SimAccount | None:
        for account in self.accounts.values():
            if auth_key_id(account.auth_key) == key_id:
                return account
        return None

    # -- channels --------------------------------------------------------------------------------

    def add_channel(
        self,
        username: str | None,
        title: str,
        *,
        about: str = "",
        participants: int = 0,
        channel_id: int | None = None,
        access_hash: int | None = None,
        photo: bytes | None = None,
        date: datetime | None = None,
    ) -> SimChannel:
        key = username or title
        if username and self.channel_by_username(username):
            raise SimulatorError(f"username @{username} is already taken")
        cid = channel_id or 1_000_000_000 + self.derive("channel", key) % 900_000_000
        if cid in self.channels:
            raise SimulatorError(f"channel id {cid} already exists")
        channel = SimChannel(
            id=cid,
            access_hash=access_hash or self.derive("channel_hash", cid) - (1 << 62),
            username=username,
            title=title,
            about=about,
            participants=participants,
            date=_utc(date) if date else datetime(2015, 1, 1, tzinfo=UTC),
        )
        if photo is not None:
            channel.photo = self._make_photo(photo, ("chat_photo", cid), channel.date)
        self.channels[cid] = channel
        return channel

    def rename_channel(
        self, channel_id: int, *, username: str | None = _UNSET, title: str | None = None
    ) -> None:
        channel = self.channel(channel_id)
        if username is not _UNSET:
            other = self.channel_by_username(username) if username else None
            if other is not None and other.id != channel_id:
                raise SimulatorError(f"username @{username} is already taken")
            channel.username = username
        if title is not None:
            channel.title = title

    def channel(self, channel_id: int) -> SimChannel:
        try:
            return self.channels[channel_id]
        except KeyError:
            raise SimulatorError(f"no simulated channel with id {channel_id}") from None

    def channel_by_username(self, username: str | None) -> SimChannel | None:
        if not username:
            return None
        wanted = username.lstrip("@").casefold()
        for channel in self.channels.values():
            if channel.username and channel.username.casefold() == wanted:
                return channel
        return None

    def make_private(self, channel_id: int) -> None:
        """The channel goes private, as when its admins turn it so: its username is freed
        (resolving it answers USERNAME_NOT_OCCUPIED) and every request touching it answers
        CHANNEL_PRIVATE, for every account. :meth:`make_public` undoes it."""
        channel = self.channel(channel_id)
        if channel_id not in self._private:
            self._private[channel_id] = channel.username
            channel.username = None
        self.faults.ban(channel_id)

    def make_public(self, channel_id: int) -> None:
        """Undo :meth:`make_private`: the username (if still free) and access come back."""
        channel = self.channel(channel_id)
        username = self._private.pop(channel_id, None)
        if username and self.channel_by_username(username) is None:
            channel.username = username
        self.faults.unban(channel_id)

    def silence(self, channel_id: int, since: datetime) -> None:
        """Make the channel silent since ``since``: its messages are dated earlier, as if it
        had posted nothing after then (order and spacing kept). A new :meth:`post` ends it."""
        channel = self.channel(channel_id)
        dates = [m.date for m in channel.messages.values()]
        if not dates:
            return
        shift = max(dates) - _utc(since)
        if shift.total_seconds() <= 0:
            return
        for message in channel.messages.values():
            message.date -= shift

    def join(self, account: str, channel_id: int) -> None:
        self.channel(channel_id).joined.add(self.account(account).name)

    def remove_member(self, account: str, channel_id: int) -> None:
        """The channel's admin removes ``account``: it leaves the account's dialogs and no
        longer gets the channel's updates (it may join again)."""
        self.channel(channel_id).joined.discard(self.account(account).name)

    # -- messages --------------------------------------------------------------------------------

    def post(
        self,
        channel_id: int,
        text: str = "",
        *,
        date: datetime | None = None,
        entities: list[Any] | None = None,
        photo: bytes | None = None,
        document: tuple[bytes, str] | None = None,
        grouped_id: int | None = None,
        views: int = 0,
        forwards: int = 0,
        replies: int = 0,
        reactions: dict[str, int] | None = None,
        fwd_from: SimForward | None = None,
        reply_to: int | None = None,
    ) -> SimMessage:
        channel = self.channel(channel_id)
        channel.last_message_id += 1
        mid = channel.last_message_id
        when = _utc(date) if date else self.now()
        message = SimMessage(
            id=mid,
            date=when,
            text=text,
            entities=list(entities or []),
            views=views,
            forwards=forwards,
            replies=replies,
            reactions=dict(reactions or {}),
            grouped_id=grouped_id,
            fwd_from=fwd_from,
            reply_to=reply_to,
        )
        if photo is not None:
            message.photo = self._make_photo(photo, ("photo", channel_id, mid), when)
        elif document is not None:  # (bytes, mime type): a file posted as a document
            key = ("document", channel_id, mid)
            message.document = SimDocument(
                id=self.derive(*key, "id"),
                access_hash=self.derive(*key, "hash") - (1 << 62),
                file_reference=b"\x03" + self.derive_bytes(*key, "ref", n=15),
                data=document[0],
                mime_type=document[1],
                file_name=None,
                date=when,
            )
            self._documents[message.document.id] = message.document
        channel.add_message(message)
        self._change("new", channel, (mid,), 1)
        return message

    def post_album(
        self,
        channel_id: int,
        photos: list[bytes],
        caption: str = "",
        *,
        date: datetime | None = None,
        **kw: Any,
    ) -> list[SimMessage]:
        if not photos:
            raise SimulatorError("an album needs at least one photo")
        self._group_counter += 1
        grouped_id = kw.pop("grouped_id", None) or self.derive(
            "group", channel_id, self._group_counter
        )
        when = _utc(date) if date else self.now()
        return [
            self.post(
                channel_id,
                caption if i == 0 else "",
                date=when,
                photo=data,
                grouped_id=grouped_id,
                **(kw if i == 0 else {k: v for k, v in kw.items() if k != "entities"}),
            )
            for i, data in enumerate(photos)
        ]

    def message(self, channel_id: int, message_id: int) -> SimMessage:
        message = self.channel(channel_id).messages.get(message_id)
        if message is None:
            raise SimulatorError(f"no message {message_id} in channel {channel_id}")
        return message

    def edit(
        self, channel_id: int, message_id: int, text: str, *, date: datetime | None = None
    ) -> SimMessage:
        message = self.message(channel_id, message_id)
        if message.deleted:
            raise SimulatorError(f"message {message_id} in channel {channel_id} is deleted")
        message.text = text
        message.entities = []
        message.edit_date = _utc(date) if date else self.now()
        self._change("edit", self.channel(channel_id), (message_id,), 1)
        return message

    def delete(self, channel_id: int, message_ids: list[int]) -> None:
        channel = self.channel(channel_id)
        gone = []
        for mid in message_ids:
            message = self.message(channel_id, mid)
            if not message.deleted:
                channel.mark_deleted(mid)
                gone.append(mid)
        if gone:
            self._change("delete", channel, tuple(gone), len(gone))

    def pin(self, channel_id: int, message_id: int, *, pinned: bool = True) -> bool:
        """Pin (or unpin) a message, as a channel admin does; returns whether anything changed.

        The message's ``pinned`` flag shows in history and in ``messages.search`` with
        ``InputMessagesFilterPinned``; the change takes a pts and pushes
        ``UpdatePinnedChannelMessages``. (Telegram also posts a "pinned a message" service
        message; the simulator does not.)"""
        message = self.message(channel_id, message_id)
        if message.deleted:
            raise SimulatorError(f"message {message_id} in channel {channel_id} is deleted")
        if message.pinned == pinned:
            return False
        message.pinned = pinned
        self._change("pin" if pinned else "unpin", self.channel(channel_id), (message_id,), 1)
        return True

    def unpin(self, channel_id: int, message_id: int) -> bool:
        return self.pin(channel_id, message_id, pinned=False)

    def bump(
        self,
        channel_id: int,
        message_id: int,
        *,
        views: int = 0,
        forwards: int = 0,
        reactions: dict[str, int] | None = None,
    ) -> None:
        """Add to a message's counters (no update is pushed, as on Telegram)."""
        message = self.message(channel_id, message_id)
        message.views += views
        message.forwards += forwards
        for emoji, n in (reactions or {}).items():
            message.reactions[emoji] = message.reactions.get(emoji, 0) + n

    def expire_file_reference(self, channel_id: int, message_id: int) -> None:
        """Give the message's photo a new file reference; downloads with the old one fail."""
        photo = self.message(channel_id, message_id).photo
        if photo is None:
            raise SimulatorError(f"message {message_id} in channel {channel_id} has no photo")
        photo.file_reference = self.derive_bytes("fileref", photo.id, photo.file_reference, n=16)

    def photo_bytes(self, channel_id: int, message_id: int) -> bytes:
        photo = self.message(channel_id, message_id).photo
        if photo is None:
            raise SimulatorError(f"message {message_id} in channel {channel_id} has no photo")
        return photo.largest

    def photo(self, photo_id: int) -> SimPhoto | None:
        return self._photos.get(photo_id)

    def document(self, document_id: int) -> SimDocument | None:
        return self._documents.get(document_id)

    def _make_photo(self, data: bytes, key: tuple[object, ...], date: datetime) -> SimPhoto:
        sizes, dims = derive_photo_sizes(data)
        photo = SimPhoto(
            id=self.derive(*key, "id"),
            access_hash=self.derive(*key, "hash") - (1 << 62),
            file_reference=b"\x02" + self.derive_bytes(*key, "ref", n=15),
            sizes=sizes,
            dimensions=dims,
            date=date,
        )
        self._photos[photo.id] = photo
        return photo

    # -- pushed updates --------------------------------------------------------------------------

    def subscribe(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Call ``callback`` on every change; returns a function that unsubscribes."""
        self._subscribers.append(callback)
        return lambda: self._subscribers.remove(callback) if callback in self._subscribers else None

    def state_date(self, seen: int | None = None) -> datetime:
        """The ``date`` of an update state given to a client that has seen every change up to
        ``seen`` (``change_seq``, default: all of them), as in getState, getDifference or a
        pushed ``Updates``.

        Telegram's dates are whole seconds, so a date alone cannot say which changes of its own
        second the client has seen: the backend remembers the lowest ``seen`` handed out with
        each second, and :meth:`missed_since` uses it."""
        now = self.now()
        second = int(now.timestamp())
        seen = self.change_seq if seen is None else seen
        if second not in self._issued:
            if len(self._issued) >= _ISSUED_KEPT:  # forget the oldest seconds (dict order)
                for old in list(self._issued)[: _ISSUED_KEPT // 2]:
                    del self._issued[old]
            self._issued[second] = seen
        elif seen < self._issued[second]:
            self._issued[second] = seen
        return now

    def missed_since(
        self, channel: SimChannel, date: datetime, *, at_most: int | None = None
    ) -> list[ChangeEvent]:
        """The channel's changes a client whose update state has ``date`` may not have seen
        (a few it did see may be included: clients skip those by pts), oldest first; only the
        newest ``at_most`` of them when given."""
        second = int(date.timestamp())
        seen = self._issued.get(second, -1)
        missed: list[ChangeEvent] = []
        for event in reversed(channel.changes):
            at = int(event.at.timestamp()) if event.at is not None else second + 1
            if at < second or (at == second and event.seq <= seen):
                break
            if at_most is not None and len(missed) == at_most:
                break
            missed.append(event)
        missed.reverse()
        return missed

    def drop_next_updates(self, n: int = 1) -> None:
        """Test hook: the next ``n`` pushed updates are lost (pts still advances: a gap)."""
        self._drop_next += n

    def _change(self, kind: str, channel: SimChannel, ids: tuple[int, ...], count: int) -> None:
        channel.pts += count
        dropped = self._drop_next > 0
        if dropped:
            self._drop_next -= 1
        self.change_seq += 1
        event = ChangeEvent(
            kind, channel.id, ids, channel.pts, count, dropped, self.now(), self.change_seq
        )
        channel.changes.append(event)
        for callback in list(self._subscribers):
            callback(event)
