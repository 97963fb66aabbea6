"""``monitor demo``: the seed scenario through the whole pipeline, offline.

A simulated Telegram (in-process, spoken to by the real Telethon client) is loaded with the
``seed`` scenario; the watchlist's channels are collected into the configured data directory,
matched and flagged, exactly as ``monitor run`` would against Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

import structlog
from sqlalchemy import func, select

from monitor.alerting import demo_route
from monitor.config import load_watchlist
from monitor.pipeline import ChannelReport
from monitor.service import open_runtime, run_daemon
from monitor.settings import Settings
from monitor.simulator.scenario import load_scenario
from storage.models import flag, media, post

log = structlog.get_logger(__name__)

ALERT_DRAIN_SECONDS = 15.0  # the demo waits this long at most for alerts to go out


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


async def run_demo(settings: Settings, *, scenario: str = "seed") -> DemoSummary:
    """Collect ``scenario`` into ``settings``' data directory once and summarise the archive."""
    loaded = load_scenario(scenario)
    loaded.apply_history()
    watchlist = load_watchlist(settings.channels_file)
    extra = [demo_route(watchlist, settings.data_dir / "alerts.jsonl")]
    async with open_runtime(
        settings, backend=loaded.backend, migrate=True, watchlist=watchlist, extra_routes=extra
    ) as runtime:
        reports = [
            await runtime.pipeline.collect(runtime.client, spec)
            for spec in runtime.watchlist.enabled_channels()
        ]
        delivery = await runtime.alerting.worker.drain(ALERT_DRAIN_SECONDS)
        summary = DemoSummary(
            reports,
            alerts=delivery.delivered,
            alerts_left=delivery.remaining,
            routes=[route.name for route in runtime.alerting.routes],
        )
        async with runtime.engine.connect() as conn:
            summary.posts = (
                await conn.execute(select(func.count()).select_from(post))
            ).scalar_one()
            count, size = (
                await conn.execute(select(func.count(), func.coalesce(func.sum(media.c.size), 0)))
            ).one()
            summary.photos, summary.photo_bytes = int(count), int(size)
            rows = await conn.execute(
                select(flag.c.entity_id, func.count()).group_by(flag.c.entity_id)
            )
            summary.flags_by_entity = {entity: int(n) for entity, n in rows}
            summary.flagged_posts = (
                await conn.execute(select(func.count(func.distinct(flag.c.post_id))))
            ).scalar_one()
    return summary


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
