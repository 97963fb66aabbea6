"""Plain records of the simulated Telegram: accounts, channels, messages, photos, changes."""

from __future__ import annotations

import hashlib
from bisect import bisect_left, insort
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, overload

from monitor.simulator.keys import account_auth_key

__all__ = [
    "ChangeEvent",
    "SimAccount",
    "SimChannel",
    "SimDocument",
    "SimForward",
    "SimMessage",
    "SimPhoto",
    "SimulatorError",
    "NewestFirst",
    "account_auth_key",
    "auth_key_id",
]


class SimulatorError(ValueError):
    """A scenario or test asked the backend for something that does not exist or is invalid."""


@dataclass
class SimForward:
    """The forwarded-from header of a message."""

    channel_id: int | None
    message_id: int | None
    date: datetime
    from_name: str | None = None


@dataclass
class SimPhoto:
    """A photo with its sizes; ``sizes`` maps a size type to exact JPEG bytes."""

    id: int
    access_hash: int
    file_reference: bytes
    sizes: dict[str, bytes]
    dimensions: dict[str, tuple[int, int]]
    date: datetime

    @property
    def largest_type(self) -> str:
        return max(self.sizes, key=lambda t: len(self.sizes[t]))

    @property
    def largest(self) -> bytes:
        return self.sizes[self.largest_type]


@dataclass
class SimDocument:
    """A file posted as a document, served whole; ``mime_type`` as the poster's client set it
    (Telegram sends "" when there is none)."""

    id: int
    access_hash: int
    file_reference: bytes
    data: bytes
    mime_type: str
    file_name: str | None
    date: datetime


@dataclass
class SimMessage:
    id: int
    date: datetime
    text: str = ""
    entities: list[Any] = field(default_factory=list)
    edit_date: datetime | None = None
    views: int = 0
    forwards: int = 0
    replies: int = 0
    reactions: dict[str, int] = field(default_factory=dict)
    grouped_id: int | None = None
    photo: SimPhoto | None = None
    document: SimDocument | None = None
    fwd_from: SimForward | None = None
    reply_to: int | None = None
    deleted: bool = False
    pinned: bool = False


@dataclass(frozen=True)
class ChangeEvent:
    """A change in a channel's pts log, pushed to subscribers: kind is 'new', 'edit', 'delete',
    'pin' or 'unpin'."""

    kind: str
    channel_id: int
    message_ids: tuple[int, ...]
    pts: int
    pts_count: int
    dropped: bool = False  # test hook: the push is lost in transit (pts still advanced)
    at: datetime | None = None  # when it happened (the backend's clock)
    seq: int = 0  # the backend's change counter: orders changes across channels


@dataclass
class SimChannel:
    id: int
    access_hash: int
    username: str | None
    title: str
    about: str = ""
    participants: int = 0
    date: datetime = field(default_factory=lambda: datetime(2015, 1, 1, tzinfo=UTC))
    photo: SimPhoto | None = None
    pts: int = 1
    messages: dict[int, SimMessage] = field(default_factory=dict)
    joined: set[str] = field(default_factory=set)  # account names that joined
    last_message_id: int = 0
    changes: list[ChangeEvent] = field(default_factory=list)  # pts history, oldest first

    def access_hash_for(self, account: str) -> int:
        """Telegram gives every account its own access hash for a channel: ``access_hash`` is
        the first (``default``) account's; others get one derived from it."""
        if account == "default":
            return self.access_hash
        digest = hashlib.sha256(f"{self.access_hash}:{account}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    # Ids of the messages not deleted, ascending, kept in step by ``add_message`` and
    # ``mark_deleted`` (the backend's only ways to change ``messages``), so history pages are a
    # bisect and a slice instead of a sort of the whole channel.
    _visible_ids: list[int] = field(default_factory=list, repr=False)
    # Whether dates never decrease with ids (true for scenarios and live posting), so an
    # ``offset_date`` is a bisect too.
    dates_ascending: bool = field(default=True, repr=False)

    _newest: SimMessage | None = field(default=None, repr=False)

    def add_message(self, message: SimMessage) -> None:
        newest = self._newest
        if newest is None or message.id > newest.id:
            if newest is not None and message.date < newest.date:
                self.dates_ascending = False
            self._newest = message
        else:
            self.dates_ascending = False  # an id below the newest: no longer assume the order
        self.messages[message.id] = message
        if message.deleted:
            return
        ids = self._visible_ids
        if not ids or message.id > ids[-1]:
            ids.append(message.id)  # the usual case: ids are handed out in order
        else:
            insort(ids, message.id)

    def mark_deleted(self, message_id: int) -> None:
        self.messages[message_id].deleted = True
        ids = self._visible_ids
        i = bisect_left(ids, message_id)
        if i < len(ids) and ids[i] == message_id:
            del ids[i]

    def visible(self) -> NewestFirst:
        """Messages not deleted, newest first (Telegram's history order): a view, O(1) to get."""
        return NewestFirst(self._visible_ids, self.messages, dates_ascending=self.dates_ascending)


class NewestFirst(Sequence[SimMessage]):
    """A read-only, newest-first view of a channel's visible messages (by id, descending)."""

    def __init__(
        self,
        ascending_ids: list[int],
        messages: dict[int, SimMessage],
        *,
        dates_ascending: bool = False,
    ) -> None:
        self._ids = ascending_ids
        self._messages = messages
        self.dates_ascending = dates_ascending  # dates never decrease with ids

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> SimMessage: ...
    @overload
    def __getitem__(self, index: slice) -> list[SimMessage]: ...
    def __getitem__(self, index: int | slice) -> SimMessage | list[SimMessage]:
        n = len(self._ids)
        if isinstance(index, slice):
            start, stop, step = index.indices(n)
            return [self._messages[self._ids[n - 1 - i]] for i in range(start, stop, step)]
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(index)
        return self._messages[self._ids[n - 1 - index]]

    def __iter__(self) -> Iterator[SimMessage]:
        messages = self._messages
        return (messages[i] for i in reversed(self._ids))


@dataclass
class SimAccount:
    """A Telegram user account a client logs in as; the auth key identifies it."""

    name: str
    user_id: int
    access_hash: int
    auth_key: bytes  # 256 bytes
    phone: str
    first_name: str
    authorized: bool = True


def auth_key_id(auth_key: bytes) -> int:
    return int.from_bytes(hashlib.sha1(auth_key).digest()[-8:], "little")
