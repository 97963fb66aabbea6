"""``monitor cite``: a citation of an archived post, or a numbered footnote list of flagged posts."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

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
from monitor.cli.safe_text import inert, markup_safe
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from monitor.citations import CitationSource
    from monitor.settings import Settings


class Style(StrEnum):  # monitor.citations.STYLES (a test holds them equal)
    short = "short"
    full = "full"
    chicago = "chicago"
    markdown = "markdown"
    csl_json = "csl-json"
    bibtex = "bibtex"


class FlagStatus(StrEnum):
    new = "new"
    confirmed = "confirmed"
    dismissed = "dismissed"
    escalated = "escalated"


@app.command("cite")
def cite(
    ctx: typer.Context,
    ref: Annotated[
        str | None,
        typer.Argument(
            help="The post: https://t.me/name/123, t.me/c/<channel id>/123, @name/123 or "
            "<channel id>/<message id>.",
            show_default=False,
        ),
    ] = None,
    style: Annotated[Style, typer.Option(help="Citation style.")] = Style.short,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Time zone of the dates (IANA name); default $MONITOR_DESK_TIMEZONE, then "
            "alerts.timezone in channels.yaml, then UTC.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        int | None,
        typer.Option(min=1, help="Cite this version (1 = first captured); default the current."),
    ] = None,
    flag: Annotated[
        int | None, typer.Option("--flag", help="Cite the post of this flag id.")
    ] = None,
    flags: Annotated[
        bool,
        typer.Option(
            "--flags", help="A numbered footnote list of the flagged posts (oldest first)."
        ),
    ] = False,
    status: Annotated[
        FlagStatus | None, typer.Option(help="With --flags: only flags with this status.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(help="With --flags: flagged since a date/time or for a duration (7d)."),
    ] = None,
    entity: Annotated[str | None, typer.Option(help="With --flags: only this entity id.")] = None,
    channel: Annotated[
        str | None, typer.Option(help="With --flags: only this channel (@name or id).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="With --flags: at most this many posts.")] = 500,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Cite an archived post (every field from the archive; a post never archived is an error).

    Example: monitor cite https://t.me/khazali_media_sim/125 --style full --tz Asia/Baghdad
    Example: monitor cite --flags --status confirmed --since 2024-05-01 --style markdown
    """
    from monitor.cli.flags_cmd import parse_since

    given = [name for name, on in (("REF", ref), ("--flag", flag), ("--flags", flags)) if on]
    if len(given) != 1:
        raise ConfigError(
            "give one of REF, --flag ID or --flags"
            + (f", not {' and '.join(given)}" if given else ""),
            hint="monitor cite https://t.me/name/123, monitor cite --flag 12, or "
            "monitor cite --flags --status confirmed --since 2024-05-01",
        )
    if not flags and any(v is not None for v in (status, since, entity, channel)):
        raise ConfigError("--status, --since, --entity and --channel go with --flags")
    if flags and version is not None:
        raise ConfigError("--version cites one post; it does not go with --flags")
    from monitor.citations import resolve_timezone

    target = parse_ref(ref, "REF") if ref else None
    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True)
    zone_name, titles = citation_context(settings, tz)
    zone = resolve_timezone(zone_name)
    filters: dict[str, Any] = {
        "status": status.value if status else None,
        "flagged_since": parse_since(since),
        "entity_id": entity,
        "channel": channel,
        "limit": limit,
    }

    async def load(conn: AsyncConnection) -> list[CitationSource]:
        from monitor.citations import CitationSource, with_title_en
        from storage.citation_queries import (
            flagged_post_ids,
            load_citation_source,
            load_citation_source_for_post,
        )

        if target is not None:
            records = [await load_citation_source(conn, target, version=version)]
        else:
            ids = await flagged_post_ids(conn, flag_id=flag, **filters)
            records = [
                await load_citation_source_for_post(conn, post_id, version=version)
                for post_id in ids
            ]
        return [with_title_en(CitationSource(**record), titles) for record in records]

    sources = run_async(_read(settings, load))
    if as_json:
        _print_json(sources, style.value, zone)
        return
    from monitor.citations import render_citation, render_citations

    if flags:
        if not sources:
            err_console.print("no flagged posts match")
            return
        _print(render_citations(sources, style.value, tz=zone))
        return
    _print(render_citation(sources[0], style.value, tz=zone))


def parse_ref(ref: str, option: str) -> Any:
    """:func:`monitor.citations.parse_post_ref`, its error made safe to print as Rich markup."""
    from monitor.citations import parse_post_ref

    try:
        return parse_post_ref(ref, option=option)
    except ConfigError as exc:
        raise ConfigError(markup_safe(str(exc)), hint=exc.hint) from None


def _print(text: str) -> None:
    """Stored text, printed literally (never as markup) and without wrapping a link apart."""
    console.print(Text(inert(text)), soft_wrap=True)


def _print_json(sources: list[CitationSource], style: str, zone: Any) -> None:
    from monitor.citations import csl_item, render_citation

    for number, source in enumerate(sources, 1):
        citation: Any = (
            csl_item(source, zone)
            if style == "csl-json"
            else render_citation(source, style, tz=zone, number=number)
        )
        row = {
            "n": number,
            "link": source.permalink,
            "channel_id": source.channel_id,
            "message_id": source.message_id,
            "version": source.version,
            "versions": source.version_count,
            "sha256": source.version_sha256,
            "style": style,
            "citation": citation,
        }
        console.out(json.dumps(row, ensure_ascii=False), highlight=False)


async def _read(settings: Settings, work: Any) -> Any:
    from storage import check_schema, create_engine

    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        async with engine.connect() as conn:
            return await work(conn)
    finally:
        await engine.dispose()


def citation_context(settings: Settings, tz: str | None) -> tuple[str | None, dict[str, str]]:
    """The citation time zone's name and the watchlist's English channel titles.

    A missing or broken watchlist only costs the translations and its time zone (with a
    warning): citing reads the archive, which does not depend on it.
    """
    from monitor.config import load_watchlist

    titles: dict[str, str] = {}
    desk_zone = settings.desk_timezone
    try:
        watchlist = load_watchlist(settings.channels_file)
    except ConfigError as exc:
        if settings.channels_file.exists():
            err_console.print(
                f"[yellow]warning:[/] no English titles from the watchlist: {markup_safe(str(exc))}"
            )
    else:
        titles = {c.key: c.title_en for c in watchlist.channels if c.title_en}
        desk_zone = desk_zone or watchlist.alerts.timezone
    return tz or desk_zone, titles
