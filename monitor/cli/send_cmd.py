"""``monitor alerts send``: the alert sender, a process of its own (see monitor.sender)."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.alerts_cmd import alerts_app
from monitor.cli.app import ChannelsOption, DataDirOption, console, make_settings, run_async


@alerts_app.command("send")
def send_cmd(
    ctx: typer.Context,
    once: Annotated[
        bool,
        typer.Option("--once", help="Deliver what is due now, then exit (for cron)."),
    ] = False,
    poll: Annotated[
        float | None,
        typer.Option(
            "--poll",
            min=0.1,
            help="Seconds between passes over the outbox when nothing wakes the sender "
            "(default 1 on SQLite; 30 on PostgreSQL, where queueing wakes it at once).",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Deliver queued alerts until SIGTERM: the sender for workers run with sending off.

    Uses channels.yaml's routes, with the same retries and once-only leases as a worker that
    sends; run several for redundancy. On PostgreSQL it wakes as soon as alerts are queued.

    Example: monitor alerts send
    """
    from monitor.sender import run_sender

    settings = make_settings(ctx, data_dir=data_dir, channels=channels)
    summary = run_async(run_sender(settings, once=once, poll=poll))
    console.print(summary.line(), soft_wrap=True)
