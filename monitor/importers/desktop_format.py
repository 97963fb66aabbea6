"""Reading a Telegram Desktop export (``result.json``, "Export chat history" as JSON) as a stream.

Telegram Desktop writes one chat as ``{"name", "type", "id", "messages": [...]}`` and a whole
account as ``{"about", ..., "chats": {"about", "list": [chat, ...]}, "left_chats": {...}}``.
A message carries ``id``, ``type`` ("message", "service", "unsupported"), ``date`` (the exporting
computer's local time, no zone) and ``date_unixtime`` (seconds, as a string), ``edited`` /
``edited_unixtime``, ``from`` / ``from_id``, ``forwarded_from`` (a name), ``reply_to_message_id``,
``photo`` (a path relative to the export, or "(File not included...)") with ``width`` and
``height``, ``file`` / ``media_type`` / ``mime_type`` for documents, and ``text`` (a string, or
a list of strings and ``{"type", "text", ...}`` entity objects) plus ``text_entities``.

The file is parsed event by event (ijson): only the message being read is held in memory, so a
2 GB export reads in flat memory. Every error names the JSON path (``messages[1234].date_unixtime``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, TypeGuard

import ijson

from monitor.importers import ExportError

__all__ = ["CHANNEL_TYPES", "Chat", "ExportMessage", "read_export"]

CHANNEL_TYPES = frozenset({"public_channel", "private_channel"})
_CHAT_FIELDS = ("name", "type", "id")
_CHAT_LISTS = ("chats", "left_chats")
READ_SIZE = 1 << 16


@dataclass
class Chat:
    """One exported chat. ``path`` is its JSON path ("" for a one-chat export)."""

    path: str
    id: int
    type: str
    name: str | None

    @property
    def is_channel(self) -> bool:
        return self.type in CHANNEL_TYPES


@dataclass
class ExportMessage:
    chat: Chat
    path: str  # e.g. "messages[12]" or "chats.list[3].messages[12]"
    data: dict[str, Any]


class _Counting:
    """A binary file that reports how many bytes were read so far."""

    def __init__(self, handle: IO[bytes], progress: Callable[[int], None] | None) -> None:
        self.handle = handle
        self.progress = progress
        self.read_bytes = 0

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.read_bytes += len(data)
        if self.progress is not None and data:
            self.progress(len(data))
        return data


class _Frame:
    __slots__ = ("index", "is_map", "key", "fields")

    def __init__(self, is_map: bool) -> None:
        self.is_map = is_map
        self.key: str | None = None
        self.index = -1
        self.fields: dict[str, Any] | None = None


def _path(stack: list[_Frame]) -> str:
    out = ""
    for frame in stack:
        if frame.is_map:
            if frame.key is not None:
                out += f".{frame.key}" if out else frame.key
        elif frame.index >= 0:
            out += f"[{frame.index}]"
    return out


def read_export(
    handle: IO[bytes], *, name: str, progress: Callable[[int], None] | None = None
) -> Iterator[Chat | ExportMessage]:
    """Yield each chat (when its messages begin) and then its messages, in file order.

    Messages of chats that are not channels are skipped without being built. ``name`` prefixes
    every error message (the export's file name).
    """
    stream = _Counting(handle, progress)
    stack: list[_Frame] = []
    chat: Chat | None = None
    builder: ijson.ObjectBuilder | None = None
    depth = 0  # nesting inside the message being built
    events = ijson.basic_parse(stream, use_float=True, buf_size=READ_SIZE)
    try:
        for event, value in events:
            if builder is not None:
                builder.event(event, value)
                if event in ("start_map", "start_array"):
                    depth += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
                    if depth == 0:
                        assert chat is not None
                        yield ExportMessage(chat, _path(stack), builder.value)
                        builder = None
                continue
            parent = stack[-1] if stack else None
            if event == "map_key":
                assert parent is not None
                parent.key = value
                continue
            if parent is not None and not parent.is_map:
                parent.index += 1
            if event in ("start_map", "start_array"):
                if event == "start_map" and _in_messages(stack):
                    if chat is not None and chat.is_channel:
                        builder = ijson.ObjectBuilder()
                        builder.event(event, value)
                        depth = 1
                        continue
                frame = _Frame(event == "start_map")
                if frame.is_map and _is_chat(stack):
                    frame.fields = {}
                stack.append(frame)
                if event == "start_array" and parent is not None and parent.key == "messages":
                    if parent.fields is not None:
                        chat = _chat(parent.fields, stack[:-2], name)
                        yield chat
            elif event in ("end_map", "end_array"):
                stack.pop()
                if event == "end_array" and stack and stack[-1].key == "messages":
                    if stack[-1].fields is not None:
                        chat = None
            elif parent is not None and parent.fields is not None and parent.key in _CHAT_FIELDS:
                parent.fields[parent.key] = value
    except ijson.JSONError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        where = _path(stack) or "the top level"
        ended = _at_end(handle)
        problem = "ends early (truncated)" if ended else "breaks"
        raise ExportError(
            f"{name}: the JSON {problem} inside {where}, after {stream.read_bytes:,} bytes "
            f"read: {reason}",
            hint=(
                "an export that did not finish, or a partial copy: export again or copy the whole "
                "file"
                if ended
                else "the file is damaged at that point"
            )
            + "; batches stored before this point are kept",
        ) from None


def _at_end(handle: IO[bytes]) -> bool:
    """Whether everything in the file was read (so the parser stopped at the file's end)."""
    try:
        return handle.read(1) == b""
    except (OSError, ValueError):
        return False


def _is_chat(stack: list[_Frame]) -> bool:
    """Whether a map opening here is a chat: the document itself, or an item of chats.list."""
    if not stack:
        return True
    return (
        len(stack) == 3
        and stack[0].key in _CHAT_LISTS
        and stack[1].key == "list"
        and not stack[2].is_map
    )


def _in_messages(stack: list[_Frame]) -> bool:
    """Whether the array on top of the stack is a chat's ``messages``."""
    return (
        len(stack) >= 2
        and not stack[-1].is_map
        and stack[-2].key == "messages"
        and stack[-2].fields is not None
    )


def _chat(fields: dict[str, Any], stack: list[_Frame], name: str) -> Chat:
    where = _path(stack)
    prefix = f"{where}." if where else ""
    chat_id = fields.get("id")
    if "id" not in fields:
        raise ExportError(
            f"{name}: {prefix}id: missing before {prefix}messages",
            hint="not a Telegram Desktop export? Desktop writes name, type and id first",
        )
    if not _is_int(chat_id):
        raise ExportError(f"{name}: {prefix}id: expected a number, found {_kind(chat_id)}")
    kind = fields.get("type")
    if not isinstance(kind, str):
        raise ExportError(f"{name}: {prefix}type: expected a string, found {_kind(kind)}")
    title = fields.get("name")
    if title is not None and not isinstance(title, str):
        raise ExportError(f"{name}: {prefix}name: expected a string, found {_kind(title)}")
    return Chat(where, int(chat_id), kind, title)


# -- values of one message ------------------------------------------------------------------------


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    return "a list" if isinstance(value, list) else "an object"


_DIGITS = re.compile(r"-?\d{1,12}")


def unixtime(message: dict[str, Any], key: str, where: str) -> datetime | None:
    """``date_unixtime`` / ``edited_unixtime`` (Desktop writes them as strings of digits) in UTC."""
    value = message.get(key)
    if value is None and key not in message:
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    if not _is_int(value):
        raise ExportError(
            f"{where}.{key}: expected a number (seconds since 1970), found {_kind(value)}"
        )
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise ExportError(f"{where}.{key}: {value} is not a valid time") from None


def integer(message: dict[str, Any], key: str, where: str) -> int | None:
    value = message.get(key)
    if value is None:
        return None
    if not _is_int(value):
        raise ExportError(f"{where}.{key}: expected a number, found {_kind(value)}")
    return int(value)


def string(message: dict[str, Any], key: str, where: str) -> str | None:
    value = message.get(key)
    if value is not None and not isinstance(value, str):
        raise ExportError(f"{where}.{key}: expected a string, found {_kind(value)}")
    return value


def flat_text(message: dict[str, Any], where: str) -> str:
    """The text as Telegram shows it: a plain string, or the entity list's texts joined."""
    value = message.get("text", "")
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise ExportError(
            f"{where}.text: expected a string or a list of text parts, found {_kind(value)}"
        )
    parts: list[str] = []
    for i, part in enumerate(value):
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append(part["text"])
        elif isinstance(part, dict):
            raise ExportError(
                f"{where}.text[{i}].text: expected a string, found {_kind(part.get('text'))}"
            )
        else:
            raise ExportError(
                f"{where}.text[{i}]: expected a string or a text entity object, found {_kind(part)}"
            )
    return "".join(parts)
