"""A small archive collected through the real pipeline with OCR on: a simulated channel, the
real TelegramClient, flags and alert rows as `monitor run` writes them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from monitor.alerting import Alerting
from monitor.config import parse_watchlist
from monitor.flagging import Flagger
from monitor.matching import Matcher
from monitor.photos.ocr import OcrEngine
from monitor.photos.reader import OcrReader
from monitor.pipeline import Pipeline
from monitor.service import _entity_values
from storage import sync_entities
from storage.media import MediaStore
from storage.models import alert_outbox, flag, media, post, post_media

WATCHLIST = parse_watchlist(
    """
entities:
  - id: qais-al-khazali
    name: Qais al-Khazali
    kind: person
    aliases: ["قيس الخزعلي"]
  - id: kataib-hezbollah
    name: Kataib Hezbollah
    kind: organization
    aliases: ["كتائب حزب الله"]
alerts:
  routes:
    - name: desk
      url: "console://stderr"
      entities: all
"""
)


@dataclass
class OcrRig:
    pipeline: Pipeline
    reader: OcrReader
    flagger: Flagger
    alerting: Alerting


async def rig(
    engine: AsyncEngine,
    media_store: MediaStore,
    ocr: OcrEngine,
    languages: Sequence[str] = ("ara",),
    *,
    hooked: bool = True,
    channels: Sequence[int] | None = None,
) -> OcrRig:
    """A pipeline with flagging, alerting and an OCR reader for every channel (``hooked``:
    new photos are queued for it as they are stored; otherwise the test submits them)."""
    async with engine.begin() as conn:
        await sync_entities(_entity_values(WATCHLIST), conn=conn, actor="test")
    alerting = Alerting(engine, WATCHLIST)
    flagger = Flagger(
        Matcher.compile(WATCHLIST.entities), on_flagged_batch=[alerting.on_flagged_batch]
    )

    def languages_of(channel_id: int) -> tuple[str, ...]:  # ``channels``: only these read photos
        return tuple(languages) if channels is None or channel_id in channels else ()

    reader = OcrReader(engine, media_store, ocr, flagger, languages_of)
    pipeline = Pipeline(
        engine=engine,
        media_store=media_store,
        on_batch=[flagger],
        after_commit=[reader.after_commit] if hooked else [],
    )
    return OcrRig(pipeline, reader, flagger, alerting)


async def flags_of(
    engine: AsyncEngine, message_id: int, channel_id: int | None = None
) -> list[Any]:
    async with engine.connect() as conn:
        query = (
            select(flag.c.entity_id, flag.c.spans, flag.c.snippet)
            .join(post, post.c.id == flag.c.post_id)
            .where(post.c.message_id == message_id)
            .order_by(flag.c.entity_id)
        )
        if channel_id is not None:
            query = query.where(post.c.channel_id == channel_id)
        return list(await conn.execute(query))


async def alerts_of(engine: AsyncEngine, message_id: int) -> list[Any]:
    async with engine.connect() as conn:
        query = (
            select(alert_outbox.c.kind, alert_outbox.c.flag_ids, alert_outbox.c.payload)
            .join(post, post.c.id == alert_outbox.c.post_id)
            .where(post.c.message_id == message_id)
            .order_by(alert_outbox.c.id)
        )
        return list(await conn.execute(query))


async def posts_carrying(conn: AsyncConnection, message_id: int) -> list[Any]:
    """The stored photos (``sha256``, ``path``) of a message."""
    query = (
        select(media.c.sha256, media.c.path)
        .join(post_media, post_media.c.sha256 == media.c.sha256)
        .join(post, post.c.id == post_media.c.post_id)
        .where(post.c.message_id == message_id)
    )
    return list(await conn.execute(query))
