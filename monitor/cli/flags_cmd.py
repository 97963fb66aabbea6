"""``monitor flags list|show|set``: the review queue of posts that mention watched entities."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.table import Table
from rich.text import Text

from monitor.cli.app import (
    ChannelsOption,
    DataDirOption,
    JsonOption,
    app,
    console,
    err_console,
    make_settings,
    run_async,
)
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from alerts import Route
    from monitor.settings import Settings
    from storage import Flag

flags_app = typer.Typer(
    help="Review flagged posts.\n\nExample: monitor flags list --status new", no_args_is_help=True
)
app.add_typer(flags_app, name="flags")

T = TypeVar("T")


class Status(StrEnum):
    new = "new"
    confirmed = "confirmed"
    dismissed = "dismissed"
    escalated = "escalated"


async def _with_conn(settings: Settings, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    from storage import check_schema, create_engine

    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        async with engine.begin() as conn:
            return await work(conn)
    finally:
        await engine.dispose()


def parse_since(value: str | None) -> datetime | None:
    """``2024-05-13``, an ISO timestamp, or a duration back from now (``24h``, ``7d``)."""
    if value is None:
        return None
    from monitor.config import parse_duration

    try:
        return datetime.now(UTC) - parse_duration(value)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--since {value!r} is neither a date nor a duration",
            hint="use e.g. --since 2024-05-13, --since 2024-05-13T08:00Z or --since 24h",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def flag_json(view: dict[str, Any]) -> dict[str, Any]:
    """The stable JSON shape of a flag (scripts tie alerts to posts with it)."""
    return {
        "id": view["id"],
        "channel_id": view["channel_id"],
        "channel": view["username"],
        "message_id": view["message_id"],
        "grouped_id": view["grouped_id"],
        "post_id": view["post_id"],
        "entity": view["entity_id"],
        "entity_name": view["entity_name"],
        "aliases": view["aliases"],
        "spans": view["spans"],
        "snippet": view["snippet"],
        "language": view["language"],
        "status": view["status"],
        "mention_removed_at": _iso(view["mention_removed_at"]),
        "reviewer": view["reviewer"],
        "note": view["note"],
        "posted_at": _iso(view["posted_at"]),
        "created_at": _iso(view["created_at"]),
        "updated_at": _iso(view["updated_at"]),
        "link": view["link"],
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _print_json(obj: dict[str, Any]) -> None:
    console.out(json.dumps(obj, ensure_ascii=False), highlight=False)


@flags_app.command("list")
def list_flags(
    ctx: typer.Context,
    status: Annotated[Status | None, typer.Option(help="Only flags with this status.")] = None,
    entity: Annotated[str | None, typer.Option(help="Only this entity id.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel (@name or id).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Flagged since a date/time or for a duration (24h, 7d).")
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many flags.")] = 100,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List flagged posts, newest first.

    Example: monitor flags list --status new --entity qais-al-khazali --since 24h
    """
    from storage.review import flag_views

    settings = make_settings(ctx, data_dir=data_dir, quiet=True)
    after = parse_since(since)
    views = run_async(
        _with_conn(
            settings,
            lambda conn: flag_views(
                conn=conn,
                status=status.value if status else None,
                entity_id=entity,
                channel=channel,
                since=after,
                limit=limit,
            ),
        )
    )
    if as_json:
        for view in views:
            _print_json(flag_json(view))
        return
    table = Table("id", "status", "entity", "channel", "posted (UTC)", "snippet", "link")
    for view in views:
        status_text = view["status"] + (" (removed in edit)" if view["mention_removed_at"] else "")
        table.add_row(
            str(view["id"]),
            status_text,
            view["entity_id"],
            f"@{view['username']}" if view["username"] else str(view["channel_id"]),
            f"{view['posted_at']:%Y-%m-%d %H:%M}",
            highlighted(view["snippet"], view["aliases"]),
            view["link"],
        )
    console.print(table)
    if not views:
        console.print("no flags match")


def highlighted(snippet: str, aliases: list[str]) -> Text:
    """The snippet with the matched aliases in bold (case-insensitive, best effort)."""
    text = Text(snippet)
    for alias in aliases:
        text.highlight_words([alias], style="bold yellow", case_sensitive=False)
    return text


@flags_app.command("show")
def show(
    ctx: typer.Context,
    flag_id: Annotated[int, typer.Argument(help="The flag's id.")],
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one flag with its post text, matched spans and review state.

    Example: monitor flags show 12 --json
    """
    from storage.review import flag_views

    settings = make_settings(ctx, data_dir=data_dir, quiet=True)
    views = run_async(_with_conn(settings, lambda conn: flag_views(conn=conn, flag_id=flag_id)))
    if not views:
        raise ConfigError(f"no flag with id {flag_id}", hint="see `monitor flags list`")
    view = views[0]
    if as_json:
        _print_json({**flag_json(view), "text": view["text"]})
        return
    text = Text(view["text"])
    for span in view["spans"]:
        text.stylize("bold yellow", span["start"], span["end"])
    console.print(f"[bold]flag {view['id']}[/] · {view['entity_name']} ({view['entity_id']})")
    console.print(
        f"status: {view['status']}" + (f" by {view['reviewer']}" if view["reviewer"] else "")
    )
    if view["mention_removed_at"]:
        console.print(
            f"mention removed in an edit at {view['mention_removed_at']:%Y-%m-%d %H:%M} UTC"
        )
    console.print(
        f"channel: {view['channel_title']} · posted {view['posted_at']:%Y-%m-%d %H:%M} UTC · "
        f"language: {view['language'] or 'unknown'}"
    )
    console.print(f"link: {view['link']}")
    console.print(
        "matched: " + ", ".join(f"{s['alias']} [{s['rule']}] @{s['start']}" for s in view["spans"])
    )
    console.print(text)


@flags_app.command("set")
def set_status(
    ctx: typer.Context,
    flag_id: Annotated[int, typer.Argument(help="The flag's id.")],
    status: Annotated[Status, typer.Option(help="The new review status.")],
    note: Annotated[str | None, typer.Option(help="A note for the audit trail.")] = None,
    by: Annotated[str, typer.Option(help="Who is reviewing (for the audit trail).")] = "desk",
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Set a flag's review status; the change is written to the audit trail.

    Example: monitor flags set 12 --status escalated --note "new meeting" --by analyst1
    """
    from alerts import enqueue_for_post
    from storage import set_flag_status

    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True)
    routes = _routes_or_warn(settings)

    async def review(conn: AsyncConnection) -> tuple[Flag, int]:
        updated = await set_flag_status(flag_id, status.value, conn=conn, by=by, note=note)
        # Routes waiting for a reviewed status (min_status: confirmed/escalated) get it now.
        queued = await enqueue_for_post(
            conn=conn, post_id=updated.post_id, routes=routes, flags=[updated.id]
        )
        return updated, len(queued)

    updated, queued = run_async(_with_conn(settings, review))
    console.print(
        f"flag {updated.id}: {updated.status} (by {updated.reviewer})"
        + (f"; {queued} alert(s) queued" if queued else "")
    )


def _routes_or_warn(settings: Settings) -> list[Route]:
    """The watchlist's alert routes; a broken watchlist must not block a review, so warn."""
    from monitor.alerting import routes_from
    from monitor.config import load_watchlist

    try:
        return routes_from(load_watchlist(settings.channels_file))
    except ConfigError as exc:
        err_console.print(f"[yellow]warning:[/] no alerts queued: {exc}")
        return []
