"""Writers behind `monitor export posts`: CSV, JSONL and HTML, one page of posts at a time.

The output goes to ``<name>.part`` and is renamed when complete, so a failed export never leaves
a file that looks finished.
"""

from __future__ import annotations

import csv
import html
import json
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from monitor.cli.app import err_console
from monitor.search import ParsedQuery
from storage.search import PostFilters, count_posts, export_pages

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["COLUMNS", "export", "export_row"]

#: CSV columns, in order (JSONL objects carry the same keys).
COLUMNS = (
    "channel",
    "channel_id",
    "channel_title",
    "message_id",
    "link",
    "posted_at",
    "edited_at",
    "deleted_at",
    "first_captured_at",
    "language",
    "views",
    "forwards",
    "replies",
    "photos",
    "versions",
    "grouped_id",
    "text",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def export_row(row: dict[str, Any]) -> dict[str, Any]:
    """One post as the export shows it (dates ISO 8601 UTC)."""
    return {
        "channel": row["username"],
        "channel_id": row["channel_id"],
        "channel_title": row["channel_title"],
        "message_id": row["message_id"],
        "link": row["link"],
        "posted_at": _iso(row["posted_at"]),
        "edited_at": _iso(row["edited_at"]),
        "deleted_at": _iso(row["deleted_at"]),
        "first_captured_at": _iso(row["first_captured_at"]),
        "language": row["language"],
        "views": row["views"],
        "forwards": row["forwards"],
        "replies": row["replies"],
        "photos": row["photos"],
        "versions": row["versions"],
        "grouped_id": row["grouped_id"],
        "text": row["text"],
    }


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # a spreadsheet shows it as text instead of running it
    return "" if value is None else value


class _Csv:
    def __init__(self, out: IO[str]) -> None:
        out.write("\ufeff")  # BOM: spreadsheets then read the file as UTF-8
        self._writer = csv.writer(out, lineterminator="\r\n")
        self._writer.writerow(COLUMNS)

    def rows(self, rows: list[dict[str, Any]]) -> None:
        self._writer.writerows([_cell(r[c]) for c in COLUMNS] for r in rows)

    def close(self) -> None:
        pass


class _Jsonl:
    def __init__(self, out: IO[str]) -> None:
        self._out = out

    def rows(self, rows: list[dict[str, Any]]) -> None:
        self._out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)

    def close(self) -> None:
        pass


_HTML_HEAD = """<!DOCTYPE html>
<html lang="und">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; }}
article {{ border-top: 1px solid #ccc; padding: .6rem 0; }}
.meta {{ color: #555; font-size: .9rem; }}
.text {{ white-space: pre-wrap; unicode-bidi: plaintext; }}
.flag {{ color: #a40; }}
</style>
</head>
<body>
<h1>{title}</h1>
"""


class _Html:
    def __init__(self, out: IO[str], title: str) -> None:
        self._out = out
        out.write(_HTML_HEAD.format(title=html.escape(title)))

    def rows(self, rows: list[dict[str, Any]]) -> None:
        self._out.writelines(self._article(r) for r in rows)

    @staticmethod
    def _article(r: dict[str, Any]) -> str:
        e = html.escape
        where = f"@{r['channel']}" if r["channel"] else str(r["channel_id"])
        marks = []
        if r["edited_at"]:
            marks.append(f'<span class="flag">edited {e(r["edited_at"])}</span>')
        if r["deleted_at"]:
            marks.append(f'<span class="flag">deleted at source by {e(r["deleted_at"])}</span>')
        if r["photos"]:
            marks.append(f"{r['photos']} photo(s)")
        meta = " · ".join(
            [
                f'<span dir="auto">{e(where)}</span>',
                f'<span dir="auto">{e(r["channel_title"] or "")}</span>',
                f"<time>{e(r['posted_at'])}</time>",
                f'<a href="{e(r["link"])}">{e(r["link"])}</a>',
                *marks,
            ]
        )
        return (
            f'<article>\n<p class="meta">{meta}</p>\n'
            f'<p class="text" dir="auto">{e(r["text"] or "")}</p>\n</article>\n'
        )

    def close(self) -> None:
        self._out.write("</body>\n</html>\n")


def _writer(fmt: str, out: IO[str], title: str) -> Any:
    if fmt == "csv":
        return _Csv(out)
    if fmt == "jsonl":
        return _Jsonl(out)
    return _Html(out, title)


async def export(
    conn: AsyncConnection,
    parsed: ParsedQuery | None,
    filters: PostFilters,
    *,
    output: Path,
    fmt: str,
    show_progress: bool,
    page_size: int = 1000,
    on_page: Callable[[int], None] | None = None,
) -> int:
    """Write every post that matches to ``output``; returns how many."""
    query = parsed.text_query if parsed is not None else None
    total = await count_posts(query, filters, conn=conn) if show_progress else None
    partial = output.with_name(output.name + ".part")
    written = 0
    title = f"Posts matching {parsed.source}" if parsed is not None else "Posts"
    try:
        # newline="": the csv module writes its own line ends
        with (
            partial.open("w", encoding="utf-8", newline="") as out,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=err_console,
                disable=not show_progress,
                transient=True,
            ) as progress,
        ):
            task = progress.add_task(f"exporting {fmt}", total=total)
            writer = _writer(fmt, out, title)
            async for page in export_pages(query, filters, conn=conn, page_size=page_size):
                writer.rows([export_row(row) for row in page])
                written += len(page)
                progress.advance(task, len(page))
                if on_page is not None:
                    on_page(len(page))
            writer.close()
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return written
