"""Helpers of the desk's tests: run the desk on a free loopback port, accounts, a post pushed by
the simulated Telegram and collected, a Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from argon2 import PasswordHasher

from monitor.settings import Settings, load_settings
from monitor.web.server import DeskServer, desk_server
from storage import create_engine
from storage.users import add_user

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
# Playwright's own browser download cannot reach the internet: Debian's Chromium, offline.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Functions, not expressions: Playwright evaluates a string expression with eval() while polling,
# which the desk's Content-Security-Policy refuses.
PHOTOS_LOADED = (
    "() => Array.from(document.querySelectorAll('figure.photo img'))"
    ".every(i => i.complete && i.naturalWidth > 0)"
)
PASSWORDS = {
    "amira": ("desk", "amira-desk-password"),
    "noor": ("analyst", "noor-analyst-password"),
    "omar": ("operator", "omar-operator-password"),
    "root": ("admin", "root-admin-password"),
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def settings_for(env: dict[str, str]) -> Settings:
    return load_settings(
        data_dir=Path(env["MONITOR_DATA_DIR"]),
        database_url=env.get("MONITOR_DATABASE_URL"),
        channels_file=Path(env.get("MONITOR_CHANNELS_FILE", ROOT / "channels.yaml")),
    )


_HASHES: dict[str, str] = {}


def quick_hash(password: str) -> str:
    """An argon2id hash with low cost parameters: the desk verifies a hash with the parameters
    written in it, so logins in tests take milliseconds (``monitor users`` uses the defaults)."""
    if password not in _HASHES:
        _HASHES[password] = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(
            password
        )
    return _HASHES[password]


async def add_accounts(database_url: str, names: tuple[str, ...] = tuple(PASSWORDS)) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            for name in names:
                role, password = PASSWORDS[name]
                await add_user(name, role, quick_hash(password), conn=conn, by="test")
    finally:
        await engine.dispose()


@dataclass
class RunningDesk:
    """A desk served by uvicorn on its own thread (its own event loop)."""

    url: str
    server: DeskServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the desk did not stop within 15 s"


def start_desk(settings: Settings, **options: Any) -> RunningDesk:
    port = free_port()
    options.setdefault("live_poll_seconds", 0.2)
    server = desk_server(settings, host="127.0.0.1", port=port, embedded=True, **options)
    thread = threading.Thread(target=server.run, name="desk", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the desk failed to start"
        assert time.monotonic() < deadline, "the desk did not start within 20 s"
        time.sleep(0.02)
    return RunningDesk(f"http://127.0.0.1:{port}", server, thread)


def seed_telegram() -> Any:
    """The simulated Telegram holding the seed scenario's history, as `monitor demo` collects it
    (the scenario is deterministic): later posts continue its message ids."""
    from monitor.simulator.scenario import load_scenario

    loaded = load_scenario("seed")
    loaded.apply_history()
    return loaded.backend


async def push_and_collect(
    settings: Settings, backend: Any, text: str, *, username: str = "khazali_media_sim"
) -> int:
    """Post ``text`` on ``backend``'s channel and collect that channel with the real pipeline
    into ``settings``' archive (matched and flagged); returns the message id."""
    from monitor.config import load_watchlist
    from monitor.config.handles import canonical_handle
    from monitor.service import open_runtime

    channel = backend.channel_by_username(username)
    assert channel is not None
    message = backend.post(channel.id, text)
    watchlist = load_watchlist(settings.channels_file)
    async with open_runtime(settings, backend=backend, watchlist=watchlist) as runtime:
        for spec in runtime.watchlist.enabled_channels():
            if canonical_handle(spec.handle) == username:
                await runtime.pipeline.collect(runtime.client, spec)
    return int(message.id)


def off_loop(work: Any, *args: Any) -> Any:
    """``asyncio.run(work(*args))`` on a thread of its own: Playwright's synchronous API keeps
    an event loop running on the test's thread, where ``asyncio.run`` is refused."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(work(*args))).result()


def push_post(desk: Any, text: str, **options: Any) -> int:
    """:func:`push_and_collect` into a desk's archive, from a browser test."""
    return int(off_loop(lambda: push_and_collect(desk.settings, desk.telegram, text, **options)))


async def log_in(http: httpx.AsyncClient, name: str, password: str | None = None) -> str:
    """Log ``http`` in as ``name``; returns the session's CSRF token."""
    token = await csrf_of(http, "/login")
    response = await http.post(
        "/login",
        data={"csrf_token": token, "name": name, "password": password or PASSWORDS[name][1]},
    )
    assert response.status_code == 303, response.text
    return await csrf_of(http, "/queue")


async def csrf_of(http: httpx.AsyncClient, path: str) -> str:
    page = await http.get(path)
    assert page.status_code == 200, (path, page.status_code)
    marker = 'name="csrf-token" content="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


def browser_login(context: Any, name: str) -> Any:
    """A page of ``context`` logged in as ``name`` (through the login form), on the queue."""
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORDS[name][1])
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/queue")
    return page


def db_query(settings: Settings, sql: str, **params: Any) -> list[Any]:
    """Rows of ``sql`` on the archive (from synchronous browser tests)."""
    from sqlalchemy import text

    async def run() -> list[Any]:
        engine = create_engine(settings.database_url)
        try:
            async with engine.connect() as conn:
                return list(await conn.execute(text(sql), params))
        finally:
            await engine.dispose()

    return list(off_loop(run))


def seed_channel_id(settings: Settings, username: str = "khazali_media_sim") -> int:
    [(channel_id,)] = db_query(
        settings, "SELECT id FROM channel WHERE username = :name", name=username
    )
    return int(channel_id)


def take_screenshots(context: Any, settings: Settings, out: Path) -> list[Path]:
    """The queue and the May 13, 2024 post as a desk user sees them (1280 px wide), as PNGs in
    ``out``: what README shows, regenerated by ``scripts/screenshots.py``."""
    out.mkdir(parents=True, exist_ok=True)
    page = browser_login(context, "amira")
    page.emulate_media(color_scheme="light")
    queue = out / "desk-queue.png"
    page.screenshot(path=str(queue))
    page.goto(f"/post/{seed_channel_id(settings)}/125")
    page.wait_for_function(PHOTOS_LOADED)
    post = out / "desk-post.png"
    page.screenshot(path=str(post), full_page=True)
    page.close()
    return [queue, post]
