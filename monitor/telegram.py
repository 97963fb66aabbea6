"""Building the TelegramClient: real Telegram, a simulator over TCP, or one in-process.

The rest of the code receives a connected, authorised ``TelegramClient`` and never knows which.
"""

from __future__ import annotations

import contextlib
import functools
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from telethon import TelegramClient
from telethon.sessions import SQLiteSession, StringSession

from monitor.errors import CollectorError, ConfigError
from monitor.settings import Settings

if TYPE_CHECKING:
    from monitor.budget import HistoryBudget
    from monitor.simulator import Backend

# Every flood wait comes back to us as FloodWaitError: the scheduler parks that channel instead
# of Telethon sleeping inside a request while other channels wait.
FLOOD_SLEEP_THRESHOLD = 0

CREDENTIALS_HINT = (
    "set MONITOR_TELEGRAM_API_ID and MONITOR_TELEGRAM_API_HASH (from https://my.telegram.org), "
    "run `monitor login` once, or try everything offline with `monitor demo`"
)


def check_session_file(path: Path) -> None:
    """Refuse a session file that others can read: it is a full login to the account."""
    if path.exists() and path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"session file {path} is readable by other users",
            hint=f"run `chmod 600 {path}`",
        )


def session_path(configured: Path) -> Path:
    """The file Telethon opens for ``configured``: it adds ``.session`` to a name without it."""
    if configured.name.endswith(".session"):
        return configured
    return configured.with_name(configured.name + ".session")


def real_client(settings: Settings) -> TelegramClient:
    if not settings.has_telegram_credentials:
        raise ConfigError("no Telegram credentials", hint=CREDENTIALS_HINT)
    assert settings.telegram_api_hash is not None and settings.telegram_api_id is not None
    session: StringSession | SQLiteSession
    if settings.telegram_session is not None:
        session = StringSession(settings.telegram_session.get_secret_value())
    else:
        path = session_path(settings.session_file)
        check_session_file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        session = SQLiteSession(str(path))
        with contextlib.suppress(FileNotFoundError):
            os.chmod(session.filename, 0o600)
    return TelegramClient(
        session,
        settings.telegram_api_id,
        settings.telegram_api_hash.get_secret_value(),
        flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD,
        receive_updates=True,
    )


def build_client(
    settings: Settings, *, backend: Backend | None = None, account: str = "default"
) -> TelegramClient:
    """A client for ``backend`` (in-process), ``MONITOR_TELEGRAM_SERVER`` or real Telegram
    (``account`` names the simulated account; real accounts differ by their settings)."""
    if backend is not None:
        from monitor.simulator import client_for

        return client_for(backend, account=account, flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD)
    if settings.telegram_server:
        from monitor.simulator import tcp_client

        try:
            return tcp_client(
                settings.telegram_server,
                account=account,
                flood_sleep_threshold=FLOOD_SLEEP_THRESHOLD,
            )
        except ValueError as exc:
            raise ConfigError(
                f"MONITOR_TELEGRAM_SERVER: {exc}", hint="for example 127.0.0.1:8443"
            ) from None
    return real_client(settings)


class TelegramUnreachable(CollectorError):
    """No connection to Telegram (network down, server away): worth trying again later."""


@contextlib.asynccontextmanager
async def open_client(
    settings: Settings, *, backend: Backend | None = None, account: str = "default"
) -> AsyncIterator[TelegramClient]:
    """A connected, authorised client; disconnected on exit."""
    client = build_client(settings, backend=backend, account=account)
    try:
        await client.connect()
    except OSError as exc:
        raise TelegramUnreachable(f"cannot connect to Telegram: {exc}") from None
    try:
        if not await client.is_user_authorized():
            raise CollectorError(
                "this Telegram session is not logged in", hint="run `monitor login`"
            )
        yield client
    finally:
        await client.disconnect()


async def login_interactive(
    settings: Settings, *, phone: str | None = None, account: str = "default"
) -> str:
    """Log in with phone, code and (if set) the 2FA password; returns the account's name.

    Prompts on the terminal. The session file is created with mode 0600.
    """
    import getpass

    settings.session_file.parent.mkdir(parents=True, exist_ok=True)
    client = build_client(settings, account=account)
    session_path = getattr(client.session, "filename", None)
    await client.start(
        phone=lambda: phone or input("Phone number (international format): "),
        code_callback=lambda: input("Login code sent by Telegram: "),
        password=lambda: getpass.getpass("Two-step verification password: "),
    )
    try:
        me = await client.get_me()
    finally:
        await client.disconnect()
    if session_path:
        os.chmod(session_path, 0o600)
    return " ".join(filter(None, [me.first_name, me.last_name])) or str(me.id)


def limit_history(client: TelegramClient, budget: HistoryBudget) -> None:
    """Make every messages.getHistory request ``client`` sends wait for room in ``budget``
    (the account's own limit, kept on our side; see :mod:`monitor.budget`)."""
    client.__class__ = _budgeted(type(client))
    client.history_budget = budget  # type: ignore[attr-defined]


@functools.cache
def _budgeted(base: type[TelegramClient]) -> type[TelegramClient]:
    from telethon.tl.functions.messages import GetHistoryRequest

    class BudgetedClient(base):  # type: ignore[valid-type,misc]
        history_budget: HistoryBudget

        async def __call__(  # every request Telethon sends goes through here
            self, request: Any, ordered: bool = False, flood_sleep_threshold: int | None = None
        ) -> Any:
            batch = request if isinstance(request, list) else [request]
            async with contextlib.AsyncExitStack() as stack:
                for item in batch:
                    if isinstance(item, GetHistoryRequest):
                        await stack.enter_async_context(self.history_budget.use())
                return await super().__call__(request, ordered, flood_sleep_threshold)

    BudgetedClient.__name__ = BudgetedClient.__qualname__ = f"Budgeted{base.__name__}"
    return BudgetedClient
