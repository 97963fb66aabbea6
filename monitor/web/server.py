"""Serving the desk with uvicorn: alone (``monitor web``) or beside the demo's daemon."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from typing import Any

import uvicorn

from monitor.settings import Settings
from monitor.web.app import create_app

__all__ = ["DeskServer", "desk_server", "ensure_demo_user"]

GRACE_SECONDS = 3  # open live feeds are cut after this on shutdown


class DeskServer(uvicorn.Server):
    """A uvicorn server that leaves signals to its host (the demo's daemon handles Ctrl-C and
    sets :attr:`should_exit`); ``monitor web`` alone uses uvicorn's own handling."""

    embedded = False

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if not self.embedded:
            with super().capture_signals():
                yield
            return
        yield


def desk_server(
    settings: Settings, *, host: str, port: int, embedded: bool = False, **app_options: Any
) -> DeskServer:
    config = uvicorn.Config(
        create_app(settings, **app_options),
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=GRACE_SECONDS,
        proxy_headers=False,
    )
    server = DeskServer(config)
    server.embedded = embedded
    return server


async def ensure_demo_user(settings: Settings) -> str | None:
    """For ``monitor demo --serve``: an admin account ``demo`` with a fresh random password when
    the archive has no desk account yet; returns that password (shown once), else None."""
    from monitor.web.passwords import hash_password
    from storage import create_engine
    from storage.users import add_user, list_users

    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            if await list_users(conn=conn):
                return None
            password = secrets.token_urlsafe(12)
            await add_user("demo", "admin", hash_password(password), conn=conn, by="demo")
            return password
    finally:
        await engine.dispose()
