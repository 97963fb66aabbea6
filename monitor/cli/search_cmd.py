"""``monitor search``: find posts by their words, in every version the archive holds."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from monitor.cli.app import DataDirOption, JsonOption, app, console, make_settings, run_async
from monitor.cli.safe_text import inert
from monitor.cli.search_support import NO_FILTERS, FilterOptions, filter_options

if TYPE_CHECKING:
    from monitor.search import ParsedQuery


class SortOrder(StrEnum):
    date = "date"
    rank = "rank"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%MZ")


def hit_json(row: dict[str, Any], parsed: ParsedQuery) -> dict[str, Any]:
    """The stable JSON shape of a search hit."""
    from monitor.search import marked_snippet

    snippet, marks = marked_snippet(row["version_text"], parsed.marked_terms)
    return {
        "post_id": row["post_id"],
        "channel_id": row["channel_id"],
        "channel": row["username"],
        "channel_title": row["channel_title"],
        "message_id": row["message_id"],
        "link": row["link"],
        "posted_at": _iso(row["posted_at"]),
        "language": row["language"],
        "edited": row["edited_at"] is not None,
        "edited_at": _iso(row["edited_at"]),
        "deleted": row["deleted_at"] is not None,
        "deleted_at": _iso(row["deleted_at"]),
        "snippet": snippet,
        "marks": [list(span) for span in marks],
        "matched_version": {
            "number": row["version_number"],
            "of": row["versions"],
            "current": row["version_is_current"],
            "captured_at": _iso(row["version_captured_at"]),
        },
        "score": row["score"],
    }


def _print_hit(hit: dict[str, Any]) -> None:
    where = f"@{hit['channel']}" if hit["channel"] else str(hit["channel_id"])
    head = Text(f"{where} · {_when(datetime.fromisoformat(hit['posted_at']))} · {hit['link']}")
    if hit["edited"]:
        head.append(" · edited", style="yellow")
    if hit["deleted"]:
        head.append(f" · deleted {hit['deleted_at'][:10]}", style="red")
    version = hit["matched_version"]
    if not version["current"]:
        head.append(
            f" · matched version {version['number']} of {version['of']} "
            f"(captured {_when(datetime.fromisoformat(version['captured_at']))}), "
            "not the current text",
            style="magenta",
        )
    console.print(head, soft_wrap=True)
    body = Text("  ")
    pos = 0
    snippet = hit["snippet"]
    for start, end in hit["marks"]:
        body.append(inert(snippet[pos:start]))
        body.append("«" + inert(snippet[start:end]) + "»", style="bold reverse")
        pos = end
    body.append(inert(snippet[pos:]))
    console.print(body, soft_wrap=True)


@app.command("search")
@filter_options
def search(
    ctx: typer.Context,
    query: Annotated[
        str, typer.Argument(help='Words (all must match), "a phrase", -word, a OR b, prefix*.')
    ],
    raw_filters: FilterOptions = NO_FILTERS,
    limit: Annotated[int, typer.Option(min=1, help="At most this many posts.")] = 20,
    sort: Annotated[
        SortOrder, typer.Option(help="Newest first (date) or best match first (rank).")
    ] = SortOrder.date,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Search every archived version of every post; an album is found by its caption.

    Spellings meet after normalisation: Arabic and Persian letter variants, tashkeel, case and
    accents, the Arabic article (قيس الخزعلي finds قیس خزعلی). A post whose current text no
    longer says it is found by an earlier version, and the hit names that version. A query that
    starts with "-" goes after "--": monitor search -- "-draft statement".

    Example: monitor search '"cui wei" khazali -visit' --channel primary-source --since 2024-05-01
    """
    from monitor.cli.search_support import post_filters, with_index
    from monitor.search import parse_query
    from storage.search import search_posts

    parsed = parse_query(query)
    settings = make_settings(ctx, data_dir=data_dir, quiet=True)
    filters = post_filters(settings, raw_filters)
    rows = run_async(
        with_index(
            settings,
            lambda conn: search_posts(
                parsed.text_query, filters, conn=conn, limit=limit + 1, sort=sort.value
            ),
        )
    )
    hits = [hit_json(row, parsed) for row in rows[:limit]]
    if as_json:
        for hit in hits:
            console.out(json.dumps(hit, ensure_ascii=False), highlight=False)
        return
    for hit in hits:
        _print_hit(hit)
    if not hits:
        console.print("no posts match")
    elif len(rows) > limit:
        console.print(f"(first {limit} shown; more with --limit)")
