"""``monitor demo``: the whole pipeline on the simulated seed scenario, no Telegram needed."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from monitor.cli.app import ChannelsOption, DataDirOption, app, console, make_settings, run_async
from monitor.cli.collect_cmd import print_reports
from monitor.cli.safe_text import inert, markup_safe

if TYPE_CHECKING:
    from monitor.demo import DemoAlert


@app.command("demo")
def demo(
    ctx: typer.Context,
    serve: Annotated[
        bool, typer.Option("--serve", help="Keep the scenario live and keep monitoring it.")
    ] = False,
    speed: Annotated[
        float,
        typer.Option(help="With --serve: play the scenario's timeline this many times faster."),
    ] = 1.0,
    web_port: Annotated[
        int,
        typer.Option(help="With --serve: the review desk's port on 127.0.0.1 (0: no desk)."),
    ] = 8080,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Collect the simulated `seed` scenario into the data directory, flag and alert it.

    Runs offline against a simulated Telegram that the real Telethon client talks to.

    Example: monitor demo --data-dir /tmp/demo
    """
    from monitor.demo import run_demo, serve_demo

    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=not serve)
    summary = run_async(run_demo(settings))
    print_reports(summary.reports, as_json=False)
    console.print(
        f"Archive in [bold]{settings.data_dir}[/]: {summary.posts} posts, {summary.photos} media "
        f"files ({summary.photo_bytes / 1_048_576:.1f} MiB), {summary.flagged_posts} flagged posts."
    )
    if summary.photos_read:
        console.print(
            f"Text read in {summary.photos_read} photos by Tesseract, "
            f"{summary.ocr_workers} at a time."
        )
    if summary.flags_by_entity:
        table = Table("watched entity", "flags")
        for entity, count in sorted(summary.flags_by_entity.items()):
            table.add_row(entity, str(count))
        console.print(table)
    if summary.sent:
        console.print(alerts_table(summary.sent, console.width))
    console.print(
        f"{summary.alerts} alerts delivered on {len(summary.routes)} routes "
        f"({markup_safe(', '.join(summary.routes))})"
        + (f"; {summary.alerts_left} still queued" if summary.alerts_left else "")
        + ". Full alerts: "
        + f"[bold]{markup_safe(settings.data_dir / 'alerts.jsonl')}[/] (one JSON object a line)"
        + (
            f", and the console route's in [bold]{markup_safe(summary.console_file)}[/]"
            f" (printed live with --serve)"
            if summary.console_file
            else ""
        )
        + ".",
        soft_wrap=True,
    )
    console.print("Next: [bold]monitor flags list[/]  ·  [bold]monitor status[/]")
    if serve:
        console.print("Serving the scenario live; Ctrl-C to stop.")
        if web_port:
            from monitor.cli.web_cmd import serve_beside

            run_async(serve_beside(serve_demo(settings, speed=speed), settings, port=web_port))
        else:
            run_async(serve_demo(settings, speed=speed))


def alerts_table(alerts: list[DemoAlert], width: int) -> Table:
    """One line per alert: channel, post date, route, entities (cut to fit, never wrapped)."""
    from rich import box

    rows = [
        (
            inert(alert.channel),
            f"{alert.posted_at:%Y-%m-%d %H:%M}",
            inert(alert.route) + ("" if alert.status == "delivered" else f" ({alert.status})"),
            inert(", ".join(alert.entities)),
        )
        for alert in alerts
    ]
    headers = ("alert: channel", "posted (UTC)", "route", "entities")
    table = Table(*headers, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for index, column in enumerate(table.columns):
        column.no_wrap = True
        column.overflow = "ellipsis"
        if index < 3:  # these stay whole; the entities take what is left
            column.min_width = max(len(row[index]) for row in [headers, *rows])
    taken = sum(column.min_width or 0 for column in table.columns[:3]) + 3 * 3
    table.columns[3].max_width = max(10, width - taken)
    for row in rows:  # Text cells: names are never read as markup
        table.add_row(*(Text(cell, no_wrap=True, overflow="ellipsis") for cell in row))
    return table
