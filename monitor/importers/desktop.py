"""``monitor import desktop``: a Telegram Desktop export into the archive, as imported versions.

Messages are read as a stream (see :mod:`monitor.importers.desktop_format`), turned into the same
:class:`~storage.records.PostRecord` values the collector produces, and stored in batches through
:func:`storage.upsert_posts` with ``provenance=imported`` (so every hook on that write path sees
imports too). Photos are hashed and written to the media store like collected ones. A batch is
one transaction: a malformed message stops the import before its batch is written; batches
committed before it stay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import structlog
from sqlalchemy import select

from monitor.importers import ExportError
from monitor.importers.desktop_format import (
    Chat,
    ExportMessage,
    flat_text,
    integer,
    read_export,
    string,
    unixtime,
)
from monitor.search.text import index_text
from storage.channels import get_channel, upsert_channel
from storage.media import MediaStore
from storage.models import account_peer
from storage.posts import upsert_posts
from storage.provenance import IMPORTED, Provenance
from storage.records import ChannelRecord, ForwardedFrom, MediaRecord, PostRecord

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["BATCH_SIZE", "ChannelImport", "ImportReport", "import_desktop_export", "locate"]

log = structlog.get_logger(__name__)

BATCH_SIZE = 500
_MEDIA_TYPES = {
    "sticker": "sticker",
    "video_message": "video",
    "voice_message": "voice",
    "animation": "animation",
    "video_file": "video",
    "audio_file": "audio",
}
_PEER_ID = re.compile(r"channel(\d+)")


@dataclass
class ChannelImport:
    """What one exported channel gave the archive."""

    channel_id: int
    title: str | None
    new: int = 0  # posts the archive did not have
    versions_added: int = 0  # versions added to posts it had
    unchanged: int = 0  # messages whose version the archive already held
    photos: int = 0  # photos read from the export and stored
    photos_missing: int = 0  # photos the export names but does not contain
    skipped: int = 0  # service and unsupported messages


@dataclass
class ImportReport:
    source: str  # what the versions' provenance names: "<export folder>/result.json"
    channels: list[ChannelImport] = field(default_factory=list)
    skipped_chats: dict[str, int] = field(default_factory=dict)  # chat type -> chats not imported


@dataclass
class _Photo:
    file: Path
    width: int | None
    height: int | None


@dataclass
class _Pending:
    record: PostRecord
    photo: _Photo | None


def locate(path: Path) -> Path:
    """The ``result.json`` of an export: ``path`` itself, or the file inside the folder."""
    target = path / "result.json" if path.is_dir() else path
    if not target.is_file():
        raise ExportError(
            f"no Telegram Desktop export at {path}",
            hint="give the export folder or its result.json (Export chat history, format JSON)",
        )
    return target


def source_name(result: Path) -> str:
    """How imported versions name their source: the export's folder and file name."""
    resolved = result.resolve()
    return f"{resolved.parent.name}/{resolved.name}" if resolved.parent.name else resolved.name


async def import_desktop_export(
    path: Path,
    *,
    engine: AsyncEngine,
    media_store: MediaStore,
    batch_size: int = BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ImportReport:
    """Import every channel of the export at ``path`` (a folder or its result.json)."""
    result = locate(path)
    report = ImportReport(source=source_name(result))
    provenance = Provenance(IMPORTED, report.source)
    batch: list[_Pending] = []
    current: ChannelImport | None = None
    channel_ready = False

    async def flush() -> None:
        nonlocal channel_ready
        if not batch or current is None:
            return
        pending = [_with_photo(p, media_store, current) for p in batch]
        captured_at = now()
        async with engine.begin() as conn:
            if not channel_ready:
                await _ensure_channel(current, conn=conn, seen_at=captured_at)
                channel_ready = True
            stored = await upsert_posts(
                pending,
                conn=conn,
                captured_at=captured_at,
                provenance=provenance,
                index_text=index_text,  # searchable at once, like collected versions
            )
        current.new += len(stored.new)
        current.versions_added += len(stored.changed)
        current.unchanged += len(stored.unchanged)
        log.info(
            "import_batch_stored",
            channel_id=current.channel_id,
            new=len(stored.new),
            versions_added=len(stored.changed),
        )
        batch.clear()

    with result.open("rb") as handle:
        for item in read_export(handle, name=result.name, progress=progress):
            if isinstance(item, Chat):
                await flush()
                if not item.is_channel:
                    report.skipped_chats[item.type] = report.skipped_chats.get(item.type, 0) + 1
                    current = None
                    continue
                current = ChannelImport(item.id, item.name)
                report.channels.append(current)
                channel_ready = False
                continue
            assert current is not None
            pending_post = _convert(item, result, name=result.name)
            if pending_post is None:
                current.skipped += 1
                continue
            batch.append(pending_post)
            if len(batch) >= batch_size:
                await flush()
        await flush()
    return report


async def _ensure_channel(channel: ChannelImport, *, conn: Any, seen_at: datetime) -> None:
    """Create the channel's row when the archive does not know it yet, keyed by Telegram's
    channel id as collection keys it (a later collection lands on the same row). Desktop does
    not export the username: it comes from a handle already resolved to this id (channels.yaml
    peers), else from the first collection. A known channel is left as it is."""
    if await get_channel(channel.channel_id, conn=conn) is not None:
        return
    handles = await conn.execute(
        select(account_peer.c.handle)
        .where(account_peer.c.channel_id == channel.channel_id)
        .order_by(account_peer.c.resolved_at.desc())
    )
    username = next((h for h in handles.scalars() if not h.isdigit()), None)
    title = channel.title or f"channel {channel.channel_id}"
    await upsert_channel(
        ChannelRecord(channel_id=channel.channel_id, username=username, title=title),
        conn=conn,
        seen_at=seen_at,
    )


def _convert(item: ExportMessage, result: Path, *, name: str) -> _Pending | None:
    """A record for one exported message; None for service and unsupported messages."""
    message, where = item.data, f"{name}: {item.path}"
    if not isinstance(message, dict):
        raise ExportError(f"{where}: expected an object")
    kind = string(message, "type", where)
    message_id = integer(message, "id", where)
    if message_id is None:
        raise ExportError(f"{where}.id: missing")
    if kind != "message":
        return None
    posted_at = unixtime(message, "date_unixtime", where)
    if posted_at is None:
        raise ExportError(
            f"{where}.date_unixtime: missing",
            hint="exports before Telegram Desktop 3.x carry local times only: export again",
        )
    forwarded = string(message, "forwarded_from", where)
    forwarded_id = string(message, "forwarded_from_id", where)
    found = _PEER_ID.fullmatch(forwarded_id or "")
    record = PostRecord(
        channel_id=item.chat.id,
        message_id=message_id,
        posted_at=posted_at,
        edited_at=unixtime(message, "edited_unixtime", where),
        text=_storable(flat_text(message, where)),
        forwarded_from=(
            ForwardedFrom(channel_id=int(found.group(1)) if found else None, name=forwarded)
            if forwarded is not None or "forwarded_from" in message or forwarded_id
            else None
        ),
        reply_to_message_id=integer(message, "reply_to_message_id", where),
        raw={"_": "TelegramDesktopExport", "message": _storable_json(message)},
    )
    photo = string(message, "photo", where)
    width, height = integer(message, "width", where), integer(message, "height", where)
    if photo is not None:
        file = _export_file(photo, result.parent, f"{where}.photo")
        meta = MediaRecord(position=0, kind="photo", mime="image/jpeg", width=width, height=height)
        record = _replace_media(record, (meta,))
        return _Pending(record, _Photo(file, width, height) if file else None)
    media = _other_media(message, where, width, height)
    return _Pending(_replace_media(record, media) if media else record, None)


def _other_media(
    message: dict[str, Any], where: str, width: int | None, height: int | None
) -> tuple[MediaRecord, ...]:
    """Documents, polls and places: recorded by kind (and mime type), their bytes not stored."""
    if "file" in message or "media_type" in message:
        kind = _MEDIA_TYPES.get(string(message, "media_type", where) or "", "document")
        mime = string(message, "mime_type", where)
        return (MediaRecord(position=0, kind=kind, mime=mime, width=width, height=height),)
    for key, kind in (("poll", "poll"), ("location_information", "geo")):
        if key in message:
            return (MediaRecord(position=0, kind=kind),)
    return ()


def _export_file(value: str, root: Path, where: str) -> Path | None:
    """The file an export path names, or None when Desktop did not include it."""
    if value.startswith("(") or not value:  # "(File not included. Change data exporting ...)"
        return None
    relative = PurePosixPath(value)
    if relative.is_absolute() or ".." in relative.parts:
        raise ExportError(f"{where}: {value!r} points outside the export folder")
    return root.joinpath(*relative.parts)


def _with_photo(pending: _Pending, store: MediaStore, channel: ChannelImport) -> PostRecord:
    """The record with its photo's bytes stored (content-addressed, as collected photos are)."""
    record, photo = pending.record, pending.photo
    if photo is None:
        if any(m.kind == "photo" for m in record.media):
            channel.photos_missing += 1
        return record
    try:
        data = photo.file.read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        channel.photos_missing += 1
        return record
    ext = photo.file.suffix.lstrip(".").lower()
    stored = store.put(data, ext=ext if ext.isalnum() else "jpg")
    channel.photos += 1
    item = MediaRecord(
        position=0,
        kind="photo",
        sha256=stored.sha256,
        mime="image/jpeg",
        size=stored.size,
        width=photo.width,
        height=photo.height,
        path=stored.relpath,
    )
    return _replace_media(record, (item,))


def _replace_media(record: PostRecord, media: tuple[MediaRecord, ...]) -> PostRecord:
    return replace(record, media=media)


def _storable(text: str) -> str:
    """U+0000 cannot be stored in PostgreSQL text or JSON: U+FFFD, as the collector does."""
    return text.replace("\x00", "\ufffd") if "\x00" in text else text


def _storable_json(value: dict[str, Any]) -> dict[str, Any]:
    """The message for the ``raw`` column, U+0000 replaced: one C-speed check per message, and a
    walk only for the rare message that has one."""
    if "\\u0000" not in json.dumps(value):
        return value
    return _replace_nul(value)


def _replace_nul(value: Any) -> Any:
    if isinstance(value, str):
        return _storable(value)
    if isinstance(value, dict):
        return {_storable(k): _replace_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_nul(v) for v in value]
    return value
