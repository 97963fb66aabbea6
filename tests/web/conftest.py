"""Fixtures of the desk's tests: the desk served over a migrated archive (both backends), and for
browser tests one Chromium and one seed-scenario archive per session."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from monitor.settings import Settings
from tests.flagging.desk import ENTITIES, Flagged, _build
from tests.seed_archive import SeedTemplates
from tests.web.site import (
    CHROMIUM,
    CHROMIUM_ARGS,
    RunningDesk,
    add_accounts,
    off_loop,
    seed_telegram,
    settings_for,
    start_desk,
)

REQUIRE_BROWSER_ENV = "MONITOR_TEST_REQUIRE_BROWSER"


@dataclass
class Desk:
    """A running desk and the archive behind it."""

    url: str
    env: dict[str, str]
    settings: Settings
    running: RunningDesk
    telegram: Any = None  # the simulated Telegram its archive was collected from (seed_desk)


@pytest.fixture
async def desk(migrated_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    """The desk over a small archive (one flagged post) with one account per role."""
    db_url = migrated_url
    from tests.factories import BASE_TIME

    await _build(
        db_url,
        [Flagged("Qais al-Khazali met the ambassador.", posted_at=BASE_TIME, message_id=7)],
        {},
        ENTITIES,
    )
    await add_accounts(db_url)
    env = {"MONITOR_DATA_DIR": str(tmp_path / "data"), "MONITOR_DATABASE_URL": db_url}
    settings = settings_for(env)
    running = await asyncio.to_thread(start_desk, settings)
    try:
        yield Desk(running.url, env, settings, running)
    finally:
        await asyncio.to_thread(running.stop)


@pytest.fixture
async def client(desk: Desk) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=desk.url, follow_redirects=False) as http:
        yield http


# ── Browser tests: one Chromium and one seed archive per session, a new context per test ────────


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Chromium for the whole session. Playwright's synchronous API keeps an event loop running
    on the main thread while it is open, where pytest-asyncio's tests must run theirs: the tests
    that use it run after every other test (tests/conftest.py orders them)."""
    if not CHROMIUM.exists():
        reason = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get(REQUIRE_BROWSER_ENV) == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def seed_desk(
    seed_templates: SeedTemplates, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    """The desk over a copy of the seed scenario collected from the simulated Telegram (SQLite),
    with one account per role; shared by the browser tests, which must not assume what others
    changed."""
    data = tmp_path_factory.mktemp("seed-desk") / "data"
    env, _ = seed_templates.copy("sqlite", data)
    settings = settings_for(env)
    off_loop(add_accounts, settings.database_url)
    running = start_desk(settings)
    try:
        yield Desk(running.url, env, settings, running, seed_telegram())
    finally:
        running.stop()


@pytest.fixture
def context(browser: Any, seed_desk: Desk) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=seed_desk.url)
    try:
        yield context
    finally:
        context.close()
