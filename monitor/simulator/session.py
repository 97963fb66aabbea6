"""One client connection on the server side: transport codec, MTProto, requests and updates.

Both transports (in-process pipes and loopback TCP) hand a reader/writer pair to ``ServerSession``.
Requests are answered concurrently (a slow request does not block a ping); every write is one
synchronous ``writer.write`` so packets never interleave.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import time
from typing import Any, Protocol

import structlog
from telethon.errors import TypeNotFoundError
from telethon.extensions import BinaryReader
from telethon.tl import functions, types
from telethon.tl.core import GzipPacked, MessageContainer
from telethon.tl.tlobject import TLObject, TLRequest

from monitor.simulator.handlers import (
    DropConnection,
    RequestHandler,
    RpcError,
    internal_error,
    unwrap,
)
from monitor.simulator.model import ChangeEvent, SimAccount
from monitor.simulator.mtproto import (
    MsgIdGenerator,
    ProtocolError,
    ServerCodec,
    decrypt_from_client,
    encrypt_to_client,
)
from monitor.simulator.render import change_update

__all__ = ["ServerSession", "serialize"]

log = structlog.get_logger("monitor.simulator")

RPC_RESULT = 0xF35C6D01
VECTOR = 0x1CB5C415
BOOL_TRUE, BOOL_FALSE = 0x997275B5, 0xBC799737


class Writer(Protocol):
    def write(self, data: bytes) -> None: ...
    def close(self) -> None: ...


def serialize(value: Any) -> bytes:
    """TL bytes of a handler result: a TL object, a bool or a vector of those."""
    if isinstance(value, bool):
        return struct.pack("<I", BOOL_TRUE if value else BOOL_FALSE)
    if isinstance(value, list):
        return struct.pack("<Ii", VECTOR, len(value)) + b"".join(serialize(v) for v in value)
    if isinstance(value, TLObject):
        return bytes(value)
    raise TypeError(f"cannot serialise handler result {value!r}")


class ServerSession:
    def __init__(
        self,
        handler: RequestHandler,
        reader: asyncio.StreamReader,
        writer: Any,
        *,
        peer: str = "memory",
    ) -> None:
        self.handler = handler
        self.backend = handler.backend
        self.reader = reader
        self.writer = writer
        self.peer = peer
        self.account: SimAccount | None = None
        self._codec: ServerCodec | None = None
        self._ids = MsgIdGenerator()
        self._seq = 0
        self._session_id: int | None = None
        self._salt = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._unsubscribe = self.backend.subscribe(self._on_change)
        self._closed = False

    async def run(self) -> None:
        try:
            self._codec, prefix = await ServerCodec.detect(self.reader)
            while not self._closed:
                packet = await self._codec.read_packet(self.reader, prefix)
                prefix = b""
                self._receive(packet)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away
        except ProtocolError as exc:
            log.warning("simulator_protocol_error", peer=self.peer, error=str(exc))
        finally:
            await self.close()

    async def close(self) -> None:
        if self._closed and not self._tasks:
            return
        self._closed = True
        self._unsubscribe()
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        with contextlib.suppress(Exception):
            self.writer.close()

    # -- incoming -----------------------------------------------------------------------------------

    def _receive(self, packet: bytes) -> None:
        (key_id,) = struct.unpack("<Q", packet[:8])
        if key_id == 0:
            raise ProtocolError(
                "client tried to create an auth key; the simulator has no DH exchange: "
                "prepare the session with monitor.simulator.prepare_session() first"
            )
        if self.account is None:
            self.account = self.backend.account_by_key_id(key_id)
            if self.account is None:
                self._write_raw(struct.pack("<i", -404))
                raise ProtocolError(f"unknown auth key id {key_id}: no such simulated account")
            self.backend.requests.record_connection(self.account.name)
            log.info("simulator_client_connected", peer=self.peer, account=self.account.name)
        message = decrypt_from_client(self.account.auth_key, packet)
        self._session_id = message.session_id
        self._salt = message.salt
        try:
            obj = BinaryReader(message.body).tgread_object()
        except TypeNotFoundError as exc:
            log.warning(
                "simulator_unknown_constructor",
                peer=self.peer,
                constructor=hex(exc.invalid_constructor_id),
            )
            self._send(
                struct.pack("<Iq", RPC_RESULT, message.msg_id)
                + bytes(types.RpcError(400, "INPUT_CONSTRUCTOR_INVALID")),
                response=True,
            )
            return
        self._dispatch(message.msg_id, obj)

    def _dispatch(self, msg_id: int, obj: Any) -> None:
        if isinstance(obj, MessageContainer):
            for inner in obj.messages:
                self._dispatch(inner.msg_id, inner.obj)
        elif isinstance(obj, GzipPacked):
            self._dispatch(msg_id, BinaryReader(obj.data).tgread_object())
        elif isinstance(obj, types.MsgsAck | types.MsgsStateReq | types.MsgResendReq):
            pass
        elif isinstance(obj, functions.PingRequest | functions.PingDelayDisconnectRequest):
            self._send(bytes(types.Pong(msg_id=msg_id, ping_id=obj.ping_id)), response=True)
        elif isinstance(obj, functions.GetFutureSaltsRequest):
            now = int(time.time())
            salts = [
                types.FutureSalt(
                    valid_since=now + i * 3600, valid_until=now + (i + 1) * 3600, salt=self._salt
                )
                for i in range(max(1, min(obj.num, 64)))
            ]
            self._send(bytes(types.FutureSalts(msg_id, now, salts)), response=True)
        elif isinstance(obj, functions.DestroySessionRequest):
            self._send(bytes(types.DestroySessionOk(obj.session_id)), response=True)
        elif isinstance(obj, TLRequest):
            task = asyncio.get_running_loop().create_task(self._answer(msg_id, obj))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            log.warning("simulator_unexpected_object", peer=self.peer, type=type(obj).__name__)

    async def _answer(self, msg_id: int, request: TLRequest) -> None:
        assert self.account is not None
        name = type(unwrap(request)).__name__
        try:
            result = await self.handler.handle(request, self.account)
            payload = serialize(result)
            if len(payload) > 512 and not isinstance(result, types.upload.File):
                payload = GzipPacked.gzip_if_smaller(True, payload)
            log.info("simulator_request", account=self.account.name, request=name)
        except RpcError as exc:
            log.info(
                "simulator_request", account=self.account.name, request=name, error=exc.message
            )
            payload = bytes(types.RpcError(exc.code, exc.message))
        except DropConnection:
            log.info("simulator_drop_connection", account=self.account.name, request=name)
            await self.close()
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("simulator_handler_failed", account=self.account.name, request=name)
            payload = bytes(types.RpcError(500, internal_error(name)))
        self._send(struct.pack("<Iq", RPC_RESULT, msg_id) + payload, response=True)

    # -- outgoing -----------------------------------------------------------------------------------

    def _send(self, body: bytes, *, response: bool, content_related: bool = True) -> None:
        if self._closed or self._session_id is None or self.account is None:
            return
        if content_related:
            seq = self._seq * 2 + 1
            self._seq += 1
        else:
            seq = self._seq * 2
        msg_id = self._ids.next(response=response)
        packet = encrypt_to_client(
            self.account.auth_key, self._salt, self._session_id, msg_id, seq, body
        )
        self._write_raw(packet)

    def _write_raw(self, data: bytes) -> None:
        assert self._codec is not None
        try:
            self.writer.write(self._codec.encode_packet(data))
        except (ConnectionError, RuntimeError):
            self._closed = True

    def _on_change(self, event: ChangeEvent) -> None:
        """Push a channel change to this client if its account joined the channel."""
        if self.account is None or event.dropped:
            return
        channel = self.backend.channels.get(event.channel_id)
        if channel is None or self.account.name not in channel.joined:
            return
        if self.backend.faults.is_banned(channel.id, self.account.name):
            return
        updates = types.Updates(
            updates=[change_update(channel, event)],
            users=[],
            chats=[self.handler.chat(channel, self.account)],
            date=self.backend.state_date(event.seq),
            seq=0,
        )
        self._send(bytes(updates), response=False)
