"""A flagged post whose photo (here a resized copy) was first posted by another channel says so
in its alert and in its `full` citation: "photo first posted by @source_media on May 1, 2024
09:00 UTC"; the source's own alert and citation do not. Real pipeline, flagger and outbox."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from typer.testing import CliRunner

from alerts import Renderer, Route, enqueue_for_post
from alerts.message import AlertMessage
from monitor.cli import app
from monitor.config import parse_watchlist
from monitor.flagging import FlaggedPost, Flagger
from monitor.matching import Matcher
from storage import sync_entities
from storage.models import alert_outbox, channel, post
from tests.photos.test_trace_names_the_source_first import _env, _scenario

WATCHLIST = parse_watchlist(
    """
entities:
  - id: qais-al-khazali
    name: Qais al-Khazali
    kind: person
    aliases: ["قيس الخزعلي"]
"""
)
SOURCE_FIRST = ("source_media", "relay_one", "elsewhere", "relay_three", "relay_two")
LINE = "photo first posted by @source_media on May 1, 2024 09:00 UTC"
SENTENCE = "P" + LINE[1:]
INVISIBLE = dict.fromkeys(map(ord, "\u2060\u2068\u2069\u200b"))  # word joiner, bidi isolates


async def _flagged_archive(telegram, connect, make_pipeline, engine) -> None:
    from monitor.service import _entity_values

    async with engine.begin() as conn:
        await sync_entities(_entity_values(WATCHLIST), conn=conn, actor="test")
    route = Route.of("desk", ["json://127.0.0.1:9/"])

    async def queue(flagged: FlaggedPost, conn) -> None:  # noqa: ANN001
        await enqueue_for_post(
            conn=conn, post_id=flagged.post_id, flags=flagged.new_flags, routes=[route]
        )

    flagger = Flagger(Matcher.compile(WATCHLIST.entities), on_flagged=[queue])
    await _scenario(telegram, connect, make_pipeline, order=SOURCE_FIRST, on_batch=[flagger])


async def _alerts(engine) -> dict[str, AlertMessage]:
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(channel.c.username, alert_outbox.c.payload)
            .join(post, post.c.id == alert_outbox.c.post_id)
            .join(channel, channel.c.id == post.c.channel_id)
        )
        return {name: AlertMessage.from_dict(payload["message"]) for name, payload in rows}


async def test_the_reposts_alert_says_where_its_photo_was_first_posted(
    telegram, connect, make_pipeline, engine
):
    await _flagged_archive(telegram, connect, make_pipeline, engine)
    alerts = await _alerts(engine)
    assert sorted(alerts) == ["relay_two", "source_media"]

    repost = alerts["relay_two"]
    assert repost.to_dict()["photo_first_by"] == "@source_media"
    assert repost.to_dict()["photo_first_at"] == "2024-05-01T09:00:00+00:00"
    renderer = Renderer(desk_timezone="Asia/Baghdad")
    text = renderer.render(repost, "text").body.translate(INVISIBLE)
    assert SENTENCE + " https://t.me/source_media/2\nhttps://t.me/relay_two/2" in text
    html = renderer.render(repost, "html").body.translate(INVISIBLE)
    assert 'href="https://t.me/source_media/2"' in html
    assert "Photo first posted by <bdi>@source_media</bdi> on May 1, 2024 09:00 UTC" in html

    source = alerts["source_media"]
    assert "photo_first_by" not in source.to_dict()
    assert "first posted" not in renderer.render(source, "text").body


async def test_the_full_citation_of_the_repost_names_the_first_post(
    telegram, connect, make_pipeline, engine, db_url, tmp_path
):
    await _flagged_archive(telegram, connect, make_pipeline, engine)
    env = _env(db_url, tmp_path)

    async def cite(ref: str) -> str:
        args = ["cite", ref, "--style", "full", "--tz", "UTC"]
        result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env)
        assert result.exit_code == 0, result.output
        return " ".join(result.output.split())

    repost = await cite("@relay_two/2")
    assert repost.endswith(f"{SENTENCE}.")
    source = await cite("@source_media/2")
    assert "first posted" not in source
    # An unrelated photo posted earlier never counts as the first post.
    assert "first posted" not in await cite("@elsewhere/2")


def test_markdown_alerts_and_digests_carry_the_first_posted_line():
    from datetime import UTC, datetime

    item = AlertMessage(
        kind="alert",
        route="desk",
        channel_id=5,
        message_id=9,
        channel_title="Relay Two",
        channel_username="relay_two",
        entities=("Qais al-Khazali",),
        text="at the meeting",
        posted_at=datetime(2024, 5, 1, 9, 35, tzinfo=UTC),
        photo_first_by="@source_media",
        photo_first_at=datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
        photo_first_link="https://t.me/source_media/2",
    )
    assert AlertMessage.from_dict(item.to_dict()) == item  # the outbox payload keeps it
    renderer = Renderer()
    markdown = renderer.render(item, "markdown").body.translate(INVISIBLE)
    assert "on May 1, 2024 09:00 UTC ([first post](https://t.me/source_media/2))" in markdown
    digest = AlertMessage.digest("desk", [item])
    for fmt in ("text", "markdown", "html"):
        body = renderer.render(digest, fmt).body.translate(INVISIBLE)
        assert "on May 1, 2024 09:00 UTC" in body and "source" in body, fmt
    # A link that is not a t.me post link is left out rather than rendered.
    odd = AlertMessage.from_dict({**item.to_dict(), "photo_first_link": "javascript:alert(1)"})
    assert "javascript" not in renderer.render(odd, "html").body
