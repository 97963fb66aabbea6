"""``monitor export evidence``: a post (or every flagged post) as a self-verifying zip.

The command is the plain function :func:`evidence`, registered on the ``export`` group by the
last line of this module; pointing that import at another ``export`` group moves it there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from monitor.cli.app import (
    DataDirOption,
    JsonOption,
    console,
    make_settings,
    run_async,
)
from monitor.cli.export_cmd import export_app  # the `export` group
from monitor.cli.safe_text import inert
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from monitor.settings import Settings

__all__ = ["evidence"]


class Status(StrEnum):
    new = "new"
    confirmed = "confirmed"
    dismissed = "dismissed"
    escalated = "escalated"


def evidence(
    ctx: typer.Context,
    ref: Annotated[
        str | None,
        typer.Argument(
            help="The post: https://t.me/name/123, t.me/c/<id>/123, @name/123 or "
            "<channel id>/<message id>.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The zip to write (a folder with --flags, one zip per post).",
            show_default=False,
        ),
    ] = ...,  # type: ignore[assignment]
    flag_id: Annotated[
        int | None, typer.Option("--flag", help="The post of this flag.", show_default=False)
    ] = None,
    flags: Annotated[
        bool, typer.Option("--flags", help="Every post with flags passing the filters below.")
    ] = False,
    status: Annotated[Status | None, typer.Option(help="With --flags: this status only.")] = None,
    since: Annotated[
        str | None, typer.Option(help="With --flags: flagged since a date or for a duration (7d).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="With --flags: flagged until a date (inclusive).")
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Time zone of the citations' dates (default: the desk's, else UTC).",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Write a post (or every flagged post) as an evidence bundle that verifies on its own.

    The zip holds every version (our record and Telegram's raw message), the photos as
    captured, metric history, the channel at capture, flags and review notes, citations, a
    printable post.html and manifest.json (SHA-256, size and capture-log entries of each file).
    `monitor verify FILE.zip` checks it without the archive.

    Example: monitor export evidence https://t.me/khazali_media_sim/125 -o meeting.zip
    Example: monitor export evidence --flags --status confirmed --since 2024-05-01 -o evidence/
    """
    from monitor.citations import parse_post_ref, resolve_timezone
    from monitor.cli.cite_cmd import citation_context
    from monitor.cli.flags_cmd import parse_since, parse_until

    chosen = [
        name
        for name, given in (("REF", ref), ("--flag", flag_id is not None), ("--flags", flags))
        if given
    ]
    if len(chosen) != 1:
        raise ConfigError(
            "give one of REF, --flag ID or --flags"
            + (f", not {' and '.join(chosen)}" if chosen else ""),
            hint="monitor export evidence @name/123 -o post.zip, or --flags --status confirmed -o DIR",
        )
    if not flags and (status or since or until):
        raise ConfigError("--status, --since and --until go with --flags")
    target = parse_post_ref(ref) if ref else None
    window = (parse_since(since), parse_until(until, "--until"))
    settings = make_settings(ctx, data_dir=data_dir, quiet=True)
    zone_name, titles = citation_context(settings, tz)
    cite = Citing(resolve_timezone(zone_name), titles)
    written = run_async(
        _export(
            settings,
            target=target,
            flag_id=flag_id,
            flags=flags,
            status=status.value if status else None,
            window=window,
            output=output,
            cite=cite,
        )
    )
    for row in written:
        if as_json:
            console.out(json.dumps(row, ensure_ascii=False), highlight=False)
        else:
            console.print(
                Text(
                    inert(
                        f"{row['path']}: {row['link']} ({row['files']} files, {row['size']:,} bytes)"
                    )
                ),
                soft_wrap=True,
            )
    if flags and not written and not as_json:
        console.print("no flagged posts match; nothing written")


async def _export(
    settings: Settings,
    *,
    target: tuple[str | int, int] | None,
    flag_id: int | None,
    flags: bool,
    status: str | None,
    window: tuple[datetime | None, datetime | None],
    output: Path,
    cite: Citing,
) -> list[dict[str, Any]]:
    from monitor.media_url import media_store_for
    from storage import StorageError, check_schema, create_engine
    from storage.evidence_queries import find_post, flagged_posts

    store = media_store_for(settings)  # a directory, or s3:// (MONITOR_MEDIA_URL)
    engine = create_engine(settings.database_url)
    written: list[dict[str, Any]] = []
    try:
        await check_schema(engine)
        async with engine.connect() as conn:
            if target is not None:
                post_ids = [await find_post(*target, conn=conn)]
            else:
                post_ids = await flagged_posts(
                    conn=conn,
                    flag_id=flag_id,
                    status=status,
                    since=window[0],
                    until=window[1],
                )
                if flag_id is not None and not post_ids:
                    raise StorageError(
                        f"no flag {flag_id} in the archive",
                        hint="monitor flags list shows the flags' ids",
                    )
            for post_id in post_ids:
                written.append(await _bundle(conn, store, post_id, output, folder=flags, cite=cite))
    finally:
        await engine.dispose()
    return written


async def _bundle(
    conn: AsyncConnection, store: Any, post_id: int, output: Path, *, folder: bool, cite: Citing
) -> dict[str, Any]:
    import hashlib

    from monitor.evidence import build_bundle, bundle_name, post_link, write_bundle
    from storage.evidence_queries import load_evidence

    found = await load_evidence(post_id, conn=conn)
    files = build_bundle(
        found,
        read_photo=lambda medium: _read_photo(store, medium),
        citations=await _citations(conn, found, cite),
        created_at=datetime.now(UTC),
    )
    path = output / bundle_name(found) if folder or _is_dir(output) else output
    size = write_bundle(files, path)
    lead = found.lead
    return {
        "path": str(path),
        "link": post_link(found.channel.get("username"), lead["channel_id"], lead["message_id"]),
        "channel_id": lead["channel_id"],
        "message_id": lead["message_id"],
        "files": len(files),
        "size": size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }


def _read_photo(store: Any, medium: dict[str, Any]) -> bytes:
    from monitor.errors import MonitorError

    try:
        return bytes(store.read(medium["path"]))
    except FileNotFoundError:
        raise MonitorError(
            f"media file {medium['path']} is missing from the media store "
            f"({store.location}); the bundle would not hold the photo as captured",
            hint="run `monitor verify` to see what else changed in the archive",
        ) from None


def _is_dir(path: Path) -> bool:
    return path.is_dir()


@dataclass(frozen=True)
class Citing:
    """How the bundle's citations are dated and titled."""

    zone: tzinfo
    titles: dict[str, str]  # canonical handle -> the watchlist's English title


async def _citations(conn: AsyncConnection, found: Any, cite: Citing) -> dict[str, str]:
    """The post (an album's first message) cited in every style, from the archive only."""
    from monitor.citations import STYLES, CitationSource, render_citation, with_title_en
    from storage.citation_queries import load_citation_source_for_post

    record = await load_citation_source_for_post(conn, found.lead["id"])
    source = with_title_en(CitationSource(**record), cite.titles)
    return {style: render_citation(source, style, tz=cite.zone) for style in STYLES}


export_app.command("evidence")(evidence)
