"""Collector: talks to Telegram through a connected TelegramClient and yields plain records.

No database access here. The pipeline decides what to fetch (cursor, cached access hash) and
stores what this module returns. Photos are downloaded and written content-addressed to the media
store (files only; the pipeline records them in the database).
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import structlog
from telethon import TelegramClient, errors, functions, types, utils
from telethon.tl.custom.message import Message

from monitor.errors import CollectorError
from storage.media import MediaStore
from storage.records import ChannelRecord, ForwardedFrom, MediaRecord, PostRecord

log = structlog.get_logger(__name__)

PAGE_SIZE = 100  # Telegram's maximum for messages.getHistory and channels.getMessages
DOWNLOAD_CONCURRENCY = 4
# Telegram's waits: FLOOD_PREMIUM_WAIT (downloads, non-Premium accounts) is not a FloodWaitError.
FLOOD_ERRORS = (errors.FloodWaitError, errors.FloodPremiumWaitError)

_MEDIA_KINDS = {
    types.MessageMediaPhoto: "photo",
    types.MessageMediaDocument: "document",
    types.MessageMediaWebPage: "webpage",
    types.MessageMediaGeo: "geo",
    types.MessageMediaPoll: "poll",
}

# Document types archived, with the extension their file is stored under. A document of another
# type (SVG, archives, executables, none given) is recorded as "unsupported" with its mime type
# and not downloaded: its bytes are not evidence we know how to keep or show safely.
DOCUMENT_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/mp4": "m4a",
    "application/pdf": "pdf",
    "application/x-tgsticker": "tgs",
}


@dataclass(frozen=True, slots=True)
class ResolvedChannel:
    """A channel's input peer plus what Telegram told us about it when we resolved it."""

    peer: types.InputPeerChannel
    record: ChannelRecord


def input_peer(channel_id: int, access_hash: int) -> types.InputPeerChannel:
    """Build the peer from a cached access hash: no request to Telegram."""
    return types.InputPeerChannel(channel_id=channel_id, access_hash=access_hash)


async def resolve_channel(client: TelegramClient, key: str) -> ResolvedChannel:
    """Resolve a canonical handle (``username`` or numeric id) with one request.

    Raises :class:`CollectorError` when the channel does not exist or is not reachable.
    """
    try:
        if key.isdigit():
            peer = await client.get_input_entity(types.PeerChannel(int(key)))
            result = await client(functions.channels.GetChannelsRequest(id=[peer]))
            chats = result.chats
            wanted = int(key)
        else:
            resolved = await client(functions.contacts.ResolveUsernameRequest(username=key))
            if not isinstance(resolved.peer, types.PeerChannel):
                raise CollectorError(f"@{key} is not a channel", hint="watch channels only")
            chats = resolved.chats
            wanted = resolved.peer.channel_id
    except (errors.UsernameNotOccupiedError, errors.UsernameInvalidError):
        error = CollectorError(
            f"no Telegram channel named @{key}",
            hint="check the handle in channels.yaml (t.me/<name> must open the channel)",
        )
        error.problem = "renamed"  # for monitor.health: the name no longer resolves
        raise error from None
    except (errors.ChannelPrivateError, errors.ChannelInvalidError) as exc:
        error = CollectorError(f"channel {key} is private or this account was banned")
        error.problem = "private" if isinstance(exc, errors.ChannelPrivateError) else None
        raise error from None
    except ValueError:
        raise CollectorError(
            f"channel id {key} is unknown to this account",
            hint="list the channel once by @username so its access hash can be learnt",
        ) from None
    channel = next((c for c in chats if isinstance(c, types.Channel) and c.id == wanted), None)
    if channel is None or channel.access_hash is None:
        raise CollectorError(f"Telegram did not return channel {key}")
    record = ChannelRecord(
        channel_id=channel.id,
        username=channel.username,
        title=channel.title,
        subscribers=getattr(channel, "participants_count", None),
    )
    return ResolvedChannel(input_peer(channel.id, channel.access_hash), record)


async def fetch_channel_info(client: TelegramClient, peer: types.InputPeerChannel) -> ChannelRecord:
    """Title, username, about text and subscriber count (one channels.GetFullChannel call)."""
    full = await client(functions.channels.GetFullChannelRequest(channel=peer))
    channel = next(c for c in full.chats if c.id == peer.channel_id)
    return ChannelRecord(
        channel_id=channel.id,
        username=channel.username,
        title=channel.title,
        about=full.full_chat.about or None,
        subscribers=full.full_chat.participants_count,
    )


async def backfill_floor(
    client: TelegramClient, peer: types.InputPeerChannel, backfill: int
) -> int:
    """The ``min_id`` that makes a first pass collect the newest ``backfill`` posts.

    One GetHistory call: the message ``backfill`` places below the newest one.
    """
    if backfill <= 0:
        newest = await client.get_messages(peer, limit=1)
        return newest[0].id if newest else 0
    found = await client.get_messages(peer, limit=1, add_offset=backfill - 1)
    return found[0].id - 1 if found else 0


class Collector:
    """Fetches messages of one channel and turns them into :class:`PostRecord` values."""

    def __init__(
        self,
        client: TelegramClient,
        media_store: MediaStore,
        *,
        download: Iterable[str] = ("photo",),
        languages: Callable[[Sequence[str]], Sequence[str | None]] | None = None,
    ) -> None:
        self.client = client
        self.media_store = media_store
        self.download = frozenset(download)
        # Labels each record's language as it is built: one call per batch of texts (empty
        # texts included, answered None), instead of a labelled copy of every record later.
        self.languages = languages
        self._downloads = asyncio.Semaphore(DOWNLOAD_CONCURRENCY)

    async def new_posts(
        self, peer: types.InputPeerChannel, *, min_id: int
    ) -> AsyncIterator[list[PostRecord]]:
        """Yield batches (oldest first, one page each) of posts newer than ``min_id``.

        One messages.getHistory call per page of 100, oldest first. A page that comes back
        short is the newest (Telethon's own iterator asks once more to be sure, which costs a
        call per poll). Should Telegram hold back a message it does not display, the page is
        short early: the rest is read by the next poll, which starts after the newest seen.

        The next page is asked for as soon as a full page arrives, before this one is
        converted and stored: Telegram's answer travels while we work (the same calls, in the
        same order, one at a time).
        """

        def page(after: int) -> asyncio.Task[list[Any]]:
            return asyncio.ensure_future(
                self.history(peer, offset_id=after + 1, add_offset=-PAGE_SIZE)
            )

        ahead: asyncio.Task[list[Any]] | None = page(min_id)
        try:
            while ahead is not None:
                messages = await ahead
                fresh = sorted((m for m in messages if m.id > min_id), key=lambda m: m.id)
                ahead = None
                if len(messages) >= PAGE_SIZE and fresh:
                    min_id = fresh[-1].id
                    ahead = page(min_id)
                async for batch in self.posts_of(peer, fresh):
                    yield batch
        finally:
            if ahead is not None:  # closed early: no page asked for in vain stays running
                ahead.cancel()
                await asyncio.wait({ahead})  # our own cancellation still propagates
                if not ahead.cancelled():
                    ahead.exception()  # retrieved: an error of a page nobody wants is moot

    async def posts_of(
        self, peer: types.InputPeerChannel, messages: Sequence[Any]
    ) -> AsyncIterator[list[PostRecord]]:
        """The posts among ``messages`` (fetched already), oldest first, as one batch."""
        page = sorted(
            (m for m in messages if isinstance(m, Message) and m.action is None),
            key=lambda m: m.id,
        )  # service messages (pinned, title changed) are not posts
        if page:
            yield await self.convert(peer, page)

    async def history(
        self,
        peer: types.InputPeerChannel,
        *,
        offset_id: int = 0,
        add_offset: int = 0,
        limit: int = PAGE_SIZE,
    ) -> list[Any]:
        """One messages.getHistory call: up to ``limit`` messages (newest first), or with a
        negative ``add_offset`` those from ``offset_id`` on, ready to use as Telethon's own."""
        request = functions.messages.GetHistoryRequest(
            peer=peer,
            offset_id=offset_id,
            offset_date=None,
            add_offset=add_offset,
            limit=limit,
            max_id=0,
            min_id=0,
            hash=0,
        )
        answer = await self.client(request)
        entities = {utils.get_peer_id(x): x for x in (*answer.users, *answer.chats)}
        messages = [m for m in answer.messages if not isinstance(m, types.MessageEmpty)]
        for message in messages:
            message._finish_init(self.client, entities, peer)
        return messages

    async def new_posts_by_ids(
        self, peer: types.InputPeerChannel, *, min_id: int
    ) -> AsyncIterator[list[PostRecord]]:
        """Like :meth:`new_posts`, through channels.GetMessages on the ids after ``min_id``.

        Channel message ids are sequential, so the next hundred ids hold every newer post; an
        id that comes back empty was deleted (or not yet used). Used while messages.GetHistory
        is flood-waited for the account: a different method with its own limits.
        """
        while True:
            ids = list(range(min_id + 1, min_id + PAGE_SIZE + 1))
            fetched = await self.client.get_messages(peer, ids=ids)
            page = [m for m in fetched if isinstance(m, Message) and m.action is None]
            newest = max(
                (m.id for m in fetched if m is not None and not isinstance(m, types.MessageEmpty)),
                default=None,
            )
            if page:
                yield await self.convert(peer, page)
            if newest is None or newest < ids[-1]:
                return
            min_id = newest

    async def by_ids(
        self, peer: types.InputPeerChannel, ids: Sequence[int]
    ) -> tuple[list[Message], list[int]]:
        """Re-fetch posts by id (100 a call). Returns (messages found, ids that are gone)."""
        found: list[Message] = []
        gone: list[int] = []
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = list(ids[start : start + PAGE_SIZE])
            fetched = await self.client.get_messages(peer, ids=chunk)
            for wanted, message in zip(chunk, fetched, strict=True):
                if message is None or isinstance(message, types.MessageEmpty):
                    gone.append(wanted)
                else:
                    found.append(message)
        return found, gone

    async def convert(
        self, peer: types.InputPeerChannel, messages: Sequence[Message], *, download: bool = True
    ) -> list[PostRecord]:
        """Records for ``messages``, downloading wanted media concurrently."""
        media: list[tuple[MediaRecord, ...]] = [() for _ in messages]
        with_media = [i for i, m in enumerate(messages) if m.media is not None]
        if with_media:  # a task each only for these (most posts are text)
            fetched = await asyncio.gather(
                *(self._media_of(peer, messages[i], download=download) for i in with_media)
            )
            for i, items in zip(with_media, fetched, strict=True):
                media[i] = items
        if self.languages is None:
            return [to_record(m, items) for m, items in zip(messages, media, strict=True)]
        found = self.languages([_storable(m.message or "") for m in messages])
        return [
            to_record(m, items, language=language)
            for m, items, language in zip(messages, media, found, strict=True)
        ]

    async def _media_of(
        self, peer: types.InputPeerChannel, message: Message, *, download: bool
    ) -> tuple[MediaRecord, ...]:
        media = message.media
        if media is None:
            return ()
        kind = media_kind(message)
        if isinstance(media, types.MessageMediaPhoto) and isinstance(media.photo, types.Photo):
            photo = media.photo
            largest = _largest_size(photo.sizes)
            record = MediaRecord(
                position=0,
                kind="photo",
                telegram_id=photo.id,
                mime="image/jpeg",
                width=getattr(largest, "w", None),
                height=getattr(largest, "h", None),
            )
            if download and "photo" in self.download:
                record = await self._download(peer, message, record, ext="jpg")
            return (record,)
        if isinstance(media, types.MessageMediaDocument) and isinstance(
            media.document, types.Document
        ):
            doc = media.document
            shape = next(
                (
                    a
                    for a in doc.attributes
                    if isinstance(
                        a, types.DocumentAttributeVideo | types.DocumentAttributeImageSize
                    )
                ),
                None,
            )
            mime = (doc.mime_type or "").strip().lower() or None
            record = MediaRecord(
                position=0,
                kind=kind,
                telegram_id=doc.id,
                mime=mime,
                size=doc.size,
                width=getattr(shape, "w", None),
                height=getattr(shape, "h", None),
            )
            if download and kind in self.download:
                ext = DOCUMENT_EXTENSIONS.get(mime or "")
                if ext is None:
                    log.warning(
                        "media_unsupported",
                        channel_id=peer.channel_id,
                        message_id=message.id,
                        mime=mime,
                    )
                    return (replace(record, kind="unsupported"),)
                record = await self._download(peer, message, record, ext=ext)
            return (record,)
        return (MediaRecord(position=0, kind=kind),)

    async def _download(
        self, peer: types.InputPeerChannel, message: Message, record: MediaRecord, *, ext: str
    ) -> MediaRecord:
        async with self._downloads:
            try:
                data = await self._fetch(peer, message)
            except FLOOD_ERRORS:
                raise  # the pipeline parks the channel; the batch is fetched again later
            except (errors.RPCError, ValueError) as exc:
                # One photo Telegram will not serve must not stall the channel: the post is
                # archived with the photo's metadata (no sha256) and the failure logged.
                log.warning(
                    "media_download_failed",
                    channel_id=peer.channel_id,
                    message_id=message.id,
                    error=str(exc),
                )
                return record
        if not isinstance(data, bytes):
            return record
        photo = record.kind == "photo"
        stored, value = await asyncio.to_thread(_store_file, self.media_store, data, ext, photo)
        return replace(
            record, sha256=stored.sha256, size=stored.size, path=stored.relpath, phash=value
        )

    async def _fetch(self, peer: types.InputPeerChannel, message: Message) -> bytes | None:
        try:
            return await self.client.download_media(message, file=bytes)
        except errors.FileReferenceExpiredError:
            # Telethon refreshes references for documents only: re-fetch the message once.
            log.info("file_reference_expired", channel_id=peer.channel_id, message_id=message.id)
            fresh = await self.client.get_messages(peer, ids=message.id)
            if fresh is None:
                return None  # deleted meanwhile: keep the metadata
            return await self.client.download_media(fresh, file=bytes)


def _store_file(store: MediaStore, data: bytes, ext: str, photo: bool) -> tuple[Any, int | None]:
    """In a worker thread: store the bytes and, for a photo, compute its perceptual hash (one
    that cannot be decoded is stored all the same, without a hash)."""
    stored = store.put(data, ext=ext)
    if not photo:
        return stored, None
    from monitor.photos.phash import PhotoHashError, phash

    try:
        return stored, phash(data, name=f"photo {stored.sha256}")
    except PhotoHashError as exc:
        log.warning("photo_hash_failed", sha256=stored.sha256, error=str(exc))
        return stored, None


def media_kind(message: Message) -> str:
    media = message.media
    if isinstance(media, types.MessageMediaDocument):
        # Telegram's GIFs are mp4 files with a video attribute plus the animated flag, and video
        # stickers carry a video attribute too: test those flags before "video".
        if message.gif:
            return "animation"
        if message.sticker:
            return "sticker"
        if message.video:
            return "video"
        if message.voice:
            return "voice"
        if message.audio:
            return "audio"
        return "document"
    return _MEDIA_KINDS.get(type(media), type(media).__name__)


def _largest_size(sizes: Sequence[Any]) -> Any:
    """The size Telethon downloads by default: the largest by pixel area / byte count."""
    candidates = [s for s in sizes if not isinstance(s, types.PhotoSizeEmpty)]

    def weight(size: Any) -> int:
        if isinstance(size, types.PhotoSizeProgressive):
            return max(size.sizes)
        return getattr(size, "size", 0) or len(getattr(size, "bytes", b""))

    return max(candidates, key=weight) if candidates else None


def to_record(
    message: Message, media: tuple[MediaRecord, ...] = (), *, language: str | None = None
) -> PostRecord:
    """A plain record of one message: text, times, counters, provenance and raw TL JSON."""
    return PostRecord(
        channel_id=message.peer_id.channel_id,
        message_id=message.id,
        posted_at=_utc(message.date),
        edited_at=_utc(message.edit_date) if message.edit_date else None,
        text=_storable(message.message or ""),
        grouped_id=message.grouped_id,
        views=message.views,
        forwards=message.forwards,
        replies=message.replies.replies if message.replies else None,
        reactions=reaction_counts(message.reactions),
        forwarded_from=_forward(message.fwd_from),
        reply_to_message_id=getattr(message.reply_to, "reply_to_msg_id", None),
        raw=raw_json(message),
        media=media,
        language=language,
    )


def reaction_counts(reactions: types.MessageReactions | None) -> dict[str, int]:
    if reactions is None:
        return {}
    counts: dict[str, int] = {}
    for result in reactions.results:
        reaction = result.reaction
        if isinstance(reaction, types.ReactionEmoji):
            key = reaction.emoticon
        elif isinstance(reaction, types.ReactionCustomEmoji):
            key = f"custom:{reaction.document_id}"
        else:
            key = type(reaction).__name__
        counts[key] = result.count
    return counts


def _forward(header: types.MessageFwdHeader | None) -> ForwardedFrom | None:
    if header is None:
        return None
    from_id = header.from_id
    return ForwardedFrom(
        channel_id=from_id.channel_id if isinstance(from_id, types.PeerChannel) else None,
        message_id=header.channel_post,
        date=_utc(header.date) if header.date else None,
        name=header.from_name or header.post_author,
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def raw_json(message: Message) -> dict[str, Any]:
    """The message as Telegram sent it (Telethon's ``to_dict``), JSON-safe: datetimes ISO 8601
    in UTC, bytes as ``{"base64": ...}``, U+0000 as U+FFFD (see :func:`_storable`). What a JSON
    round trip with :func:`_json_default` gives, in one walk (this runs per post)."""
    return _json_safe_fresh(message.to_dict())


def _json_safe_fresh(value: dict[Any, Any]) -> dict[Any, Any]:
    """:func:`_json_safe` of a dict nobody else holds (``to_dict`` builds a new one, nested
    ones too), converted in place: most of a message's values are already JSON-safe, so this
    copies nothing. Lists are rebuilt (``to_dict`` may pass a TL object's own list on)."""
    for k, v in value.items():
        if type(k) is not str or "\x00" in k:
            return _json_safe(value)  # keys to rewrite: not in place
        t = type(v)
        if t is int or v is None or t is bool or t is float:
            continue
        if t is str:
            if "\x00" in v:
                value[k] = _storable(v)
        elif t is dict:
            value[k] = _json_safe_fresh(v)
        else:
            value[k] = _json_safe(v)
    return value


def _storable(text: str) -> str:
    """PostgreSQL cannot store U+0000 in text or JSON: it becomes U+FFFD on both backends, so
    one odd post never stalls its channel and the archive is the same on SQLite and PostgreSQL."""
    return text.replace("\x00", "\ufffd")


def _json_safe(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return _storable(value) if "\x00" in value else value
    if kind is dict:
        # Scalars are handled inline (no call each): most of a message's values are scalars.
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                k = _json_key(k)
            elif "\x00" in k:
                k = _storable(k)
            t = type(v)
            if t is int or v is None or t is bool or t is float:
                out[k] = v
            elif t is str:
                out[k] = _storable(v) if "\x00" in v else v
            else:
                out[k] = _json_safe(v)
        return out
    if kind is list or kind is tuple:
        return [_json_safe(v) for v in value]
    if value is None or kind is int or kind is bool or kind is float:
        return value
    if isinstance(value, str):
        return _json_safe(str(value))
    if isinstance(value, dict | list | tuple):
        return _json_safe(dict(value) if isinstance(value, dict) else list(value))
    if isinstance(value, int | float):  # int subclasses (enums): JSON writes the number
        return int(value) if isinstance(value, int) else float(value)
    return _json_safe(_json_default(value))


def _json_key(key: Any) -> Any:
    """A key as JSON writes it: numbers and None as text, as ``json.dumps`` does."""
    return json.loads(json.dumps({key: 0}, default=_json_default)).popitem()[0]


def _json_default(value: object) -> object:
    if isinstance(value, datetime):
        return _utc(value).isoformat()
    if isinstance(value, bytes):
        return {"base64": base64.b64encode(value).decode()}
    return repr(value)
