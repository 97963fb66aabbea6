"""The Channels page (operators: per-channel health and the watchlist) and the Entity page
(mentions per day, top channels, latest flagged posts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from monitor.web.auth import require
from monitor.web.render import bar_chart
from storage.desk_overview import channel_health, entity_overview, list_watched_entities
from storage.desk_queries import queue_views
from storage.health import ChannelHealth, load_health

__all__ = ["channels_page", "entity_page"]


async def channels_page(request: Request) -> Response:
    require(request, "operate")
    now = datetime.now(UTC)
    async with request.app.state.engine.connect() as conn:
        channels = await channel_health(conn=conn, now=now)
        entities = await list_watched_entities(conn=conn)
        health = await load_health(conn=conn)
    for item in channels:
        item |= _open_problem(item, health)
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


def _open_problem(item: dict[str, Any], health: dict[str, ChannelHealth]) -> dict[str, Any]:
    """The channel's open health problem (monitor.health), found by channel id, else by its
    handle or username: ``health`` (the problem, or None when healthy), ``health_since`` and
    ``health_detail``."""
    found = next(
        (
            row
            for row in health.values()
            if item["channel_id"] and row.channel_id == item["channel_id"]
        ),
        None,
    )
    for key in (item.get("handle"), item.get("username")):
        if found is None and key:
            found = health.get(str(key).lower().lstrip("@"))
    if found is None or found.problem is None:
        return {"health": None, "health_since": None, "health_detail": None}
    return {"health": found.problem, "health_since": found.since, "health_detail": found.detail}


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
