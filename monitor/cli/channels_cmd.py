"""``monitor channels check|list|add|remove|enable|disable``: validate, show and edit the watchlist."""

from __future__ import annotations

import json
from collections.abc import Callable
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
    run_async,
)
from monitor.cli.safe_text import markup_safe
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.config import Watchlist

channels_app = typer.Typer(
    help="Validate, list and edit the watched channels in channels.yaml.\n\n"
    "Example: monitor channels check",
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


# -- editing the watchlist (monitor.config.edit) ------------------------------------------------

HandleArgument = Annotated[
    str, typer.Argument(help="@username, https://t.me/username or a numeric channel id.")
]


def run_edit(edit: Callable[[], object]) -> None:
    """Run one watchlist edit and print what it did; a refusal is printed literally (its
    messages quote the file) with its hint, and exits non-zero."""
    from monitor.config.edit import EditResult

    try:
        result = edit()
    except ConfigError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        if exc.hint:
            err_console.print(f"[yellow]hint:[/] {escape(exc.hint)}", soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    assert isinstance(result, EditResult)
    console.print(escape(result.message), soft_wrap=True)
    if result.changed:
        console.print(
            "a running `monitor run` reloads the watchlist by itself", style="dim", soft_wrap=True
        )


@channels_app.command("add")
def add(
    ctx: typer.Context,
    handle: HandleArgument,
    label: Annotated[str | None, typer.Option("--label", help="What the desk calls it.")] = None,
    tags: Annotated[
        str | None, typer.Option("--tags", help="Comma-separated tags, e.g. militia,iraq.")
    ] = None,
    poll_every: Annotated[
        str | None, typer.Option("--poll-every", help="Override the default, e.g. 2m (min 10s).")
    ] = None,
    disabled: Annotated[
        bool, typer.Option("--disabled", help="Write it with enabled: false.")
    ] = False,
    no_resolve: Annotated[
        bool,
        typer.Option("--no-resolve", help="Do not ask Telegram whether the handle exists."),
    ] = False,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Add a channel to channels.yaml, keeping its comments, order and quoting.

    With a Telegram session (MONITOR_TELEGRAM_SERVER, or credentials and `monitor login`) the
    handle is resolved first and refused if Telegram does not know it; without one, or with
    --no-resolve, it is added unchecked (and says so). The result is validated before it is
    written; a running `monitor run` starts collecting it without a restart.

    Example: monitor channels add @some_channel --label "Media office" --tags militia,iraq
    """
    from monitor.config.edit import add_channel

    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True)
    tag_list = [t.strip() for t in (tags or "").split(",") if t.strip()]
    if no_resolve:
        checked = f"{handle} not checked with Telegram (--no-resolve)"
    else:
        checked = run_async(_resolve(settings, handle))
    err_console.print(markup_safe(checked), soft_wrap=True)  # may quote Telegram's title
    run_edit(
        lambda: add_channel(
            settings.channels_file,
            handle,
            label=label,
            tags=tag_list,
            poll_every=poll_every,
            enabled=not disabled,
        )
    )


async def _resolve(settings: object, handle: str) -> str:
    """How the handle was checked; raises ``CollectorError`` naming a handle Telegram does not
    know. No session configured: not checked."""
    from monitor.collector import resolve_channel
    from monitor.config import canonical_handle, display_handle
    from monitor.settings import Settings
    from monitor.telegram import TelegramUnreachable, open_client, session_path

    assert isinstance(settings, Settings)
    try:
        key = canonical_handle(handle)
    except ValueError as exc:
        raise ConfigError(f"bad handle '{handle}': {exc}") from None
    has_session = bool(settings.telegram_server) or (
        settings.has_telegram_credentials
        and (settings.telegram_session is not None or session_path(settings.session_file).exists())
    )
    if not has_session:
        return (
            f"{display_handle(key)} not checked with Telegram: no session (set "
            "MONITOR_TELEGRAM_API_ID/_HASH and run `monitor login`)"
        )
    try:
        async with open_client(settings) as client:
            resolved = await resolve_channel(client, key)
    except TelegramUnreachable as exc:
        raise TelegramUnreachable(
            f"{exc}; {display_handle(key)} was not added",
            hint="try again when Telegram is reachable, or add it unchecked with --no-resolve",
        ) from None
    title = resolved.record.title
    return f"Telegram knows {display_handle(key)}: {title!r} (id {resolved.peer.channel_id})"


def _edit_command(
    ctx: typer.Context, data_dir: Path | None, channels: Path | None, action: str, handle: str
) -> None:
    from monitor.config import edit

    path = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True).channels_file
    if action == "remove":
        run_edit(lambda: edit.remove_channel(path, handle))
    else:
        run_edit(lambda: edit.set_channel_enabled(path, handle, action == "enable"))


@channels_app.command("remove")
def remove(
    ctx: typer.Context,
    handle: HandleArgument,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Remove a channel from channels.yaml (its archive stays in the database).

    Example: monitor channels remove @some_channel
    """
    _edit_command(ctx, data_dir, channels, "remove", handle)


@channels_app.command("enable")
def enable(
    ctx: typer.Context,
    handle: HandleArgument,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Collect a channel again (enabled: true in channels.yaml).

    Example: monitor channels enable @some_channel
    """
    _edit_command(ctx, data_dir, channels, "enable", handle)


@channels_app.command("disable")
def disable(
    ctx: typer.Context,
    handle: HandleArgument,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Stop collecting a channel but keep it and its archive (enabled: false).

    Example: monitor channels disable @some_channel
    """
    _edit_command(ctx, data_dir, channels, "disable", handle)
