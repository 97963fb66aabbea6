"""Alert test fixtures: a desk that flags posts the way the pipeline does, and loopback servers
(an HTTP receiver for Apprise ``json://`` and an aiosmtpd SMTP server for ``mailto://``)."""

from __future__ import annotations

import http.server
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine

from alerts import Route, enqueue_for_post
from storage import (
    MediaRecord,
    NewFlag,
    create_flags,
    link_post_media,
    sync_entities,
    upsert_channel,
    upsert_posts,
)
from tests.factories import BASE_TIME, CHANNEL_ID, make_channel, make_post

# (id, name, kind, tags, aliases): the first alias is what posts mention.
ENTITIES = {
    "hezbollah": ("hezbollah", "Hezbollah", "org", ["armed"], ["Hezbollah", "حزب الله"]),
    "qais": ("qais", "Qais al-Khazali", "person", ["iraq"], ["Qais al-Khazali", "قيس الخزعلي"]),
    "kataib": ("kataib", "Kataib Hezbollah", "org", ["iraq"], ["Kataib Hezbollah"]),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Desk:
    """Stores posts and flags and queues alerts in one transaction, like the pipeline."""

    engine: AsyncEngine
    routes: Sequence[Route]
    ready: bool = False

    async def flag_post(
        self,
        text: str,
        entity_ids: Sequence[str],
        *,
        now: datetime = BASE_TIME,
        photos: int = 0,
        grouped_id: int | None = None,
        message_id: int | None = None,
        channel_id: int = CHANNEL_ID,
    ) -> int:
        """A post mentioning ``entity_ids`` (their first alias must occur in ``text``)."""
        async with self.engine.begin() as conn:
            if not self.ready:
                await upsert_channel(make_channel(), conn=conn, seen_at=BASE_TIME)
                await upsert_channel(
                    make_channel(channel_id=42, username=None, title="Private"),
                    conn=conn,
                    seen_at=BASE_TIME,
                )
                await sync_entities(ENTITIES.values(), conn=conn, actor="test", at=BASE_TIME)
                self.ready = True
            media = tuple(
                MediaRecord(position=i, kind="photo", telegram_id=1000 + i) for i in range(photos)
            )
            record = make_post(
                text,
                message_id=message_id,
                grouped_id=grouped_id,
                media=media,
                channel_id=channel_id,
            )
            result = await upsert_posts([record], conn=conn, captured_at=now)
            post_id = result.new[0].post_id if result.new else await self._post_id(conn, record)
            if media:
                await link_post_media([(post_id, record)], conn=conn, seen_at=now)
            created = await self.add_flags(conn, post_id, text, entity_ids, now, channel_id)
            await enqueue_for_post(
                conn=conn, post_id=post_id, flags=created, routes=self.routes, now=now
            )
        return post_id

    async def add_flags(
        self,
        conn: Any,
        post_id: int,
        text: str,
        entity_ids: Sequence[str],
        now: datetime,
        channel_id: int = CHANNEL_ID,
    ) -> list[Any]:
        flags = []
        for entity_id in entity_ids:
            alias = ENTITIES[entity_id][4][0]
            start = text.index(alias)
            flags.append(
                NewFlag(
                    post_id=post_id,
                    channel_id=channel_id,
                    entity_id=entity_id,
                    aliases=[alias],
                    spans=[
                        {"start": start, "end": start + len(alias), "alias": alias, "rule": "exact"}
                    ],
                    snippet=text[:80],
                    language="en",
                )
            )
        return await create_flags(flags, conn=conn, at=now)

    async def flag_existing(
        self, post_id: int, text: str, entity_ids: Sequence[str], *, now: datetime
    ) -> None:
        """A later flag on a stored post (say, after an edit), queued like the pipeline does."""
        async with self.engine.begin() as conn:
            created = await self.add_flags(conn, post_id, text, entity_ids, now)
            await enqueue_for_post(
                conn=conn, post_id=post_id, flags=created, routes=self.routes, now=now
            )

    @staticmethod
    async def _post_id(conn: Any, record: Any) -> int:
        from storage import get_post_by_key

        row = await get_post_by_key(record.channel_id, record.message_id, conn=conn)
        assert row is not None
        return int(row["id"])


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    answered: int

    @property
    def key(self) -> str:
        return self.headers["Idempotency-Key"]


@dataclass
class Receiver:
    """An HTTP server on loopback that can accept, answer 500, hang, or be down (refusing)."""

    port: int = field(default_factory=free_port)
    mode: str = "ok"  # ok | error | hang
    requests: list[Request] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    _server: http.server.ThreadingHTTPServer | None = None

    def url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"

    @property
    def accepted(self) -> list[Request]:
        return [r for r in self.requests if r.answered == 200]

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                status = 500 if receiver.mode == "error" else 200
                receiver.requests.append(Request(self.path, dict(self.headers), body, status))
                receiver.arrived.set()
                if receiver.mode == "hang":
                    receiver.release.wait(30)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Close the listening socket: connections are refused until :meth:`start`."""
        if self._server is not None:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


class MailBox:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 Message accepted"


@pytest.fixture
async def smtp_server() -> AsyncIterator[tuple[MailBox, int]]:
    box = MailBox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()
