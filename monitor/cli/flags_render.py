"""How the review desk's flags look in a terminal: tables that fit the width, snippets cut to
two lines, stored text made inert. Pure: rows in, Rich renderables out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from monitor.cli.safe_text import inert

__all__ = ["clipped", "flags_table", "highlighted", "inert_text", "posts_table"]


# Tables are borderless (box.SIMPLE_HEAD without edges): 3 characters between two columns.
_GAP = 3
_POSTED = "posted UTC"  # the header is as wide as the date; the time goes on a second line
_LEFT_MAX = 24  # the status/entity column wraps beyond this


def _table(*headers: str, post_width: int) -> Table:
    from rich import box

    table = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.columns[-1].width = post_width
    return table


def _post_width(console_width: int, links: list[str], left: list[int]) -> int:
    """Width left for the post column after the others; never narrower than the longest link."""
    others = sum(left) + _GAP * len(left)
    return max([*map(len, links), console_width - others, 20])


def _post_cell(link: str, snippet: str, aliases: list[str], width: int) -> RenderableType:
    """The link on a line of its own (never cut), the snippet below it in at most two lines."""
    return Group(
        Text(link, no_wrap=True, overflow="ignore"),
        clipped(highlighted(inert(snippet), aliases), width, lines=2),
    )


def _posted(at: datetime) -> str:
    return f"{at:%Y-%m-%d}\n{at:%H:%M}"


def flags_table(views: list[dict[str, Any]], width: int) -> Table:
    """One row of 3 lines per flag, fitting ``width`` columns."""
    headers = ("id", "status / entity", _POSTED, "link / snippet")
    ids = max([len(headers[0]), *(len(str(v["id"])) for v in views)])
    left = max([len(headers[1]), *(len(_status(v)) for v in views)])
    titles = [len(_channel_name(v)) for v in views]
    left = min(
        max(_LEFT_MAX, width // 4), max([left, *titles, *(len(v["entity_id"]) for v in views)])
    )
    post_width = _post_width(width, [v["link"] for v in views], [ids, left, len(_POSTED)])
    table = _table(*headers, post_width=post_width)
    for view in views:
        table.add_row(
            str(view["id"]),
            Group(
                Text(_status(view)),
                Text(inert(view["entity_id"])),
                _channel(view),
            ),
            _posted(view["posted_at"]),
            _post_cell(view["link"], view["snippet"], view["aliases"], post_width),
        )
    return table


def posts_table(posts: list[dict[str, Any]], width: int) -> Table:
    """One row per post: a line per flag (id, status, entity) and the channel, the link and a
    snippet."""
    headers = ("flags: id status entity", _POSTED, "link / snippet")
    lines = {p["post_id"]: [_flag_line(f) for f in p["flags"]] for p in posts}
    names = [len(_channel_name(p)) for p in posts]
    needed = max([len(headers[0]), *names, *map(len, sum(lines.values(), []))])
    left = min(max(_LEFT_MAX + 8, width // 4), needed)
    post_width = _post_width(width, [p["link"] for p in posts], [left, len(_POSTED)])
    table = _table(*headers, post_width=post_width)
    for row in posts:
        table.add_row(
            Group(
                *(Text(line, no_wrap=True, overflow="ellipsis") for line in lines[row["post_id"]]),
                _channel(row),
            ),
            _posted(row["posted_at"]),
            _post_cell(row["link"], row["snippet"], row["aliases"], post_width),
        )
    return table


def _channel_name(row: dict[str, Any]) -> str:
    """The channel's title on one line, else its @username or id."""
    title = inert(row["channel_title"]).replace("\n", " ").strip()
    return title or (f"@{row['username']}" if row["username"] else str(row["channel_id"]))


def _channel(row: dict[str, Any]) -> Text:
    """The channel's name on one line, cut with an ellipsis (the link names it in full)."""
    return Text(_channel_name(row), style="dim", no_wrap=True, overflow="ellipsis")


def _flag_line(flag: dict[str, Any]) -> str:
    return f"{flag['id']} {flag['status']} {inert(flag['entity'])}"


def _status(view: dict[str, Any]) -> str:
    return view["status"] + (" (removed in edit)" if view["mention_removed_at"] else "")


def clipped(text: Text, width: int, *, lines: int) -> Text:
    """``text`` on one line (newlines become spaces) wrapped at ``width``, cut to ``lines`` lines
    with an ellipsis."""
    from rich.console import Console

    flat = Text(" ").join(part for part in text.split("\n") if part.plain.strip())
    wrapped = flat.wrap(Console(width=width), width)
    if len(wrapped) <= lines:
        return flat
    kept = list(wrapped)[:lines]
    last = kept[-1]
    last.rstrip()
    last.truncate(width - 1)
    last.append("…")
    return Text("\n").join(kept)


def highlighted(snippet: str, aliases: list[str]) -> Text:
    """The snippet with the matched aliases in bold (case-insensitive, best effort)."""
    text = Text(snippet)
    for alias in aliases:
        text.highlight_words([alias], style="bold yellow", case_sensitive=False)
    return text


def inert_text(text: Text) -> Text:
    """A styled ``Text`` with control characters removed, styles kept in place."""
    kept = Text()
    for start, char in enumerate(text.plain):
        if inert(char):
            kept.append_text(text[start : start + 1])
    return kept
