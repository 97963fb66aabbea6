"""Write a Telegram Desktop export ("Export chat history", JSON) of simulated channels.

The files are laid out and spelt as Telegram Desktop writes them (see tdesktop's
``export_output_json.cpp``): ``result.json`` beside a ``photos/`` folder of
``photo_<n>@<dd-MM-yyyy_HH-mm-ss>.jpg`` files; ``date`` in the exporting computer's local time
without a zone and ``date_unixtime`` as a string of seconds; ``text`` a plain string, or a list of
strings and entity objects when the text has entities, with ``text_entities`` always a list.
The photos are the bytes the simulator serves as a photo's largest size, as Desktop saves them.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from monitor.simulator import Backend, SimChannel, SimMessage

# The exporting computer's clock: Baghdad (UTC+3), so `date` differs from UTC by three hours.
LOCAL = timezone(timedelta(hours=3))
# Entities a sending client marks in a channel post: hashtags, mentions and links.
_ENTITY = re.compile(r"(?P<hashtag>#\w+)|(?P<mention>@\w{4,})|(?P<link>https?://\S+)")


class _Export:
    def __init__(self, backend: Backend, folder: Path) -> None:
        self.backend = backend
        self.folder = folder
        self.photos = 0

    def date(self, when: datetime) -> dict[str, str]:
        return {
            "date": when.astimezone(LOCAL).replace(tzinfo=None).isoformat(),
            "date_unixtime": str(int(when.timestamp())),
        }

    def chat(self, channel: SimChannel) -> dict[str, Any]:
        messages = [
            self.message(channel, m) for _, m in sorted(channel.messages.items()) if not m.deleted
        ]
        pinned = [m for m in channel.messages.values() if m.pinned and not m.deleted]
        if pinned:  # Telegram posts a service message when a post is pinned
            last = max(channel.messages)
            messages.append(
                {
                    "id": last + 1,
                    "type": "service",
                    **self.date(pinned[0].date + timedelta(minutes=3)),
                    "actor": channel.title,
                    "actor_id": f"channel{channel.id}",
                    "action": "pin_message",
                    "message_id": pinned[0].id,
                    "text": "",
                    "text_entities": [],
                }
            )
        kind = "public_channel" if channel.username else "private_channel"
        return {"name": channel.title, "type": kind, "id": channel.id, "messages": messages}

    def message(self, channel: SimChannel, message: SimMessage) -> dict[str, Any]:
        out: dict[str, Any] = {"id": message.id, "type": "message", **self.date(message.date)}
        if message.edit_date is not None:
            edited = self.date(message.edit_date)
            out["edited"], out["edited_unixtime"] = edited["date"], edited["date_unixtime"]
        out["from"] = channel.title
        out["from_id"] = f"channel{channel.id}"
        if message.fwd_from is not None:
            source = message.fwd_from.channel_id
            out["forwarded_from"] = (
                self.backend.channel(source).title if source else message.fwd_from.from_name
            )
        if message.reply_to is not None:
            out["reply_to_message_id"] = message.reply_to
        if message.photo is not None:
            self.photos += 1
            name = f"photo_{self.photos}@{message.date.astimezone(LOCAL):%d-%m-%Y_%H-%M-%S}.jpg"
            (self.folder / "photos").mkdir(parents=True, exist_ok=True)
            (self.folder / "photos" / name).write_bytes(message.photo.largest)
            width, height = message.photo.dimensions[message.photo.largest_type]
            out |= {"photo": f"photos/{name}", "width": width, "height": height}
        parts = text_parts(message.text)
        plain_only = len(parts) == 1 and parts[0]["type"] == "plain"
        out["text"] = (
            message.text
            if not parts or plain_only
            else [p["text"] if p["type"] == "plain" else p for p in parts]
        )
        out["text_entities"] = parts
        return out


def text_parts(text: str) -> list[dict[str, str]]:
    """The text split into Desktop's parts: plain runs and entities."""
    parts: list[dict[str, str]] = []
    at = 0
    for found in _ENTITY.finditer(text):
        if found.start() > at:
            parts.append({"type": "plain", "text": text[at : found.start()]})
        parts.append({"type": found.lastgroup or "plain", "text": found.group()})
        at = found.end()
    if at < len(text):
        parts.append({"type": "plain", "text": text[at:]})
    return parts


def write_channel_export(backend: Backend, channel_id: int, folder: Path) -> Path:
    """A one-channel export in ``folder``; returns its result.json."""
    folder.mkdir(parents=True, exist_ok=True)
    chat = _Export(backend, folder).chat(backend.channel(channel_id))
    result = folder / "result.json"
    result.write_text(json.dumps(chat, ensure_ascii=False, indent=1), encoding="utf-8")
    return result


def write_account_export(backend: Backend, channel_ids: list[int], folder: Path) -> Path:
    """A full-account export: a personal chat (not a channel) and the channels, one left."""
    folder.mkdir(parents=True, exist_ok=True)
    export = _Export(backend, folder)
    chats = [export.chat(backend.channel(cid)) for cid in channel_ids]
    personal = {
        "name": "Analyst Colleague",
        "type": "personal_chat",
        "id": 700000123,
        "messages": [
            {
                "id": 1,
                "type": "message",
                **export.date(datetime(2024, 5, 13, 9, 30, tzinfo=LOCAL)),
                "from": "Analyst Colleague",
                "from_id": "user700000123",
                "text": "did you see the media office post?",
                "text_entities": [{"type": "plain", "text": "did you see the media office post?"}],
            }
        ],
    }
    document = {
        "about": "Here is the data you requested. Remember: Telegram is ad free, ...",
        "personal_information": {"user_id": 700000000, "first_name": "Default"},
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [personal, *chats[:-1]],
        },
        "left_chats": {
            "about": "This page lists all supergroups and channels you left.",
            "list": chats[-1:],
        },
    }
    result = folder / "result.json"
    result.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return result
