"""``monitor workers``: the collector workers sharing this database."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

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
    channels_live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="One row per channel instead: live (joined, by which account), joining, or polled "
            "only.",
        ),
    ] = False,
) -> None:
    """List the collector workers: account, channels held, heartbeat age, lag behind schedule.

    Workers share channels by leases in PostgreSQL (`monitor run --worker NAME`).

    Example: monitor workers --json | jq '{name, account, n: (.channels | length)}'

    `--live` lists the channels instead: live (joined by an account, new messages pushed),
    joining (claimed, the join not confirmed yet) or polled only (every account at its
    `join_limit`).
    """
    from monitor.workers_status import collect_live, collect_workers

    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True)
    if channels_live:
        _print_live(run_async(collect_live(settings)), as_json=as_json)
        return
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


def _print_live(rows: list[dict[str, Any]], *, as_json: bool) -> None:
    if as_json:
        for row in rows:
            console.print_json(json.dumps(row, default=_iso), indent=None)
        return
    table = Table("channel", "updates", "joined by")
    for row in rows:
        table.add_row(
            row["channel"],
            "live" if row["live"] else "joining" if row["joining"] else "polled only",
            row["account"] or "—",
        )
    console.print(table)
    live = sum(row["live"] for row in rows)
    joining = sum(row["joining"] for row in rows)
    also = f", {joining} joining" if joining else ""
    console.print(f"{live} live{also}, {len(rows) - live - joining} polled only")


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(type(value).__name__)
