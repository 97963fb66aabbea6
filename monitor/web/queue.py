"""The queue: flags by status with filters and counts, review actions, the live feed (server-sent
events) of new flags, and the CSV export of what the filters select."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote as _quote
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse

from monitor.web.auth import checked_form, require, safe_next
from storage.desk_queries import queue_counts, queue_views
from storage.flags import set_flag_status
from storage.models import FLAG_STATUSES

__all__ = ["events", "export_flags", "home", "queue_page", "quote", "review"]

PAGE_SIZE = 100
FEED_SECONDS = 300  # a live feed ends after this; the browser reconnects with Last-Event-ID
FILTERS = ("entity", "channel", "tag", "language", "since", "until")
ACTIONS = {"confirm": "confirmed", "dismiss": "dismissed", "escalate": "escalated", "reopen": "new"}


def quote(path: str) -> str:
    return _quote(path, safe="/")


class BadFilter(ValueError):
    pass


def _date(value: str, name: str, *, end: bool = False) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise BadFilter(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if end and len(value) == len("2024-05-13"):
        parsed += timedelta(days=1, microseconds=-1)
    return parsed


def parse_filters(request: Request) -> tuple[dict[str, str], dict[str, Any]]:
    """The page's filters as given (for links and forms) and as storage takes them."""
    given = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    given = {k: v for k, v in given.items() if v}
    query: dict[str, Any] = {}
    if "entity" in given:
        query["entity_id"] = given["entity"]
    if "channel" in given:
        query["channel"] = given["channel"]
    if "tag" in given:
        query["tag"] = given["tag"]
    if "language" in given:
        query["language"] = given["language"]
    if "since" in given:
        query["posted_since"] = _date(given["since"], "since")
    if "until" in given:
        query["posted_until"] = _date(given["until"], "until", end=True)
    return given, query


def _status(request: Request) -> str | None:
    status = request.query_params.get("status", "new")
    return status if status in FLAG_STATUSES else None  # "all" or anything else: every status


async def home(request: Request) -> Response:
    require(request)
    return RedirectResponse("/queue", status_code=303)


async def queue_page(request: Request) -> Response:
    user = require(request)
    templates = request.app.state.templates
    status = _status(request)
    try:
        given, query = parse_filters(request)
    except BadFilter as exc:
        return templates.TemplateResponse(
            request, "error.html", {"title": "Bad filter", "message": str(exc)}, status_code=400
        )
    async with request.app.state.engine.connect() as conn:
        flags = await queue_views(conn=conn, status=status, limit=PAGE_SIZE, **query)
        counts = await queue_counts(conn=conn, **query)
        newest = await queue_views(conn=conn, limit=1)
    return templates.TemplateResponse(
        request,
        "queue.html",
        {
            "flags": flags,
            "counts": counts,
            "total": sum(counts.values()),
            "status": status or "all",
            "statuses": FLAG_STATUSES,
            "filters": given,
            "filter_query": urlencode(given),
            "after": newest[0]["id"] if newest else 0,
            "can_review": user.role in ("desk", "admin"),
        },
    )


async def review(request: Request) -> Response:
    """A review action on one flag: confirm, dismiss, escalate, reopen or just a note. Answers a
    script with the flag as JSON, a form with a redirect back."""
    user = require(request, "review")
    form = await checked_form(request)
    flag_id = int(request.path_params["flag_id"])
    action = str(form.get("action", ""))
    note = str(form.get("note", "")).strip() or None
    async with request.app.state.engine.begin() as conn:
        from storage.flags import get_flag

        current = await get_flag(flag_id, conn=conn)
        if current is None:
            return JSONResponse({"error": f"no flag with id {flag_id}"}, status_code=404)
        if action == "note":
            if note is None:
                return JSONResponse({"error": "an empty note"}, status_code=400)
            status = current.status
        elif action in ACTIONS:
            status = ACTIONS[action]
        else:
            return JSONResponse({"error": f"unknown action {action!r}"}, status_code=400)
        updated = await set_flag_status(flag_id, status, conn=conn, by=user.name, note=note)
    if request.headers.get("x-requested-with") == "desk":
        return JSONResponse(
            {
                "id": updated.id,
                "status": updated.status,
                "reviewer": updated.reviewer,
                "note": updated.note,
            }
        )
    return RedirectResponse(safe_next(form.get("next")), status_code=303)


def _event(event: str, data: dict[str, Any], event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def events(request: Request) -> Response:
    """Server-sent events: ``flag`` for each new flag passing the page's filters (its row's HTML
    and the new counts), from the id after ``after`` (or ``Last-Event-ID`` on a reconnect)."""
    require(request)
    try:
        _, query = parse_filters(request)
    except BadFilter as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    status = _status(request)
    last = request.headers.get("last-event-id") or request.query_params.get("after", "0")
    after = int(last) if last.isdigit() else 0
    app = request.app
    row = app.state.templates.get_template("_flag_row.html")
    context = {"can_review": request.state.user.role in ("desk", "admin"), "csrf": ""}
    context["csrf"] = request.session.get("csrf", "")

    async def stream() -> AsyncIterator[str]:
        nonlocal after
        loop = asyncio.get_running_loop()
        ends = loop.time() + FEED_SECONDS
        yield "retry: 2000\n\n"
        while loop.time() < ends and not await request.is_disconnected():
            async with app.state.engine.connect() as conn:
                fresh = await queue_views(conn=conn, status=status, after_id=after, **query)
                counts = await queue_counts(conn=conn, **query) if fresh else None
            for flag in fresh:
                after = flag["id"]
                html = row.render(flag=flag, **context)
                yield _event("flag", {"id": flag["id"], "html": html, "counts": counts}, after)
            if not fresh:
                yield ": idle\n\n"
            await asyncio.sleep(app.state.live_poll_seconds)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"cache-control": "no-store", "x-accel-buffering": "no"},
    )


async def export_flags(request: Request) -> Response:
    """The flags the queue's filters select, as CSV (UTF-8 with BOM, ISO dates): analysts only."""
    require(request, "export")
    try:
        _, query = parse_filters(request)
    except BadFilter as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    status = _status(request)
    columns = [
        "id",
        "status",
        "entity_id",
        "channel",
        "message_id",
        "posted_at",
        "created_at",
        "reviewer",
        "note",
        "snippet",
        "link",
    ]
    async with request.app.state.engine.connect() as conn:
        flags = await queue_views(conn=conn, status=status, limit=100_000, **query)
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(columns)
    for flag in flags:
        flag = {**flag, "channel": flag["username"] or flag["channel_id"]}
        writer.writerow(
            [v.isoformat() if isinstance(v, datetime) else v for v in (flag[c] for c in columns)]
        )
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="flags.csv"'},
    )
