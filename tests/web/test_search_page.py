"""The Search page over HTTP on both databases: analysts and admins search, the desk and
operators get 403; the filters keep what they say; snippets are escaped text whose only marks are
the search's; each hit links to its post page."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from html import unescape
from pathlib import Path

import httpx
import pytest

from tests.factories import BASE_TIME
from tests.flagging.desk import ENTITIES, Flagged, _build
from tests.web.conftest import Desk
from tests.web.site import add_accounts, log_in, settings_for, start_desk

HOSTILE = "Qais al-Khazali <mark>spoke</mark> with Asa'ib Ahl al-Haq <script>alert(1)</script>"


@asynccontextmanager
async def _serve(db_url: str, tmp_path: Path, posts: list[Flagged]) -> AsyncIterator[Desk]:
    await _build(db_url, posts, {}, ENTITIES)
    await add_accounts(db_url)
    env = {"MONITOR_DATA_DIR": str(tmp_path / "data"), "MONITOR_DATABASE_URL": db_url}
    running = await asyncio.to_thread(start_desk, settings_for(env))
    try:
        yield Desk(running.url, env, settings_for(env), running)
    finally:
        await asyncio.to_thread(running.stop)


@pytest.fixture
async def search_desk(db_url: str, tmp_path: Path) -> AsyncIterator[Desk]:
    """Two flagged posts a day apart, one for each entity, one with markup in its text."""
    posts = [
        Flagged("Qais al-Khazali met the ambassador.", posted_at=BASE_TIME, message_id=7),
        Flagged(
            HOSTILE,
            posted_at=BASE_TIME + timedelta(days=1),
            message_id=8,
            entity="aah",
            alias="Asa'ib Ahl al-Haq",
        ),
    ]
    async with _serve(db_url, tmp_path, posts) as desk:
        yield desk


async def _hits(http: httpx.AsyncClient, query: str) -> tuple[list[int], str]:
    page = await http.get(f"/search?{query}")
    assert page.status_code == 200, page.text
    return [int(m) for m in re.findall(r'data-post="/post/\d+/(\d+)"', page.text)], page.text


@pytest.mark.parametrize("name", ["amira", "omar"])
async def test_desk_and_operator_may_not_search(search_desk: Desk, name: str):
    async with httpx.AsyncClient(base_url=search_desk.url) as http:
        await log_in(http, name)
        page = await http.get("/search?q=khazali")
        assert page.status_code == 403
        assert "may not search" in page.text
        assert 'href="/search"' not in (await http.get("/queue")).text


@pytest.mark.parametrize("name", ["noor", "root"])
async def test_analysts_and_admins_search_with_filters(search_desk: Desk, name: str):
    async with httpx.AsyncClient(base_url=search_desk.url) as http:
        await log_in(http, name)
        assert 'href="/search"' in (await http.get("/queue")).text
        found, text = await _hits(http, "q=khazali")
        assert found == [8, 7]  # newest first
        assert re.search(r'id="total">2 posts', text)
        assert (await _hits(http, "q=khazali&entity=aah"))[0] == [8]
        assert (await _hits(http, "q=khazali&entity=qais"))[0] == [7]
        assert (await _hits(http, "q=khazali&since=2026-01-06"))[0] == [8]
        assert (await _hits(http, "q=khazali&until=2026-01-05"))[0] == [7]
        assert (await _hits(http, "q=khazali&channel=@nobody_here"))[0] == []
        assert (await _hits(http, "q=khazali -ambassador"))[0] == [8]
        bad = await http.get("/search?q=khazali&since=yesterday")
        assert bad.status_code == 400 and "since 'yesterday' is not a date" in unescape(bad.text)


async def test_snippets_are_escaped_and_marked_only_by_the_search(search_desk: Desk):
    async with httpx.AsyncClient(base_url=search_desk.url) as http:
        await log_in(http, "noor")
        found, text = await _hits(http, "q=spoke")
    assert found == [8]
    snippet = re.search(r'<p class="snippet"[^>]*>(.*?)</p>', text, re.S).group(1)
    assert re.findall(r"<mark>(.*?)</mark>", snippet) == ["spoke"]
    assert "&lt;mark&gt;" in snippet and "&lt;script&gt;alert(1)&lt;/script&gt;" in snippet
    assert "<script>alert" not in text
    assert re.search(r'<a href="/post/\d+/8">', text)


async def test_a_logged_out_search_goes_to_the_login(search_desk: Desk):
    async with httpx.AsyncClient(base_url=search_desk.url) as http:
        page = await http.get("/search?q=khazali", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/search%3Fq%3Dkhazali"


async def test_hits_come_twenty_a_page(db_url: str, tmp_path: Path):
    posts = [
        Flagged(f"Qais al-Khazali, statement {n}.", posted_at=BASE_TIME + timedelta(hours=n))
        for n in range(21)
    ]
    async with _serve(db_url, tmp_path, posts) as desk:
        async with httpx.AsyncClient(base_url=desk.url) as http:
            await log_in(http, "noor")
            first, text = await _hits(http, "q=khazali")
            assert len(first) == 20 and 'id="total">21 posts' in text
            assert 'rel="next" href="/search?q=khazali&amp;page=2"' in text
            assert 'rel="prev"' not in text
            second, text = await _hits(http, "q=khazali&page=2")
            assert len(second) == 1 and 'rel="prev"' in text and 'rel="next"' not in text
            assert len(set(first + second)) == 21
            assert first == sorted(first, reverse=True) and second[0] < first[-1]
