"""``monitor alerts list|retry``: the alert outbox (what was sent, what is waiting, what failed)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from monitor.cli.app import DataDirOption, JsonOption, app, console, make_settings, run_async
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from monitor.settings import Settings

alerts_app = typer.Typer(
    help="Inspect and retry alerts to the desk.\n\nExample: monitor alerts list --failed",
    no_args_is_help=True,
)
app.add_typer(alerts_app, name="alerts")

T = TypeVar("T")
STATUS_STYLE = {"delivered": "green", "pending": "yellow", "sending": "cyan", "failed": "red"}


async def _with_engine(settings: Settings, work: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    from storage import check_schema, create_engine

    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        return await work(engine)
    finally:
        await engine.dispose()


@alerts_app.command("list")
def list_cmd(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="Only alerts that gave up.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Newest N alerts.")] = 50,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """List queued, delivered and failed alerts, newest first.

    Example: monitor alerts list --failed --json
    """
    from rich.table import Table
    from rich.text import Text

    from alerts import list_outbox

    settings = make_settings(ctx, data_dir=data_dir)
    status = "failed" if failed else None
    entries = run_async(
        _with_engine(settings, lambda engine: list_outbox(engine, status=status, limit=limit))
    )
    if as_json:
        for entry in entries:
            console.out(json.dumps(entry.to_dict(), ensure_ascii=False), highlight=False)
        return
    if not entries:
        console.print("no failed alerts" if failed else "no alerts yet")
        return
    table = Table("id", "route", "kind", "status", "tries", "created (UTC)", "alert", "last error")
    for e in entries:
        table.add_row(
            str(e.id),
            e.route,
            e.kind,
            Text(e.status, style=STATUS_STYLE.get(e.status, "")),
            str(e.attempts),
            f"{e.created_at:%Y-%m-%d %H:%M}",
            Text(e.title),
            Text(e.last_error or "", style="red"),
        )
    console.print(table)


@alerts_app.command("retry")
def retry_cmd(
    ctx: typer.Context,
    alert_id: Annotated[
        int | None, typer.Argument(help="Outbox id from `monitor alerts list`.", show_default=False)
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="Retry every failed alert.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Queue an alert (or every failed one) for delivery again, with a fresh attempt budget.

    The running service sends it within a second or so; `monitor demo` sends it on its next run.

    Example: monitor alerts retry --all-failed
    """
    if (alert_id is None) == (not all_failed):
        raise ConfigError(
            "give either an alert id or --all-failed",
            hint="e.g. monitor alerts retry 12, or monitor alerts retry --all-failed",
        )
    from alerts import retry, retry_all_failed

    settings = make_settings(ctx, data_dir=data_dir)
    if all_failed:
        n = run_async(_with_engine(settings, retry_all_failed))
        console.print(f"queued {n} failed alert{'s' if n != 1 else ''} again")
        return
    assert alert_id is not None
    run_async(_with_engine(settings, lambda engine: retry(engine, alert_id)))
    console.print(f"queued alert {alert_id} again")
