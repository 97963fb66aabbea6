"""The Channels page shows each channel's open health problem and since when (monitor.health's
stored state), over HTTP on both databases; a healthy channel (even one that recovered) shows none.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from storage import close_problem, create_engine, open_problem, park
from tests.web.site import log_in

SINCE = datetime(2026, 1, 6, 9, 30, tzinfo=UTC)
HEALTHY_ID = 777000111


def _row(text: str, channel_id: int) -> str:
    start = text.index(f'id="channel-{channel_id}"')
    return text[start : text.index("</tr>", start)]


async def test_an_open_problem_is_shown_with_its_start_and_a_healthy_channel_shows_none(
    client: httpx.AsyncClient, db_url: str
):
    now = datetime.now(UTC)
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await park("main", 1234567890, now, conn=conn, at=now)  # collected: listed
            await open_problem(
                "some_channel",
                1234567890,
                "private",
                "ChannelPrivateError: <i>gone</i>",
                conn=conn,
                at=SINCE,
                new_episode=True,
            )
            # A second collected channel that had a problem and recovered: healthy now.
            await park("main", HEALTHY_ID, now + timedelta(minutes=1), conn=conn, at=now)
            await open_problem(
                "other_sim",
                HEALTHY_ID,
                "silent",
                "no post for 3 days",
                conn=conn,
                at=SINCE,
                new_episode=True,
            )
            await close_problem("other_sim", conn=conn, at=now)
    finally:
        await engine.dispose()
    await log_in(client, "omar")
    page = await client.get("/channels")
    assert page.status_code == 200
    sick = _row(page.text, 1234567890)
    assert '<strong class="problem">private</strong> since 2026-01-06 09:30 UTC' in sick
    assert "ChannelPrivateError: &lt;i&gt;gone&lt;/i&gt;" in sick  # the detail, escaped
    assert 'class="channel-row failing"' in page.text
    healthy = _row(page.text, HEALTHY_ID)
    assert '<td class="channel-health">ok</td>' in healthy
    assert "silent" not in healthy and "since" not in healthy


async def test_without_stored_health_every_channel_is_ok(client: httpx.AsyncClient, db_url: str):
    now = datetime.now(UTC)
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await park("main", 1234567890, now, conn=conn, at=now)
    finally:
        await engine.dispose()
    await log_in(client, "omar")
    page = await client.get("/channels")
    row = _row(page.text, 1234567890)
    assert '<td class="channel-health">ok</td>' in row and "problem" not in row
