"""The Search page: the archive search (``storage.search``, the query language of
``monitor search``) with its filters, highlighted snippets and pages; analysts and admins."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from monitor.errors import MonitorError
from monitor.web.auth import require
from monitor.web.queue import BadFilter, _date
from monitor.web.render import highlight
from storage import StorageError

__all__ = ["search_page"]

PAGE_SIZE = 20
MAX_PAGES = 50  # a page is cut from one query of page * PAGE_SIZE rows: keep that bounded
FIELDS = (
    "q",
    "channel",
    "entity",
    "language",
    "since",
    "until",
    "photo",
    "deleted",
    "edited",
    "sort",
)


def _flag(value: str, name: str) -> bool | None:
    if value not in ("", "yes", "no"):
        raise BadFilter(f"{name} {value!r} is not yes, no or empty")
    return {"yes": True, "no": False}.get(value)


def _listed(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _filters(given: dict[str, str]) -> Any:
    from storage.search import PostFilters

    return PostFilters(
        channels=_listed(given.get("channel", "")),
        entities=_listed(given.get("entity", "")),
        languages=tuple(x.lower() for x in _listed(given.get("language", ""))),
        since=_date(given["since"], "since") if given.get("since") else None,
        until=_date(given["until"], "until", end=True) if given.get("until") else None,
        has_photo=_flag(given.get("photo", ""), "photo"),
        deleted=_flag(given.get("deleted", ""), "deleted"),
        edited=_flag(given.get("edited", ""), "edited"),
    )


async def _index_backlog(engine: Any) -> None:
    """Index versions still waiting (stored by a path without the normaliser, or before
    migration 0004), as ``monitor search`` does before it searches."""
    from monitor.search.text import index_text
    from storage.search_index import count_pending, index_pending

    async with engine.connect() as conn:
        if not await count_pending(conn=conn):
            return
    async with engine.begin() as conn:
        await index_pending(index_text, conn=conn)


async def search_page(request: Request) -> Response:
    require(request, "search")
    from monitor.search import marked_snippet, parse_query
    from storage.search import count_posts, search_posts

    given = {k: request.query_params.get(k, "").strip() for k in FIELDS}
    given = {k: v for k, v in given.items() if v}
    page = request.query_params.get("page", "1")
    number = min(max(int(page), 1), MAX_PAGES) if page.isdigit() else 1
    context: dict[str, Any] = {"given": given, "hits": [], "total": None, "error": None}
    context.update(page=number, has_next=False, base=urlencode(given))
    status = 200
    if given.get("q"):
        sort = "rank" if given.get("sort") == "rank" else "date"
        try:
            parsed = parse_query(given["q"])
            filters = _filters(given)
            engine = request.app.state.engine
            await _index_backlog(engine)
            async with engine.connect() as conn:
                rows = await search_posts(
                    parsed.text_query, filters, conn=conn, limit=number * PAGE_SIZE + 1, sort=sort
                )
                context["total"] = await count_posts(parsed.text_query, filters, conn=conn)
        except (MonitorError, StorageError, BadFilter) as exc:
            context["error"] = str(exc)
            status = 400
        else:
            context["has_next"] = len(rows) > number * PAGE_SIZE and number < MAX_PAGES
            for row in rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]:
                snippet, marks = marked_snippet(row["version_text"], parsed.marked_terms)
                spans = [{"start": m.start, "end": m.end} for m in marks]
                context["hits"].append({**row, "pieces": highlight(snippet, spans)})
    return request.app.state.templates.TemplateResponse(
        request, "search.html", context, status_code=status
    )
