"""Login and logout, the post page, and the archived photos it shows."""

from __future__ import annotations

import asyncio
import mimetypes
import re
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response

from monitor.web.auth import checked_form, csrf_token, password_tag, require, safe_next
from monitor.web.passwords import check_password
from monitor.web.render import highlight, metric_chart, word_diff
from storage.audit_log import audit, list_audit
from storage.desk_queries import media_path
from storage.desk_queries import post_page as load_post_page
from storage.media_text import get_texts
from storage.users import get_user

__all__ = ["login", "login_form", "logout", "media_file", "post_page"]

log = structlog.get_logger(__name__)
_SHA256 = re.compile(r"[0-9a-f]{64}")


def _next(value: Any) -> str:
    return safe_next(value)


async def login_form(request: Request) -> Response:
    if request.state.user is not None:
        return RedirectResponse(_next(request.query_params.get("next")), status_code=303)
    return request.app.state.templates.TemplateResponse(
        request, "login.html", {"next": _next(request.query_params.get("next")), "error": None}
    )


async def login(request: Request) -> Response:
    form = await checked_form(request)
    name = str(form.get("name", "")).strip().lower()
    password = str(form.get("password", ""))
    target = _next(form.get("next"))
    address = request.client.host if request.client else "unknown"
    limiter = request.app.state.limiter
    templates = request.app.state.templates
    wait = limiter.retry_after(address, name)
    if wait:
        log.warning("desk_login_limited", user=name, address=address, retry_after=wait)
        return templates.TemplateResponse(
            request,
            "login.html",
            {"next": target, "error": f"Too many failed logins; try again in {wait} s."},
            status_code=429,
            headers={"retry-after": str(wait)},
        )
    async with request.app.state.engine.begin() as conn:
        user = await get_user(name, conn=conn) if name else None
        ok = check_password(user.password_hash if user else None, password)
        if user is None or not ok or not user.active:
            limiter.failed(address, name)
            log.info("desk_login_failed", user=name, address=address)
            return templates.TemplateResponse(
                request,
                "login.html",
                {"next": target, "error": "Wrong name or password, or the account is disabled."},
                status_code=401,
            )
        await audit("user.login", "user", user.name, conn=conn, actor=user.name)
    limiter.succeeded(name)
    request.session.clear()  # a fresh session (and CSRF token) for the signed-in user
    request.session.update({"user": user.name, "tag": password_tag(user.password_hash)})
    csrf_token(request)
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def post_page(request: Request) -> Response:
    user = require(request)
    channel_id = int(request.path_params["channel_id"])
    message_id = int(request.path_params["message_id"])
    async with request.app.state.engine.connect() as conn:
        page = await load_post_page(channel_id, message_id, conn=conn)
        citations = await _citations(request, conn, page["post"]["id"])
        trail = {
            f["id"]: await list_audit(conn=conn, subject_type="flag", subject_id=f["id"], limit=20)
            for f in page["flags"]
        }
        read = await get_texts([p["sha256"] for p in page["photos"] if p.get("sha256")], conn=conn)
    text = page["post"]["text"] or ""
    spans = [
        span
        for f in page["flags"]
        if f["post_id"] == page["post"]["id"] and f["mention_removed_at"] is None
        for span in f["spans"]
        if span.get("in") is None  # spans in a photo's text (OCR) index that text
    ]
    photo_spans: dict[str, list[dict[str, Any]]] = {}
    for f in page["flags"]:
        for span in f["spans"]:
            if span.get("in") == "photo":
                photo_spans.setdefault(span["sha256"], []).append(span)
    # The text read in each photo (OCR), with the names flagged in it highlighted.
    photo_texts = {
        sha: highlight(found.text, photo_spans.get(sha, [])) for sha, found in read.items()
    }
    versions = page["versions"]
    changes = [
        {"version": v, "number": i + 1, "diff": word_diff(versions[i - 1]["text"], v["text"])}
        if i
        else {"version": v, "number": 1, "diff": [("same", v["text"])]}
        for i, v in enumerate(versions)
    ]
    return request.app.state.templates.TemplateResponse(
        request,
        "post.html",
        {
            **page,
            "pieces": highlight(text, spans),
            "photo_texts": photo_texts,
            "changes": list(reversed(changes)),
            "chart": metric_chart(page["metrics"]),
            "trail": trail,
            "citations": citations,
            "can_review": user.role in ("desk", "admin"),
            "here": request.url.path,
        },
    )


async def _citations(request: Request, conn: Any, post_id: int) -> list[tuple[str, str]]:
    """The post cited in every style (``monitor.citations``, as ``monitor cite`` does: the desk
    time zone, else channels.yaml's; English channel titles from channels.yaml)."""
    from monitor.citations import STYLES, CitationSource, render_citation, with_title_en
    from storage.citation_queries import load_citation_source_for_post

    settings = request.app.state.settings
    zone, titles = request.app.state.watchlist.desk_zone_and_titles(settings.desk_timezone)
    record = await load_citation_source_for_post(conn, post_id)
    source = with_title_en(CitationSource(**record), titles)
    return [(style, render_citation(source, style, tz=zone)) for style in STYLES]


async def media_file(request: Request) -> Response:
    """An archived photo by SHA-256, as stored (the bytes whose hash the page shows)."""
    require(request)
    sha256 = str(request.path_params["sha256"]).lower()
    if not _SHA256.fullmatch(sha256):
        return PlainTextResponse("not a SHA-256", status_code=404)
    async with request.app.state.engine.connect() as conn:
        relpath = await media_path(sha256, conn=conn)
    missing = PlainTextResponse(f"no archived file {sha256}", status_code=404)
    if not relpath:
        return missing
    store = request.app.state.media
    headers = {"cache-control": "private, max-age=86400, immutable"}
    path = store.local_path(relpath)
    if path is not None:  # a directory store: served as a file
        return FileResponse(path, headers=headers)
    try:  # S3: the object's bytes, read off the event loop
        data = await asyncio.to_thread(store.read, relpath)
    except FileNotFoundError:
        return missing
    kind = mimetypes.guess_type(relpath)[0] or "application/octet-stream"
    return Response(data, media_type=kind, headers=headers)
