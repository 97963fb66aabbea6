"""The Channels page (operators) and the Entity page, over HTTP on both databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from monitor.settings import load_settings
from storage import create_engine, park, record_error
from tests.web.site import log_in, start_desk


async def test_operators_see_channel_health_and_the_watchlist(
    client: httpx.AsyncClient, db_url: str
):
    now = datetime.now(UTC)
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await park("main", 1234567890, now + timedelta(minutes=7), conn=conn, at=now)
            await record_error("main", 1234567890, "RPCError 500: <b>boom</b>", conn=conn, at=now)
    finally:
        await engine.dispose()
    await log_in(client, "omar")
    page = await client.get("/channels")
    assert page.status_code == 200
    text = page.text
    row = text[
        text.index('id="channel-1234567890"') : text.index(
            "</tr>", text.index('id="channel-1234567890"')
        )
    ]
    assert "Some Channel" in row and "@some_channel" in row
    assert f"until {(now + timedelta(minutes=7)):%H:%M:%S}" in row  # the flood wait
    assert "RPCError 500: &lt;b&gt;boom&lt;/b&gt;" in row  # the last error, escaped
    assert 'class="channel-row failing"' in text
    assert "channels.yaml loads: 3 channels" in text  # the example watchlist, read now
    assert "@khazali_media_sim" in text and "every 2m" in text
    assert '<a href="/entity/qais">' in text and "1 flags" in text  # from the archive


async def test_a_desk_user_may_not_see_the_channels_page(client: httpx.AsyncClient):
    await log_in(client, "amira")
    page = await client.get("/channels")
    assert page.status_code == 403 and "desk accounts may not operate" in page.text


async def test_a_broken_watchlist_is_reported_on_the_channels_page(desk, tmp_path: Path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("channels:\n  - handle: '@ok_name'\n    poll_every: 1s\n", encoding="utf-8")
    settings = load_settings(
        data_dir=desk.settings.data_dir,
        database_url=desk.settings.database_url,
        channels_file=broken,
    )
    running = await asyncio.to_thread(start_desk, settings)
    try:
        async with httpx.AsyncClient(base_url=running.url) as http:
            await log_in(http, "root")
            page = await http.get("/channels")
        assert page.status_code == 200
        assert "does not load" in page.text and "poll_every" in page.text
        assert "too short" in page.text
    finally:
        await asyncio.to_thread(running.stop)


async def test_the_entity_page(client: httpx.AsyncClient):
    await log_in(client, "amira")
    page = await client.get("/entity/qais")
    assert page.status_code == 200
    assert '<p id="mentions">1 flagged posts, 2026-01-05 to 2026-01-05' in page.text
    assert "Some Channel</bdi> @some_channel: 1" in page.text
    assert "Qais al-Khazali met the ambassador." in page.text  # the latest flagged post
    assert page.text.count("<rect ") == 60  # a bar per day, 60 days up to the last mention
    missing = await client.get("/entity/nobody")
    assert missing.status_code == 404 and "no watched entity" in missing.text
