"""The root Typer app, shared options, and the one place errors become exit codes.

Start-up stays light: this module and the command modules import only Typer, Rich and our plain
exception classes at the top. Settings (pydantic), logging (structlog), the database, Telethon,
Apprise... load inside the command that uses them, so ``monitor --help`` answers at once
(tests/test_cli_startup.py holds every command to that).
"""

from __future__ import annotations

import inspect
from collections.abc import Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

from alerts.errors import AlertError
from monitor.errors import MonitorError
from storage.errors import StorageError

if TYPE_CHECKING:
    from monitor.settings import Settings

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

REPORTED_ERRORS = (MonitorError, StorageError, AlertError)

T = TypeVar("T")


@dataclass
class CliState:
    debug: bool = False
    data_dir: Path | None = None  # root options: `monitor --data-dir X <command>`
    channels: Path | None = None


class _ErrorReportingGroup(TyperGroup):
    """Print our own errors as one line plus a hint and exit non-zero; ``--debug`` re-raises."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except REPORTED_ERRORS as exc:
            state = ctx.find_object(CliState)
            if state is not None and state.debug:
                raise
            err_console.print(f"[bold red]error:[/] {exc}", soft_wrap=True)
            if exc.hint:
                err_console.print(f"[yellow]hint:[/] {exc.hint}", soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=_ErrorReportingGroup,
    name="monitor",
    help="Monitor public Telegram channels: archive posts and photos, flag watched entities, "
    "alert the desk.\n\nExample: monitor demo",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    ctx: typer.Context,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Data directory, for every command.", show_default=False),
    ] = None,
    channels: Annotated[
        Path | None,
        typer.Option("--channels", help="Watchlist file, for every command.", show_default=False),
    ] = None,
) -> None:
    ctx.obj = CliState(debug=debug, data_dir=data_dir, channels=channels)


# `monitor export ...`: evidence bundles (monitor/cli/evidence_cmd.py) and other exports.
export_app = typer.Typer(
    help="Export from the archive.\n\nExample: monitor export evidence @name/123 -o post.zip",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


def with_examples(root: typer.Typer) -> None:
    """Append one example per command to the root help, taken from each command's own help.

    Every command's docstring carries an ``Example:`` line; this lists them in ``monitor --help``.
    """
    examples: list[str] = []

    def collect(typer_app: typer.Typer) -> None:
        for command in typer_app.registered_commands:
            doc = inspect.getdoc(command.callback) or ""
            found = [line for line in doc.splitlines() if line.startswith("Example:")]
            if found:
                examples.append(found[0].removeprefix("Example:").strip())
        for group in typer_app.registered_groups:
            if group.typer_instance is not None:
                collect(group.typer_instance)

    collect(root)
    root.info.epilog = "[bold]Examples[/]\n\n" + "\n\n".join(f"  {e}" for e in examples)


DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data directory (default $MONITOR_DATA_DIR or ./data).",
        show_default=False,
    ),
]
ChannelsOption = Annotated[
    Path | None,
    typer.Option(
        "--channels",
        help="Watchlist file (default $MONITOR_CHANNELS_FILE or ./channels.yaml).",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="One JSON object per line.")]


def make_settings(
    ctx: typer.Context | None = None,
    *,
    data_dir: Path | None = None,
    channels: Path | None = None,
    quiet: bool = False,
    **overrides: Any,
) -> Settings:
    """Settings from the environment with this command's options on top; configures logging.

    ``quiet`` keeps logs to warnings (for commands whose printed summary is the point) unless
    ``--debug`` is given.
    """
    from monitor.log import configure_logging_on_demand
    from monitor.settings import load_settings

    state = ctx.find_object(CliState) if ctx is not None else None
    if state is not None:  # an option after the command wins over one before it
        data_dir = data_dir or state.data_dir
        channels = channels or state.channels
    settings = load_settings(data_dir=data_dir, channels_file=channels, **overrides)
    debug = bool(state and state.debug)
    level = "DEBUG" if debug else ("WARNING" if quiet else settings.log_level)
    configure_logging_on_demand(fmt=settings.log_format, level=level)
    return settings


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, with asyncio imported only by the commands that need it."""
    import asyncio

    return asyncio.run(main)
