"""``monitor config show``: the effective settings, secrets masked."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from monitor.cli.app import ChannelsOption, DataDirOption, JsonOption, app, console, make_settings

config_app = typer.Typer(
    help="Inspect settings.\n\nExample: monitor config show", no_args_is_help=True
)
app.add_typer(config_app, name="config")


@config_app.command("show")
def show(
    ctx: typer.Context,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Print the effective settings (environment + options), with secrets masked.

    Example: MONITOR_DATA_DIR=/srv/monitor monitor config show --json
    """
    values = make_settings(ctx, data_dir=data_dir, channels=channels).masked()
    if as_json:
        console.print_json(json.dumps(values))
        return
    table = Table("setting", "environment variable", "value")
    for name, value in values.items():
        table.add_row(name, f"MONITOR_{name.upper()}", "(unset)" if value is None else str(value))
    console.print(table)
