"""In-process transport: a Telethon ``Connection`` whose socket is a pair of in-memory pipes.

Only ``_connect`` is replaced. The packet codec (TCP full with CRC32, or abridged), the send and
receive loops, MTProtoSender, encryption and reconnects are Telethon's own code.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, ClassVar

from telethon.network.connection import ConnectionTcpAbridged, ConnectionTcpFull
from telethon.network.connection.connection import Connection

from monitor.simulator.handlers import RequestHandler
from monitor.simulator.model import Backend
from monitor.simulator.session import ServerSession

__all__ = ["MemoryWriter", "SimulatedConnection", "make_connection"]

_CODECS: dict[str, type[Connection]] = {
    "full": ConnectionTcpFull,
    "abridged": ConnectionTcpAbridged,
}


class MemoryWriter:
    """The writing end of an in-memory pipe, with the parts of ``StreamWriter`` Telethon uses."""

    def __init__(self, target: asyncio.StreamReader) -> None:
        self._target = target
        self._closed = False

    def write(self, data: bytes) -> None:
        if self._closed:
            raise ConnectionResetError("in-memory pipe is closed")
        self._target.feed_data(data)

    async def drain(self) -> None:
        if self._closed:
            raise ConnectionResetError("in-memory pipe is closed")
        await asyncio.sleep(0)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._target.feed_eof()

    def is_closing(self) -> bool:
        return self._closed

    async def wait_closed(self) -> None:
        return None


class SimulatedConnection(Connection):
    """Mixin base: subclasses made by ``make_connection`` pick the codec and the backend."""

    simulator: ClassVar[RequestHandler]

    async def _connect(self, timeout: float | None = None, ssl: Any = None) -> None:  # noqa: ASYNC109 (Telethon signature)
        # A reconnect reuses this object: let the old loops finish first, or the old receive
        # loop's final disconnect() would tear down the new connection (Telethon 1.45 race).
        current = asyncio.current_task()
        for task in (self._send_task, self._recv_task):
            if task is not None and task is not current and not task.done():
                with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(asyncio.shield(task), timeout=5)
        to_client, to_server = asyncio.StreamReader(), asyncio.StreamReader()
        self._reader = to_client
        self._writer = MemoryWriter(to_server)
        session = ServerSession(self.simulator, to_server, MemoryWriter(to_client))
        self._server_task = asyncio.get_running_loop().create_task(session.run())
        self._codec = self.packet_codec(self)
        self._init_conn()
        await self._writer.drain()

    def __str__(self) -> str:
        return f"simulator/{type(self).__mro__[2].__name__.replace('Connection', '')}"


def make_connection(backend: Backend, *, codec: str = "full") -> type[Connection]:
    """A ``Connection`` class for ``TelegramClient(..., connection=...)`` talking to ``backend``.

    ``codec`` is Telethon's packet codec: "full" (the default, with CRC32) or "abridged".
    """
    try:
        base = _CODECS[codec]
    except KeyError:
        raise ValueError(f"unknown codec {codec!r}; use one of {sorted(_CODECS)}") from None
    handler = RequestHandler(backend, host="127.0.0.1", port=443)
    return type(f"Simulated{base.__name__}", (SimulatedConnection, base), {"simulator": handler})
