"""The Channels page (operators: per-channel health and the watchlist) and the Entity page
(mentions per day, top channels, latest flagged posts)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from monitor.web.auth import require
from monitor.web.render import bar_chart
from storage.desk_overview import channel_health, entity_overview, list_watched_entities
from storage.desk_queries import queue_views

__all__ = ["channels_page", "entity_page"]


async def channels_page(request: Request) -> Response:
    require(request, "operate")
    now = datetime.now(UTC)
    async with request.app.state.engine.connect() as conn:
        channels = await channel_health(conn=conn, now=now)
        entities = await list_watched_entities(conn=conn)
    for item in channels:
        item["bars"] = bar_chart(item["posts_per_day"], width=150, height=24)
        item["posts_30d"] = sum(n for _, n in item["posts_per_day"])
    watchlist, error = request.app.state.watchlist.get()
    return request.app.state.templates.TemplateResponse(
        request,
        "channels.html",
        {
            "channels": channels,
            "entities": entities,
            "watchlist": watchlist,
            "watchlist_error": error,
            "watchlist_path": str(request.app.state.settings.channels_file),
            "now": now,
        },
    )


async def entity_page(request: Request) -> Response:
    require(request)
    entity_id = str(request.path_params["entity_id"])
    async with request.app.state.engine.connect() as conn:
        overview = await entity_overview(entity_id, conn=conn)
        latest = await queue_views(conn=conn, entity_id=entity_id, limit=20) if overview else []
    templates = request.app.state.templates
    if overview is None:
        return templates.TemplateResponse(
            request,
            "error.html",
            {"title": "Not found", "message": f"no watched entity {entity_id!r}"},
            status_code=404,
        )
    return templates.TemplateResponse(
        request,
        "entity.html",
        {
            **overview,
            "bars": bar_chart(overview["per_day"], width=600, height=80),
            "latest": latest,
            "can_review": False,
        },
    )
