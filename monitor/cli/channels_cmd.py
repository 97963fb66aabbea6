"""``monitor channels check|list``: validate the watchlist and show the channels it watches."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table

from monitor.cli.app import (
    ChannelsOption,
    DataDirOption,
    JsonOption,
    app,
    console,
    err_console,
    make_settings,
)
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.config import Watchlist

channels_app = typer.Typer(
    help="Validate channels.yaml and list the watched channels.\n\nExample: monitor channels check",
    no_args_is_help=True,
)
app.add_typer(channels_app, name="channels")

FileArgument = Annotated[
    Path | None,
    typer.Argument(
        help="Watchlist to check (default --channels, $MONITOR_CHANNELS_FILE or ./channels.yaml).",
        show_default=False,
    ),
]


@channels_app.command("check")
def check(
    ctx: typer.Context,
    file: FileArgument = None,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Validate a watchlist; print a summary, or every problem as file:line:column and exit 1.

    Example: monitor channels check channels.yaml
    """
    from monitor.config import WatchlistError, load_watchlist

    path = file or make_settings(ctx, data_dir=data_dir, channels=channels).channels_file
    try:
        watchlist = load_watchlist(path)
    except WatchlistError as exc:
        for problem in exc.problems:
            err_console.print(escape(str(problem)), soft_wrap=True)
        one = len(exc.problems) == 1
        err_console.print(
            f"[bold red]{len(exc.problems)} {'problem' if one else 'problems'}[/] in "
            f"{escape(str(path))}; fix {'it' if one else 'them'} and check again",
            soft_wrap=True,
        )
        raise typer.Exit(1) from None
    except ConfigError as exc:  # unreadable file: one line, same exit code as a bad file
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/] {escape(exc.hint)}", soft_wrap=True)
        raise typer.Exit(1) from None
    summary = watchlist.summary()
    if as_json:
        routes = [{"name": r.name, "urls": r.masked_urls()} for r in watchlist.routes]
        _print_json({"file": str(path), **summary, "routes_detail": routes})
        return
    console.print(
        f"{escape(str(path))}: OK — {_summary_line(summary)}",
        soft_wrap=True,
    )
    for included in watchlist.files[1:]:
        console.print(f"  included {escape(str(included))}", soft_wrap=True)
    for route in watchlist.routes:
        console.print(f"  route {escape(route.describe())}", soft_wrap=True)


@channels_app.command("list")
def list_channels(
    ctx: typer.Context,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the watched channels with their effective settings.

    Example: monitor channels list --json
    """
    from monitor.config import format_duration, load_watchlist

    watchlist = load_watchlist(
        make_settings(ctx, data_dir=data_dir, channels=channels).channels_file
    )
    if as_json:
        for channel in watchlist.channels:
            _print_json(
                {
                    "handle": channel.handle,
                    "key": channel.key,
                    "label": channel.label,
                    "poll_every": format_duration(channel.poll_every),
                    "poll_every_seconds": int(channel.poll_every.total_seconds()),
                    "backfill": channel.backfill,
                    "media": list(channel.media),
                    "tags": list(channel.tags),
                    "enabled": channel.enabled,
                }
            )
        return
    _print_table(watchlist)


def _summary_line(summary: dict[str, int]) -> str:
    return (
        f"{summary['channels']} channels ({summary['enabled']} enabled), "
        f"{summary['entities']} entities, {summary['aliases']} aliases, "
        f"{summary['routes']} routes"
    )


def _print_table(watchlist: Watchlist) -> None:
    from monitor.config import format_duration

    table = Table("handle", "label", "poll_every", "tags", "enabled")
    for channel in watchlist.channels:
        table.add_row(
            escape(channel.display),
            escape(channel.label or ""),
            format_duration(channel.poll_every),
            escape(", ".join(channel.tags)),
            "yes" if channel.enabled else "no",
        )
    console.print(table)
    console.print(_summary_line(watchlist.summary()))


def _print_json(obj: object) -> None:
    console.print(
        json.dumps(obj, ensure_ascii=False), markup=False, highlight=False, soft_wrap=True
    )
