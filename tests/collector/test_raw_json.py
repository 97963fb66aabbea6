"""The raw TL JSON archived per post: what a JSON round trip of Telethon's ``to_dict`` gives."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from telethon import types
from telethon.tl.patched import Message  # what Telethon reads messages into

from monitor.collector import raw_json


def _reference(message: Message) -> Any:
    """The archive's definition: json.dumps with ISO UTC datetimes, base64 bytes and repr for
    anything else, read back, and U+0000 replaced by U+FFFD everywhere."""

    def default(value: object) -> object:
        if isinstance(value, datetime):
            aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
            return aware.astimezone(UTC).isoformat()
        if isinstance(value, bytes):
            return {"base64": base64.b64encode(value).decode()}
        return repr(value)

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return value.replace("\x00", "\ufffd")
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(json.loads(json.dumps(message.to_dict(), default=default, ensure_ascii=False)))


def _message(**overrides: Any) -> Message:
    values: dict[str, Any] = {
        "id": 7,
        "peer_id": types.PeerChannel(1234),
        "date": datetime(2024, 5, 13, 9, 12, tzinfo=UTC),
        "message": "Qais al-Khazali met the ambassador",
        "post": True,
        "views": 10,
    }
    values.update(overrides)
    return Message(**values)


def test_plain_post():
    message = _message()
    assert raw_json(message) == _reference(message)


def test_nul_bytes_dates_floats_and_nested_objects():
    photo = types.Photo(
        id=99,
        access_hash=-5,
        file_reference=b"\x00\x01ref",
        date=datetime(2024, 5, 13, 12, 0, tzinfo=timezone(timedelta(hours=3))),
        sizes=[types.PhotoStrippedSize("i", b"\xff\xd8\x00"), types.PhotoSize("y", 800, 600, 1)],
        dc_id=2,
    )
    message = _message(
        message="before\x00after",
        edit_date=datetime(2024, 5, 14),  # naive: taken as UTC
        media=types.MessageMediaPhoto(photo=photo, ttl_seconds=None),
        entities=[types.MessageEntityBold(0, 6)],
        fwd_from=types.MessageFwdHeader(
            date=datetime(2020, 1, 1, tzinfo=UTC), from_name="name\x00", channel_post=3
        ),
        reactions=types.MessageReactions(
            results=[types.ReactionCount(types.ReactionEmoji("👍"), 12)]
        ),
    )
    got = raw_json(message)
    assert got == _reference(message)
    assert got["message"] == "before\ufffdafter"
    assert got["media"]["photo"]["file_reference"] == {"base64": "AAFyZWY="}
    assert got["media"]["photo"]["date"] == "2024-05-13T09:00:00+00:00"
    assert json.dumps(got, ensure_ascii=False) == json.dumps(
        _reference(message), ensure_ascii=False
    )


def test_building_the_raw_json_leaves_the_message_as_telegram_sent_it():
    """The JSON is made in place in ``to_dict``'s fresh dicts, never in the message's own
    values: the record built next (dates, photo bytes, entities) still reads the originals."""
    stripped = types.PhotoStrippedSize("i", b"\xff\xd8\x00")
    message = _message(
        message="before\x00after",
        media=types.MessageMediaPhoto(
            photo=types.Photo(
                id=99, access_hash=-5, file_reference=b"\x00ref", date=datetime(2024, 5, 13),
                sizes=[stripped], dc_id=2,
            ),
            ttl_seconds=None,
        ),
        entities=[types.MessageEntityBold(0, 6)],
    )  # fmt: skip
    first = raw_json(message)
    assert raw_json(message) == first == _reference(message)
    assert message.message == "before\x00after"
    assert message.date == datetime(2024, 5, 13, 9, 12, tzinfo=UTC)
    assert message.media.photo.file_reference == b"\x00ref"
    assert message.media.photo.sizes == [stripped] and stripped.bytes == b"\xff\xd8\x00"
    assert isinstance(message.entities[0], types.MessageEntityBold)
