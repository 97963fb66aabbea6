"""``monitor flags list|show|set``: the review queue of posts that mention watched entities."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
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
from monitor.cli.safe_text import markup_safe
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

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
    from storage import create_engine

    engine = create_engine(settings.database_url)
    try:
        return await _in_transaction(engine, work)
    finally:
        await engine.dispose()


def _read(settings: Settings, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """``work`` in a transaction of its own, for commands that only read (no event loop on
    SQLite: see :mod:`storage.reading`)."""
    from storage.reading import run_reading

    return run_reading(settings.database_url, lambda engine: _in_transaction(engine, work))


async def _in_transaction(
    engine: AsyncEngine, work: Callable[[AsyncConnection], Awaitable[T]]
) -> T:
    from storage import check_schema

    await check_schema(engine)
    async with engine.begin() as conn:
        return await work(conn)


def parse_since(value: str | None, option: str = "--since") -> datetime | None:
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
            f"{option} {markup_safe(repr(value))} is neither a date nor a duration",
            hint=f"use e.g. {option} 2024-05-13, {option} 2024-05-13T08:00Z or {option} 24h",
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_until(value: str | None, option: str) -> datetime | None:
    """As :func:`parse_since`, but a bare date means the end of that day (UTC), inclusive."""
    parsed = parse_since(value, option)
    if parsed is not None and value is not None and len(value.strip()) == len("2024-05-13"):
        from datetime import timedelta

        return parsed + timedelta(days=1, microseconds=-1)
    return parsed


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
    entity: Annotated[
        str | None, typer.Option(help="Only this entity id (its flags newest post first).")
    ] = None,
    channel: Annotated[str | None, typer.Option(help="Only this channel (@name or id).")] = None,
    flagged_since: Annotated[
        str | None,
        typer.Option(
            "--flagged-since",
            "--since",
            help="Flagged since a date/time or for a duration (24h, 7d); --since is the same.",
        ),
    ] = None,
    posted_since: Annotated[
        str | None, typer.Option(help="Posted since a date/time or for a duration (24h, 7d).")
    ] = None,
    posted_until: Annotated[
        str | None,
        typer.Option(help="Posted until a date/time (a date: to its end) or a duration ago."),
    ] = None,
    by_post: Annotated[
        bool,
        typer.Option("--by-post", help="One row per post (an album is one post), its flags in it."),
    ] = False,
    limit: Annotated[
        int, typer.Option(help="At most this many flags (posts with --by-post).")
    ] = 100,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List flagged posts, newest flag first (with --entity, newest post first).

    Example: monitor flags list --status new --entity qais-al-khazali --posted-since 2024-05-01
    """
    from monitor.cli.flags_render import flags_table, posts_table
    from storage.review import flag_views, post_views

    settings = make_settings(ctx, data_dir=data_dir, quiet=True)
    filters = {
        "status": status.value if status else None,
        "entity_id": entity,
        "channel": channel,
        "flagged_since": parse_since(flagged_since, "--flagged-since"),
        "posted_since": parse_since(posted_since, "--posted-since"),
        "posted_until": parse_until(posted_until, "--posted-until"),
        "limit": limit,
    }
    if by_post:
        posts = _read(settings, lambda conn: post_views(conn=conn, **filters))
        if as_json:
            for row in posts:
                _print_json(post_json(row))
            return
        console.print(posts_table(posts, console.width))
        if not posts:
            console.print("no flags match")
        return
    views = _read(settings, lambda conn: flag_views(conn=conn, **filters))
    if as_json:
        for view in views:
            _print_json(flag_json(view))
        return
    console.print(flags_table(views, console.width))
    if not views:
        console.print("no flags match")


def post_json(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of a post with its flags (``flags list --by-post --json``)."""
    return {
        "post_id": row["post_id"],
        "channel_id": row["channel_id"],
        "channel": row["username"],
        "message_id": row["message_id"],
        "grouped_id": row["grouped_id"],
        "posted_at": _iso(row["posted_at"]),
        "link": row["link"],
        "entities": [f["entity"] for f in row["flags"]],
        "flags": row["flags"],
        "snippet": row["snippet"],
    }


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
    from monitor.cli.flags_render import inert_text
    from storage.media_text import get_texts
    from storage.provenance import version_origins
    from storage.review import flag_views

    async def fetch(
        conn: AsyncConnection,
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
        views = await flag_views(conn=conn, flag_id=flag_id)
        if not views:
            return views, [], {}
        photos = {s["sha256"] for s in views[0]["spans"] if s.get("in") == "photo"}
        texts = await get_texts(photos, conn=conn)
        return (
            views,
            await version_origins(views[0]["post_id"], conn=conn),
            {sha: found.text for sha, found in texts.items()},
        )

    settings = make_settings(ctx, data_dir=data_dir, quiet=True)
    views, origins, photo_texts = _read(settings, fetch)
    if not views:
        raise ConfigError(f"no flag with id {flag_id}", hint="see `monitor flags list`")
    view = views[0]
    if as_json:
        versions = [
            {**o, "captured_at": _iso(o["captured_at"]), "edited_at": _iso(o["edited_at"])}
            for o in origins
        ]
        extra = {"photo_texts": photo_texts} if photo_texts else {}
        _print_json({**flag_json(view), "text": view["text"], "versions": versions, **extra})
        return
    safe = markup_safe
    text = Text(view["text"])  # stylise spans on the stored text, then drop control characters
    for span in view["spans"]:
        if span.get("in") is None:  # spans found in a photo index its text, shown below
            text.stylize("bold yellow", span["start"], span["end"])
    console.print(
        f"[bold]flag {view['id']}[/] · {safe(view['entity_name'])} ({safe(view['entity_id'])})"
    )
    console.print(
        f"status: {view['status']}" + (f" by {safe(view['reviewer'])}" if view["reviewer"] else "")
    )
    if view["note"]:
        console.print(f"note: {safe(view['note'])}")
    if view["mention_removed_at"]:
        console.print(
            f"mention removed in an edit at {view['mention_removed_at']:%Y-%m-%d %H:%M} UTC"
        )
    console.print(
        f"channel: {safe(view['channel_title'])} · posted {view['posted_at']:%Y-%m-%d %H:%M} UTC · "
        f"language: {safe(view['language'] or 'unknown')}"
    )
    console.print(f"link: {view['link']}", soft_wrap=True)
    if any(o["provenance"] != "collected" for o in origins):  # say which text is not our capture
        console.print(
            "versions: "
            + "; ".join(
                f"{o['provenance']}"
                + (f" from {safe(o['source'])}" if o["source"] else "")
                + f" {o['captured_at']:%Y-%m-%d %H:%M} UTC"
                for o in origins
            ),
            soft_wrap=True,
        )
    console.print(
        "matched: "
        + ", ".join(
            f"{safe(s['alias'])} {safe('[' + s['rule'] + ']')} @{s['start']}" for s in view["spans"]
        )
    )
    console.print(inert_text(text))
    for sha256, found in photo_texts.items():
        photo = Text(found)
        for span in view["spans"]:
            if span.get("sha256") == sha256:
                photo.stylize("bold yellow", span["start"], span["end"])
        console.print(f"text in photo {sha256[:12]} (OCR):")
        console.print(inert_text(photo))


def parse_post_ref(ref: str) -> tuple[str | int, int]:
    """``https://t.me/name/123``, ``t.me/c/<id>/123``, ``@name/123`` or ``<channel id>/123``
    as (username or channel id, message id): the parser ``monitor cite`` uses."""
    from monitor.cli.cite_cmd import parse_ref

    return parse_ref(ref, "--post")


@flags_app.command("set")
def set_status(
    ctx: typer.Context,
    flag_ids: Annotated[
        list[int] | None,
        typer.Argument(help="The flags' ids (all set, or none if one is unknown)."),
    ] = None,
    status: Annotated[Status, typer.Option(help="The new review status.")] = ...,  # type: ignore[assignment]
    post_ref: Annotated[
        str | None,
        typer.Option(
            "--post",
            help="Every open (new) flag of this post or album: https://t.me/name/123, @name/123 "
            "or <channel id>/<message id>.",
        ),
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note for the audit trail.")] = None,
    by: Annotated[str, typer.Option(help="Who is reviewing (for the audit trail).")] = "desk",
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Set flags' review status in one transaction; each change is written to the audit trail.

    Example: monitor flags set 12 13 14 --status escalated --note "new meeting" --by analyst1
    Example: monitor flags set --post https://t.me/khazali_media_sim/126 --status confirmed
    """
    from alerts import enqueue_for_post
    from storage import set_flags_status
    from storage.review import album_flags

    if bool(flag_ids) == bool(post_ref):
        raise ConfigError(
            "give flag ids or --post, not both" if flag_ids else "give flag ids or --post",
            hint="monitor flags set 12 13 --status confirmed, or --post https://t.me/name/123",
        )
    target = parse_post_ref(post_ref) if post_ref else None
    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True)
    routes = _routes_or_warn(settings)
    left: list[dict[str, Any]] = []

    async def review(conn: AsyncConnection) -> tuple[list[Flag], int]:
        ids = list(flag_ids or [])
        if target is not None:
            found, flags = await album_flags(*target, conn=conn)
            if not flags:
                raise ConfigError(f"post {found['link']} has no flags")
            ids = [f["id"] for f in flags if f["status"] == Status.new]
            left.extend(f for f in flags if f["status"] != Status.new)
            if not ids:
                raise ConfigError(
                    f"post {found['link']} has no open (new) flags: "
                    + ", ".join(f"{f['id']} ({f['status']})" for f in flags),
                    hint="to change reviewed flags, give their ids: monitor flags set "
                    + " ".join(str(f["id"]) for f in flags)
                    + f" --status {status.value}",
                )
        updated = await set_flags_status(ids, status.value, conn=conn, by=by, note=note)
        queued = 0
        # Routes waiting for a reviewed status (min_status: confirmed/escalated) get it now.
        for post_id in dict.fromkeys(f.post_id for f in updated):
            queued += len(
                await enqueue_for_post(
                    conn=conn,
                    post_id=post_id,
                    routes=routes,
                    flags=[f.id for f in updated if f.post_id == post_id],
                )
            )
        return updated, queued

    updated, queued = run_async(_with_conn(settings, review))
    for flag in updated:
        console.print(f"flag {flag.id}: {flag.status} (by {markup_safe(flag.reviewer)})")
    for flag_view in left:
        console.print(f"flag {flag_view['id']}: left {flag_view['status']} (already reviewed)")
    if queued:
        console.print(f"{queued} alert(s) queued")


def _routes_or_warn(settings: Settings) -> list[Route]:
    """The watchlist's alert routes; a broken watchlist must not block a review, so warn."""
    from monitor.alerting import routes_from
    from monitor.config import load_watchlist

    try:
        return routes_from(load_watchlist(settings.channels_file))
    except ConfigError as exc:
        err_console.print(f"[yellow]warning:[/] no alerts queued: {exc}")
        return []
