"""Build Telethon clients (and sessions) that talk to the simulator instead of Telegram."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telethon import TelegramClient
from telethon.crypto import AuthKey
from telethon.network.connection import ConnectionTcpFull
from telethon.sessions import MemorySession, SQLiteSession
from telethon.sessions.abstract import Session

from monitor.simulator.keys import DC_ID, account_auth_key

if TYPE_CHECKING:
    from monitor.simulator.model import Backend

__all__ = [
    "API_HASH",
    "API_ID",
    "client_for",
    "parse_address",
    "prepare_session",
    "tcp_client",
    "write_session_file",
]

API_ID = 1
API_HASH = "0123456789abcdef0123456789abcdef"


def _as_session(session: Session | str | None) -> Session:
    if session is None:
        return MemorySession()
    if isinstance(session, str):
        return SQLiteSession(session)
    return session


def prepare_session(
    session: Session | str | None = None,
    backend: Backend | None = None,
    *,
    account: str = "default",
    host: str = "127.0.0.1",
    port: int = 443,
) -> Session:
    """Point ``session`` at the simulator's data centre and give it the account's auth key, so
    the client skips the Diffie-Hellman exchange (which the simulator does not implement).

    ``backend`` (optional) only validates that the account exists there.
    """
    prepared = _as_session(session)
    key = backend.account(account).auth_key if backend is not None else account_auth_key(account)
    prepared.set_dc(DC_ID, host, port)
    prepared.auth_key = AuthKey(key)
    prepared.save()
    return prepared


def write_session_file(
    path: str | os.PathLike[str], *, host: str, port: int, account: str = "default"
) -> Path:
    """Write a Telethon SQLite session for a ``SimulatorServer`` at ``host:port`` holding
    ``account``'s auth key, readable by its owner only. Returns the file written (Telethon adds
    ``.session`` to a name without it). Any ``TelegramClient(path, api_id, api_hash)`` with the
    default connection then talks to the simulator, already logged in."""
    name = os.fspath(path)
    target = Path(name if name.endswith(".session") else name + ".session")
    key = account_auth_key(account)
    if target.exists() and _auth_key_in(target) not in (None, key):
        from monitor.simulator.entities import SimulatorError

        raise SimulatorError(
            f"{target} holds another auth key (a real Telegram login?); not overwriting it: "
            "choose another file"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()  # a stale session (other port, cached entities) would mislead
    target.touch(mode=0o600)
    os.chmod(target, 0o600)
    session = SQLiteSession(str(target))
    try:
        prepare_session(session, account=account, host=host, port=port)
    finally:
        session.close()
    return target


def _auth_key_in(path: Path) -> bytes | None:
    """The auth key stored in a Telethon session file (b"" if it is not one)."""
    try:
        session = SQLiteSession(str(path))
    except sqlite3.DatabaseError:
        return b""
    try:
        return session.auth_key.key if session.auth_key is not None else None
    finally:
        session.close()


def client_for(
    backend: Backend,
    *,
    account: str = "default",
    session: Session | str | None = None,
    codec: str = "full",
    **client_kwargs: Any,
) -> TelegramClient:
    """An unmodified ``TelegramClient`` connected in-process to ``backend`` (not yet connected)."""
    from monitor.simulator.connection import make_connection

    session = prepare_session(session, backend, account=account)
    client_kwargs.setdefault("receive_updates", True)
    return TelegramClient(
        session, API_ID, API_HASH, connection=make_connection(backend, codec=codec), **client_kwargs
    )


def parse_address(address: str) -> tuple[str, int]:
    """'127.0.0.1:9443' -> ('127.0.0.1', 9443), with an error naming the bad value."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"simulator address {address!r} must look like HOST:PORT")
    return host.strip("[]"), int(port)


def tcp_client(
    address: str,
    *,
    account: str = "default",
    session: Session | str | None = None,
    api_id: int = API_ID,
    api_hash: str = API_HASH,
    **client_kwargs: Any,
) -> TelegramClient:
    """A ``TelegramClient`` using plain TCP to a ``SimulatorServer`` at ``address`` (HOST:PORT),
    e.g. the value of MONITOR_TELEGRAM_SERVER."""
    host, port = parse_address(address)
    session = prepare_session(session, account=account, host=host, port=port)
    return TelegramClient(session, api_id, api_hash, connection=ConnectionTcpFull, **client_kwargs)
