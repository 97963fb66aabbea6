"""The server half of MTProto 2.0 and of Telethon's TCP packet codecs.

The client encrypts with the x=0 key derivation and the server answers with x=8 (see
https://core.telegram.org/mtproto/description). AES-IGE comes from ``telethon.crypto`` so the
simulator and the client share one implementation of the primitive, but not of the protocol: the
message-key checks and the server's framing are written here from the specification.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from dataclasses import dataclass
from hashlib import sha1, sha256
from zlib import crc32

from telethon.crypto import AES

__all__ = [
    "DecryptedMessage",
    "MsgIdGenerator",
    "ProtocolError",
    "ServerCodec",
    "auth_key_id",
    "decrypt_from_client",
    "encrypt_to_client",
]


class ProtocolError(Exception):
    """The client sent bytes the server cannot accept; the connection is closed."""


def auth_key_id(auth_key: bytes) -> int:
    """The 64-bit key id (lower 8 bytes of SHA1), as the client sends it (unsigned little-endian)."""
    return struct.unpack("<Q", sha1(auth_key).digest()[-8:])[0]


def _aes_key_iv(auth_key: bytes, msg_key: bytes, x: int) -> tuple[bytes, bytes]:
    a = sha256(msg_key + auth_key[x : x + 36]).digest()
    b = sha256(auth_key[x + 40 : x + 76] + msg_key).digest()
    return a[:8] + b[8:24] + a[24:32], b[:8] + a[8:24] + b[24:32]


@dataclass(frozen=True)
class DecryptedMessage:
    salt: int
    session_id: int
    msg_id: int
    seq_no: int
    body: bytes


def decrypt_from_client(auth_key: bytes, packet: bytes) -> DecryptedMessage:
    if len(packet) < 24 + 32 or (len(packet) - 24) % 16:
        raise ProtocolError(f"encrypted packet of bad length {len(packet)}")
    msg_key = packet[8:24]
    key, iv = _aes_key_iv(auth_key, msg_key, 0)
    plain = AES.decrypt_ige(packet[24:], key, iv)
    if sha256(auth_key[88:120] + plain).digest()[8:24] != msg_key:
        raise ProtocolError("msg_key does not match the decrypted data")
    salt, session_id, msg_id, seq_no, length = struct.unpack("<qqqii", plain[:32])
    if length < 0 or 32 + length > len(plain):
        raise ProtocolError(f"message length {length} exceeds the packet")
    return DecryptedMessage(salt, session_id, msg_id, seq_no, plain[32 : 32 + length])


def encrypt_to_client(
    auth_key: bytes, salt: int, session_id: int, msg_id: int, seq_no: int, body: bytes
) -> bytes:
    data = struct.pack("<qqqii", salt, session_id, msg_id, seq_no, len(body)) + body
    padding = os.urandom(-(len(data) + 12) % 16 + 12)
    msg_key = sha256(auth_key[96:128] + data + padding).digest()[8:24]
    key, iv = _aes_key_iv(auth_key, msg_key, 8)
    return (
        struct.pack("<Q", auth_key_id(auth_key))
        + msg_key
        + AES.encrypt_ige(data + padding, key, iv)
    )


class MsgIdGenerator:
    """Server message ids: time-based, strictly increasing; 1 mod 4 for answers, 3 mod 4 otherwise."""

    def __init__(self) -> None:
        self._last = 0

    def next(self, *, response: bool) -> int:
        now = time.time()
        msg_id = (int(now) << 32) | (int((now % 1) * 2**30) << 2)
        msg_id = max(msg_id, self._last + 4) & ~3
        self._last = msg_id
        return msg_id | (1 if response else 3)


class ServerCodec:
    """Reads and writes packets in the transport the client chose with its first bytes:
    0xef = abridged, 0xeeeeeeee = intermediate, otherwise full (length, seq, body, CRC32)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._send_seq = 0
        self._recv_seq = 0

    @classmethod
    async def detect(cls, reader: asyncio.StreamReader) -> tuple[ServerCodec, bytes]:
        """Read the transport tag; returns the codec and bytes already read that belong to data."""
        first = await reader.readexactly(1)
        if first == b"\xef":
            return cls("abridged"), b""
        rest = await reader.readexactly(3)
        if first + rest == b"\xee\xee\xee\xee":
            return cls("intermediate"), b""
        if first + rest == b"\xdd\xdd\xdd\xdd":
            raise ProtocolError("padded intermediate transport is not supported")
        return cls("full"), first + rest

    async def read_packet(self, reader: asyncio.StreamReader, prefix: bytes = b"") -> bytes:
        if self.mode == "abridged":
            length = (await reader.readexactly(1))[0]
            if length >= 127:
                length = int.from_bytes(await reader.readexactly(3), "little")
            return await reader.readexactly(length * 4)
        if self.mode == "intermediate":
            (length,) = struct.unpack("<i", await reader.readexactly(4))
            return await reader.readexactly(length)
        head = prefix + await reader.readexactly(8 - len(prefix))
        length, seq = struct.unpack("<ii", head)
        if length < 12 or length > 16 * 1024 * 1024:
            raise ProtocolError(f"bad full-transport packet length {length}")
        if seq != self._recv_seq:
            raise ProtocolError(f"full-transport sequence {seq}, expected {self._recv_seq}")
        self._recv_seq += 1
        rest = await reader.readexactly(length - 8)
        body, checksum = rest[:-4], struct.unpack("<I", rest[-4:])[0]
        if crc32(head + body) != checksum:
            raise ProtocolError("full-transport CRC32 mismatch")
        return body

    def encode_packet(self, data: bytes) -> bytes:
        if self.mode == "abridged":
            n = len(data) >> 2
            head = bytes([n]) if n < 127 else b"\x7f" + n.to_bytes(3, "little")
            return head + data
        if self.mode == "intermediate":
            return struct.pack("<i", len(data)) + data
        packet = struct.pack("<ii", len(data) + 12, self._send_seq) + data
        self._send_seq += 1
        return packet + struct.pack("<I", crc32(packet))
