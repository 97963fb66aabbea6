"""``monitor demo``: the seed scenario through the whole pipeline, offline.

A simulated Telegram (in-process, spoken to by the real Telethon client) is loaded with the
``seed`` scenario; the watchlist's channels are collected into the configured data directory,
matched and flagged, exactly as ``monitor run`` would against Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from rich.console import Console
from sqlalchemy import func, select

from alerts.sinks.console import ConsoleSink
from monitor.alerting import demo_route
from monitor.config import load_watchlist
from monitor.pipeline import ChannelReport
from monitor.service import open_runtime, run_daemon
from monitor.settings import Settings, is_set
from monitor.simulator.scenario import load_scenario
from storage.models import alert_outbox, flag, media, post
from storage.models import channel as channel_table

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

log = structlog.get_logger(__name__)

ALERT_DRAIN_SECONDS = 15.0  # the demo waits this long at most for alerts to go out
CONSOLE_FILE = "alerts-console.txt"  # where a console route's alerts go during `monitor demo`
DEMO_OCR_WORKERS = 4  # at most: Tesseract processes reading the seed's photos at once


@dataclass(frozen=True)
class DemoAlert:
    """One alert of the demo, for its one-line summary."""

    channel: str
    posted_at: datetime
    entities: list[str]
    route: str
    status: str


@dataclass
class DemoSummary:
    reports: list[ChannelReport]
    posts: int = 0
    photos: int = 0
    photo_bytes: int = 0
    flags_by_entity: dict[str, int] = field(default_factory=dict)
    flagged_posts: int = 0
    alerts: int = 0
    alerts_left: int = 0
    routes: list[str] = field(default_factory=list)
    sent: list[DemoAlert] = field(default_factory=list)
    console_file: str | None = None  # where the console route's full alerts went
    photos_read: int = 0  # photos whose text Tesseract read
    ocr_workers: int = 0  # Tesseract processes at a time (0: OCR off)


def demo_settings(settings: Settings) -> Settings:
    """``settings`` for a one-shot demo: its photos are read (OCR) with a Tesseract per core, up
    to :data:`DEMO_OCR_WORKERS`, unless ``MONITOR_OCR_WORKERS`` says otherwise. The daemon's
    default of one leaves the other cores to collection; a demo waits for the photos' text
    instead (on two cores it finishes in about three quarters of the time)."""
    if is_set("ocr_workers"):
        return settings
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return settings.replace(ocr_workers=max(1, min(DEMO_OCR_WORKERS, cores or 1)))


async def run_demo(settings: Settings, *, scenario: str = "seed") -> DemoSummary:
    """Collect ``scenario`` into ``settings``' data directory once and summarise the archive."""
    settings = demo_settings(settings)
    loaded = load_scenario(scenario)
    loaded.apply_history()
    watchlist = load_watchlist(settings.channels_file)
    extra = [demo_route(watchlist, settings.data_dir / "alerts.jsonl")]
    console_path = settings.data_dir / CONSOLE_FILE
    with contextlib.ExitStack() as files:
        async with open_runtime(
            settings, backend=loaded.backend, migrate=True, watchlist=watchlist, extra_routes=extra
        ) as runtime:
            # A one-shot demo prints a line per alert; a console route's full boxes go to a file.
            consoles = [
                name
                for name, sinks in runtime.alerting.worker.sinks.items()
                if any(isinstance(sink, ConsoleSink) for sink in sinks)
            ]
            if consoles:
                out = files.enter_context(console_path.open("w", encoding="utf-8"))
                quiet = ConsoleSink(Console(file=out, width=100, highlight=False))
                runtime.alerting.worker.sinks = {
                    name: [quiet if isinstance(sink, ConsoleSink) else sink for sink in sinks]
                    for name, sinks in runtime.alerting.worker.sinks.items()
                }
            reports = [
                await runtime.pipeline.collect(runtime.client, spec)
                for spec in runtime.watchlist.enabled_channels()
            ]
            photos_read = ocr_workers = 0
            if runtime.ocr is not None:  # the photos' text may flag their posts too
                from monitor.photos.reader import FINISH_SECONDS

                await runtime.ocr.finish(FINISH_SECONDS)
                if runtime.ocr.ocr.available:
                    photos_read = runtime.ocr.totals.read
                    ocr_workers = runtime.ocr.ocr.workers
            delivery = await runtime.alerting.worker.drain(ALERT_DRAIN_SECONDS)
            summary = DemoSummary(
                reports,
                alerts=delivery.delivered,
                alerts_left=delivery.remaining,
                routes=[route.name for route in runtime.alerting.routes],
                console_file=str(console_path) if consoles else None,
                photos_read=photos_read,
                ocr_workers=ocr_workers,
            )
            async with runtime.engine.connect() as conn:
                await _summarise(summary, conn)
    return summary


async def _summarise(summary: DemoSummary, conn: AsyncConnection) -> None:
    summary.posts = (await conn.execute(select(func.count()).select_from(post))).scalar_one()
    count, size = (
        await conn.execute(select(func.count(), func.coalesce(func.sum(media.c.size), 0)))
    ).one()
    summary.photos, summary.photo_bytes = int(count), int(size)
    rows = await conn.execute(select(flag.c.entity_id, func.count()).group_by(flag.c.entity_id))
    summary.flags_by_entity = {entity: int(n) for entity, n in rows}
    summary.flagged_posts = (
        await conn.execute(select(func.count(func.distinct(flag.c.post_id))))
    ).scalar_one()
    entities = dict((await conn.execute(select(flag.c.id, flag.c.entity_id))).all())
    sent = await conn.execute(
        select(
            alert_outbox.c.route,
            alert_outbox.c.flag_ids,
            alert_outbox.c.status,
            post.c.posted_at,
            channel_table.c.username,
            channel_table.c.id.label("channel_id"),
        )
        .join(post, post.c.id == alert_outbox.c.post_id)
        .join(channel_table, channel_table.c.id == post.c.channel_id)
        .order_by(post.c.posted_at, alert_outbox.c.id)
    )
    summary.sent = [
        DemoAlert(
            channel=f"@{row.username}" if row.username else str(row.channel_id),
            posted_at=row.posted_at,
            entities=[entities[i] for i in row.flag_ids if i in entities],
            route=row.route,
            status=row.status,
        )
        for row in sent
    ]


async def serve_demo(settings: Settings, *, scenario: str = "seed", speed: float = 1.0) -> None:
    """Keep the scenario live: its timed events play while the daemon polls and flags them."""
    loaded = load_scenario(scenario)
    loaded.apply_history()
    backend = loaded.backend
    # The demo account follows the channels, so new posts are pushed to it as updates.
    for channel in backend.channels.values():
        backend.join("default", channel.id)
    watchlist = load_watchlist(settings.channels_file)
    extra = [demo_route(watchlist, settings.data_dir / "alerts.jsonl")]
    player = asyncio.create_task(loaded.play_live(speed=speed))
    try:
        await run_daemon(settings, backend=backend, migrate=True, extra_routes=extra)
    finally:
        player.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await player
