"""Loopback TCP transport: separate processes share one simulated Telegram.

A client connects with Telethon's normal ``ConnectionTcpFull`` (or abridged/intermediate) to
``host:port``; its session must hold the account's auth key (see ``prepare_session``).
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

import structlog

from monitor.simulator.handlers import RequestHandler
from monitor.simulator.model import Backend
from monitor.simulator.session import ServerSession

__all__ = ["SimulatorServer"]

log = structlog.get_logger("monitor.simulator")


class SimulatorServer:
    """``async with SimulatorServer(backend) as server:`` listens on ``server.host:server.port``."""

    def __init__(self, backend: Backend, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in ("127.0.0.1", "::1", "localhost"):
            raise ValueError(f"the simulator only listens on loopback, not {host!r}")
        self.backend = backend
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self.handler = RequestHandler(backend, host=host, port=port)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self.handler.port = self.port
        log.info("simulator_listening", host=self.host, port=self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._sessions):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*self._sessions, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        assert self._server is not None
        await self._server.serve_forever()

    async def __aenter__(self) -> SimulatorServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        peer = f"{host}:{port}"
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        try:
            await ServerSession(self.handler, reader, writer, peer=peer).run()
        finally:
            self._sessions.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
