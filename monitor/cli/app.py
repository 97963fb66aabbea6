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
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, cast

import typer
from typer.core import TyperGroup

from alerts.errors import AlertError
from monitor.errors import MonitorError
from storage.errors import StorageError

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.settings import Settings


def _skip_coercing_plain_defaults() -> None:
    """Spare Typer a pydantic adapter per option that the command line did not set.

    Typer 0.2x coerces every parameter's value through a pydantic ``TypeAdapter`` it builds on
    first use, even an option left at ``None`` or at a plain default such as ``limit=100``: that
    imports pydantic and builds a dozen adapters (about 0.1 s) for a command given no option.
    Those values come out of the adapter unchanged (``None`` stays ``None``, or ``()`` for an
    option taking several values, before the adapter is used; an ``int``, ``str`` or ``float``
    validated as itself, with no bounds or parser, is itself), so they skip it; the
    adapter is built when a value needs it: anything the user typed, bounds, parsers, paths and
    every other type. Required checks and callbacks run as before. tests/test_cli_startup.py
    checks that a command given no option loads no pydantic, tests/test_cli_options.py that
    options keep their meaning. A Typer without this mechanism is left alone.
    """
    try:
        from typer.core import _TyperParameter
    except ImportError:
        return
    if not hasattr(_TyperParameter, "get_runtime_param"):
        return

    class LazyRuntimeParam:
        def __init__(self, descriptor: Any) -> None:
            self.descriptor = descriptor
            self.built: Any = None

        def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
            several = param.multiple or param.nargs == -1
            if value is None:  # what Typer's coercion answers before it uses the adapter
                return () if several else None
            if not several and self.unchanged(value):
                return value
            if self.built is None:
                from typer._coercion import build_runtime_param

                self.built = build_runtime_param(self.descriptor)
            return self.built.coerce(value, param=param, ctx=ctx)

        def unchanged(self, value: Any) -> bool:
            kind = self.descriptor.annotation
            info = self.descriptor.parameter_info
            return (
                type(value) is kind
                and kind in (int, str, float)
                and getattr(info, "parser", None) is None
                and getattr(info, "min", None) is None
                and getattr(info, "max", None) is None
            )

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            self._runtime_param = LazyRuntimeParam(self.type_descriptor)
        return self._runtime_param

    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]


_skip_coercing_plain_defaults()


class _LazyConsole:
    """A Rich console made on first use: a command that prints only JSON or plain lines
    (``monitor match --json``) never loads ``rich.console`` (about 40 ms)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    def _made(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self._made(), name)

    # Special methods are looked up on the type, not through __getattr__: Rich's Live and
    # Progress enter the console they are given (``with console:``).
    def __enter__(self) -> Console:
        return self._made().__enter__()

    def __exit__(self, *exc: object) -> None:
        self._made().__exit__(*exc)  # type: ignore[arg-type]


console = cast("Console", _LazyConsole(highlight=False))
err_console = cast("Console", _LazyConsole(stderr=True, highlight=False))

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
