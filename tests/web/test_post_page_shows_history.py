"""The post page over HTTP on both databases: matched spans marked, every version with its word
diff and capture time, the deleted-at-source banner, the counters' chart, the audit trail."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import httpx
from sqlalchemy import select

from storage import create_engine, mark_deleted, upsert_posts
from storage.models import flag
from tests.factories import BASE_TIME, CHANNEL_ID, edited, make_post
from tests.web.site import log_in

FIRST = "Qais al-Khazali met the ambassador."
SECOND = "Qais al-Khazali met the Chinese ambassador <b>today</b>."


async def _history(db_url: str) -> None:
    """Message 7 of the desk fixture: edited (more views), then deleted at source."""
    original = make_post(FIRST, message_id=7, posted_at=BASE_TIME, views=100, forwards=2)
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            later = replace(
                edited(original, SECOND, at=BASE_TIME + timedelta(hours=1)), views=900, forwards=30
            )
            await upsert_posts([later], conn=conn, captured_at=BASE_TIME + timedelta(hours=2))
            await mark_deleted(CHANNEL_ID, [7], conn=conn, at=BASE_TIME + timedelta(hours=5))
    finally:
        await engine.dispose()


async def test_versions_diff_deleted_banner_chart_and_marks(client: httpx.AsyncClient, db_url: str):
    await _history(db_url)
    await log_in(client, "amira")
    page = await client.get(f"/post/{CHANNEL_ID}/7")
    assert page.status_code == 200
    html = page.text
    assert "Deleted at source — noticed 2026-01-05 17:00 UTC" in html
    # The current text, escaped, with the flagged alias marked (spans index the stored text).
    assert (
        "<mark>Qais al-Khazali</mark> met the Chinese ambassador &lt;b&gt;today&lt;/b&gt;." in html
    )
    assert "Versions (2)" in html
    assert (
        "Qais al-Khazali met the <ins>Chinese </ins>ambassador<ins> &lt;b&gt;today&lt;/b&gt;</ins>."
        in html
    )
    assert (
        'captured <time datetime="2026-01-05T14:00:00+00:00">2026-01-05 14:00:00 UTC</time>' in html
    )
    assert html.index("Version 2") < html.index("Version 1")  # newest first
    assert '<polyline class="line-views"' in html and "views (max 900)" in html
    # Cited in every style, with the deletion said (monitor.citations, as `monitor cite`).
    assert '<pre id="cite-short" dir="ltr">Telegram, January 5, 2026.</pre>' in html
    full = html[html.index('id="cite-full"') : html.index("</pre>", html.index('id="cite-full"'))]
    assert "https://t.me/some_channel/7" in full and "deleted at source" in full
    for style in ("chicago", "markdown", "csl-json", "bibtex"):
        assert f'id="cite-{style}"' in html


async def test_the_flag_card_shows_its_audit_trail(client: httpx.AsyncClient, db_url: str):
    token = await log_in(client, "amira")
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            flag_id = (await conn.execute(select(flag.c.id))).scalar_one()
    finally:
        await engine.dispose()
    await client.post(
        f"/flags/{flag_id}/review",
        data={"action": "dismiss", "note": "<i>not him</i>", "csrf_token": token, "next": "/x"},
    )
    html = (await client.get(f"/post/{CHANNEL_ID}/7")).text
    assert "Audit trail (1)" in html
    assert "amira</span> flag.status: new → dismissed" in html
    assert "“&lt;i&gt;not him&lt;/i&gt;”" in html


async def test_an_unknown_post_is_404(client: httpx.AsyncClient):
    await log_in(client, "amira")
    page = await client.get(f"/post/{CHANNEL_ID}/999")
    assert page.status_code == 404 and f"no post {CHANNEL_ID}/999 in the archive" in page.text
