"""Alerting: channels.yaml routes turned into ``alerts`` routes and sinks, and the two hooks
the pipeline calls — queue alerts in the flag transaction, wake the worker after commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from alerts import (
    OutboxWorker,
    Renderer,
    Route,
    Sink,
    enqueue_for_post,
    enqueue_for_posts,
    sinks_for_routes,
)
from alerts.sinks.console import ConsoleSink
from alerts.sinks.jsonl import JsonlSink
from monitor.config import Watchlist
from monitor.flagging import FlaggedPost
from monitor.pipeline import StoredBatch
from storage.media import MediaStore

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

DEMO_ROUTE = "demo"


def routes_from(watchlist: Watchlist, web_url: str | None = None) -> list[Route]:
    """The watchlist's routes with secrets expanded, tags resolved to entity ids; alerts link
    to ``web_url`` (the desk, MONITOR_WEB_URL) when given."""
    routes = []
    for spec in watchlist.routes:
        entity_ids, channel_keys = watchlist.route_targets(spec)
        channels = (
            None
            if channel_keys is None
            else [int(key) if key.isdigit() else key for key in channel_keys]
        )
        routes.append(
            Route.of(
                spec.name,
                [url.get_secret_value() for url in spec.urls],
                entities=entity_ids,
                channels=channels,
                min_status=spec.min_status,
                digest=spec.digest,
                health=spec.health,
                attach_photos=spec.attach_photos,
                attach_max=spec.attach_max,
                attach_max_bytes=round(spec.attach_max_mb * 1024 * 1024),
                web_url=web_url,
            )
        )
    return routes


class Alerting:
    """Owns the routes, their sinks and the outbox worker of one running monitor."""

    def __init__(
        self,
        engine: AsyncEngine,
        watchlist: Watchlist,
        *,
        desk_timezone: str = "UTC",
        extra: Sequence[tuple[Route, Sequence[Sink]]] = (),
        media: MediaStore | None = None,
        web_url: str | None = None,
    ) -> None:
        self.extra = list(extra)
        self.web_url = web_url
        self.routes: list[Route] = []
        self.worker = OutboxWorker(
            engine, {}, renderer=Renderer(desk_timezone=desk_timezone), media=media
        )
        self.use(watchlist)

    def use(self, watchlist: Watchlist) -> None:
        """Adopt the (re)loaded watchlist's routes; rows already queued keep their route name."""
        self.prepare(watchlist)()

    def prepare(self, watchlist: Watchlist) -> Callable[[], None]:
        """Build the watchlist's routes and sinks (raises ``AlertConfigError`` on an unusable
        URL) without adopting them; call the result to adopt them. A reload prepares before it
        changes anything, so a bad URL leaves everything as it was."""
        routes = routes_from(watchlist, self.web_url)
        sinks: dict[str, list[Sink]] = sinks_for_routes(routes)
        for route, route_sinks in self.extra:
            routes.append(route)
            sinks[route.name] = list(route_sinks)

        def adopt() -> None:
            self.routes = routes
            self.worker.sinks = sinks

        return adopt

    async def on_flagged(self, flagged: FlaggedPost, conn: AsyncConnection) -> None:
        """In the flag transaction: one outbox row per post and matching route."""
        await enqueue_for_post(
            conn=conn, post_id=flagged.post_id, flags=flagged.new_flags, routes=self.routes
        )

    async def on_flagged_batch(self, flagged: Sequence[FlaggedPost], conn: AsyncConnection) -> None:
        """:meth:`on_flagged` for a whole batch, with a few statements instead of a few a post."""
        await enqueue_for_posts(
            conn=conn,
            posts=[(f.post_id, f.new_flags) for f in flagged],
            routes=self.routes,
            fresh={f.post_id for f in flagged if f.fresh},
        )

    async def after_commit(self, _batch: StoredBatch) -> None:
        self.worker.wake()


def demo_route(watchlist: Watchlist, alerts_file: Path) -> tuple[Route, list[Sink]]:
    """The demo's own route: every flag to ``alerts.jsonl``, and to the console unless the
    watchlist already has a console route (so nothing prints twice)."""
    sinks: list[Sink] = [JsonlSink(alerts_file)]
    has_console = any(
        url.get_secret_value().startswith("console://")
        for spec in watchlist.routes
        for url in spec.urls
    )
    if not has_console:
        sinks.append(ConsoleSink())
    return Route.of(DEMO_ROUTE, ["jsonl://" + str(alerts_file)]), sinks
