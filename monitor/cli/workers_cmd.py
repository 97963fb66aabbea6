"""``monitor workers``: the collector workers sharing this database."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import typer
from rich.table import Table

from monitor.cli.app import (
    ChannelsOption,
    DataDirOption,
    JsonOption,
    app,
    console,
    make_settings,
    run_async,
)


@app.command("workers")
def workers(
    ctx: typer.Context,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the collector workers: account, channels held, heartbeat age, lag behind schedule.

    Workers share channels by leases in PostgreSQL (`monitor run --worker NAME`).

    Example: monitor workers --json | jq '{name, account, n: (.channels | length)}'
    """
    from monitor.workers_status import collect_workers

    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True)
    rows = run_async(collect_workers(settings))
    if as_json:
        for row in rows:
            console.print_json(json.dumps(row, default=_iso), indent=None)
        return
    table = Table("worker", "account", "state", "heartbeat", "channels", "lag")
    for row in rows:
        table.add_row(
            row["name"],
            row["account"] or "—",
            row["state"],
            f"{row['heartbeat_age_seconds']:.0f}s ago",
            str(len(row["channels"])),
            f"{row['lag_seconds']:.0f}s",
        )
    console.print(table)
    if not rows:
        console.print("no workers yet: start one with `monitor run` (PostgreSQL)")


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)
