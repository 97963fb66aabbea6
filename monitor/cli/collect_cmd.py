"""Collector commands: ``run`` (the daemon), ``collect`` (one pass), ``status`` and ``login``."""

from __future__ import annotations

import functools
import gc
import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperCommand

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
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from datetime import timedelta

    from rich.progress import Progress

    from alerts import DeliveryReport
    from monitor.config import ChannelSpec, Watchlist
    from monitor.pipeline import ChannelReport
    from monitor.settings import Settings

# The daemon's re-check window (monitor.pipeline.RECHECK_WINDOW), spelt as on the command line;
# tests/daemon/test_collect_cli.py holds the two equal.
DEFAULT_RECHECK = "2d"


@app.command("run")
def run(
    ctx: typer.Context,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    worker: Annotated[
        str | None,
        typer.Option(
            "--worker", help="This worker's name (PostgreSQL; default: host name and pid)."
        ),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Collect with this account of `accounts:` only."),
    ] = None,
    no_alerts: Annotated[
        bool,
        typer.Option(
            "--no-alerts",
            help="Queue alerts but leave sending them to `monitor alerts send` "
            "(MONITOR_SEND_ALERTS=false).",
        ),
    ] = False,
    lease: Annotated[
        float,
        typer.Option(
            "--lease",
            envvar="MONITOR_WORKER_LEASE",
            help="Seconds a dead worker's accounts and channels stay leased before others "
            "take them over.",
            min=1.0,
        ),
    ] = 60.0,
) -> None:
    """Run the monitor: poll every enabled channel on its schedule until SIGTERM.

    Edit channels.yaml while it runs: changes apply on save (or `kill -HUP`).

    On PostgreSQL, start several: each worker takes one account and a fair share of the
    channels by leases in the database (see `monitor workers`). SQLite takes one worker.

    Example: MONITOR_TELEGRAM_API_ID=123 MONITOR_TELEGRAM_API_HASH=... monitor run

    Example: monitor run --worker collector-2

    Example: monitor run --worker collector-2 --no-alerts   # with `monitor alerts send`
    """
    from datetime import timedelta

    from monitor.service import run_daemon

    settings = make_settings(
        ctx, data_dir=data_dir, channels=channels, send_alerts=False if no_alerts else None
    )
    _require_telegram(settings)
    summary = run_async(
        run_daemon(settings, worker=worker, account=account, lease=timedelta(seconds=lease))
    )
    console.print(summary.line(), soft_wrap=True)  # one line, whatever the width


class _OptionalValueCommand(TyperCommand):
    """Lets ``--recheck`` stand alone (meaning the default window) or take a WINDOW.

    Typer's parser has no option with an optional value: a bare ``--recheck`` (last, or before
    another option) gets the default window written in before parsing.
    """

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        end = args.index("--") if "--" in args else len(args)
        given = list(args[:end])
        for i in range(len(given) - 1, -1, -1):  # from the end, so inserting shifts nothing
            after = given[i + 1] if i + 1 < len(given) else None
            if given[i] == "--recheck" and (after is None or after.startswith("-")):
                given.insert(i + 1, DEFAULT_RECHECK)
        return super().parse_args(ctx, given + list(args[end:]))


@app.command("collect", cls=_OptionalValueCommand)
def collect(
    ctx: typer.Context,
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", "-c", help="Only this channel (handle as in channels.yaml)."),
    ] = None,
    backfill: Annotated[
        int | None,
        typer.Option(help="On a channel's first pass, collect this many recent posts."),
    ] = None,
    recheck: Annotated[
        str | None,
        typer.Option(
            "--recheck",
            metavar="[WINDOW]",
            help="Also re-check the posts of the last WINDOW (default 2d, as the daemon does): "
            "edits become new versions, deleted posts are marked, views are noted.",
            show_default=False,
        ),
    ] = None,
    alert_timeout: Annotated[
        str,
        typer.Option(
            help="Wait at most this long for the alerts of this run to be delivered; what is "
            "left stays queued for the next run.",
        ),
    ] = "30s",
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Collect every enabled channel once (new posts since the last pass), send the alerts
    queued, and exit. With --recheck, also record edits and deletions of recent posts (cron).

    Example: monitor collect --channel @some_channel --backfill 1000
    """
    with _start_up_without_gc() as started:
        from monitor.config import load_watchlist

        window = _duration("--recheck", recheck) if recheck is not None else None
        timeout = _duration("--alert-timeout", alert_timeout, allow_zero=True)
        settings = make_settings(ctx, data_dir=data_dir, channels=channels)
        _require_telegram(settings)
        watchlist = load_watchlist(settings.channels_file)
        specs = select_channels(watchlist, channel)
        reports, delivery = run_async(
            _collect(
                settings,
                watchlist,
                specs,
                backfill,
                show_progress=not as_json,
                recheck=window,
                alert_timeout=timeout.total_seconds(),
                started=started,
            )
        )
    print_reports(reports, as_json=as_json)
    _print_delivery(delivery, as_json=as_json)
    if any(r.error for r in reports):
        raise typer.Exit(1)


@contextmanager
def _start_up_without_gc() -> Iterator[Callable[[], None]]:
    """No cyclic garbage collection while the command starts: importing Telethon, SQLAlchemy
    and pydantic creates hundreds of thousands of long-lived objects, none of them garbage, yet
    each full collection walks them all (about 15% of start-up's CPU).

    Yields ``started``, to call once start-up is over (modules, watchlist, client and language
    model loaded): what exists then moves to the collector's permanent generation, which a full
    collection during the pass no longer walks, and collection resumes for what the pass
    creates. Collection is back on when the block ends, however it ends.
    """
    enabled = gc.isenabled()

    def started() -> None:
        gc.freeze()
        if enabled:
            gc.enable()

    gc.disable()
    try:
        yield started
    finally:
        if enabled:
            gc.enable()


def _duration(option: str, value: str, *, allow_zero: bool = False) -> timedelta:
    from datetime import timedelta

    from monitor.config import parse_duration

    if allow_zero and value.strip() in {"0", "0s"}:
        return timedelta(0)
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise ConfigError(f"{option}: {exc}", hint=f"e.g. {option} 2d, 12h or 90m") from None


def _print_delivery(delivery: DeliveryReport, *, as_json: bool) -> None:
    """One line on the alerts: how many went out, and how many wait (and for what)."""
    if not (delivery.delivered or delivery.remaining or delivery.failed):
        return
    out = err_console if as_json else console  # --json keeps stdout to the channel objects
    line = f"alerts: {delivery.delivered} delivered"
    if delivery.failed:
        line += f", {delivery.failed} failed (see `monitor alerts list --failed`)"
    if delivery.remaining:
        line += (
            f", {delivery.remaining} still queued: the next `monitor collect` or `monitor run` "
            "sends them"
        )
    out.print(line, soft_wrap=True)


def select_channels(watchlist: Watchlist, wanted: list[str] | None) -> list[ChannelSpec]:
    from monitor.config import canonical_handle

    if not wanted:
        return watchlist.enabled_channels()
    by_key = {spec.key: spec for spec in watchlist.channels}
    chosen = []
    for handle in wanted:
        key = canonical_handle(handle)
        if key not in by_key:
            raise ConfigError(
                f"no channel {handle!r} in {watchlist.source}",
                hint="add it to channels.yaml or check `monitor channels list`",
            )
        chosen.append(by_key[key])
    return chosen


async def _collect(
    settings: Settings,
    watchlist: Watchlist,
    specs: list[ChannelSpec],
    backfill: int | None,
    *,
    show_progress: bool,
    recheck: timedelta | None = None,
    alert_timeout: float = 30.0,
    started: Callable[[], None] = lambda: None,
) -> tuple[list[ChannelReport], DeliveryReport]:
    from monitor.service import open_runtime

    reports = []
    async with open_runtime(settings, watchlist=watchlist) as runtime:
        started()
        with _progress(show_progress) as progress:
            for spec in specs:
                total = backfill if backfill is not None else None
                on_progress = None
                if progress is not None:
                    task = progress.add_task(f"@{spec.key}", total=total)
                    on_progress = functools.partial(progress.advance, task)
                report = await runtime.pipeline.collect(
                    runtime.client, spec, backfill=backfill, on_progress=on_progress
                )
                if recheck is not None and report.ok:
                    rechecked = await runtime.pipeline.recheck(runtime.client, spec, window=recheck)
                    report.changed += rechecked.changed
                    report.deleted += rechecked.deleted
                    report.error = report.error or rechecked.error
                    report.parked_until = report.parked_until or rechecked.parked_until
                reports.append(report)
        if runtime.ocr is not None:  # photos being read (OCR) may still flag their posts
            from monitor.photos.reader import FINISH_SECONDS

            await runtime.ocr.finish(FINISH_SECONDS)
        # A cron job's alerts leave before it exits (digests too: this run is the batch),
        # unless a sender of its own delivers them (MONITOR_SEND_ALERTS=false).
        from alerts import DeliveryReport

        delivery = DeliveryReport()
        if settings.send_alerts:
            delivery = await runtime.alerting.worker.drain(alert_timeout)
    return reports, delivery


def _progress(show: bool) -> AbstractContextManager[Progress | None]:
    """A transient progress bar per channel, or nothing (``--json``: rich.progress not loaded)."""
    if not show:
        return nullcontext()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def print_reports(reports: list[ChannelReport], *, as_json: bool) -> None:
    if as_json:
        for r in reports:
            console.print_json(
                json.dumps(
                    {
                        "channel": r.key,
                        "channel_id": r.channel_id,
                        "new": r.new,
                        "changed": r.changed,
                        "deleted": r.deleted,
                        "photos": r.photos,
                        "parked_until": r.parked_until.isoformat() if r.parked_until else None,
                        "error": r.error,
                    }
                ),
                indent=None,
            )
        return
    table = Table("channel", "new posts", "edits", "deletions", "photos", "state")
    for r in reports:
        state = "ok"
        if r.parked_until:
            state = f"flood wait until {r.parked_until:%H:%M:%S} UTC"
        elif r.error:
            state = f"[red]{r.error}[/]"
        table.add_row(f"@{r.key}", str(r.new), str(r.changed), str(r.deleted), str(r.photos), state)
    console.print(table)


@app.command("status")
def status(
    ctx: typer.Context,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Per channel: posts stored, last post, last and next poll, flood wait, errors.

    Example: monitor status --json | jq 'select(.errors > 0)'
    """
    from monitor.status import collect_status, ocr_line, ocr_status
    from storage.reading import run_reading

    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True)
    rows, alerts = run_reading(settings.database_url, lambda db: collect_status(settings, db))
    ocr = run_reading(settings.database_url, lambda db: ocr_status(settings, db))
    if as_json:
        for row in rows:
            on = ocr["on"] and bool(row["ocr"])
            off = None if on or not row["ocr"] else ocr["reason"]
            row = {**row, "ocr_on": on, "ocr_off_reason": off}
            console.print_json(json.dumps(row, default=_iso), indent=None)
        return
    table = Table(
        "channel",
        "posts",
        "last post",
        "last poll",
        "next poll",
        "errors",
        "photos missing",
        "note",
        "worker",
    )
    for row in rows:
        table.add_row(
            f"@{row['channel']}",
            str(row["posts"]),
            _short(row["last_post_at"]),
            _short(row["last_poll_at"]),
            _short(row["next_poll_at"]),
            str(row["errors"]),
            _photos_missing(row),
            row["note"] or "",
            row["worker"] or "",
        )
    console.print(table)
    waiting = alerts["pending"] + alerts["sending"]
    line = f"alerts: {alerts['delivered']} delivered, {waiting} waiting, {alerts['failed']} failed"
    if alerts["failed"]:
        line += " — see `monitor alerts list --failed`, then `monitor alerts retry --all-failed`"
    console.print(line)
    console.print(ocr_line(ocr), soft_wrap=True)


def _photos_missing(row: dict[str, Any]) -> str:
    """E.g. "2, retry 2026-05-01 09:10 UTC; 1 given up" (photos Telegram refused to serve)."""
    parts = []
    if row["photos_missing"]:
        parts.append(f"{row['photos_missing']}, retry {_short(row['next_photo_retry_at'])}")
    if row["photos_given_up"]:
        parts.append(f"{row['photos_given_up']} given up")
    return "; ".join(parts) or "0"


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def _short(value: datetime | None) -> str:
    return "—" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _require_telegram(settings: Settings) -> None:
    if settings.telegram_server or settings.has_telegram_credentials:
        return
    from monitor.telegram import CREDENTIALS_HINT

    raise ConfigError(
        "no Telegram credentials: MONITOR_TELEGRAM_API_ID and MONITOR_TELEGRAM_API_HASH are not set",
        hint=CREDENTIALS_HINT,
    )


@app.command("login")
def login(
    ctx: typer.Context,
    phone: Annotated[str | None, typer.Option(help="Phone number, international format.")] = None,
    data_dir: DataDirOption = None,
    account: Annotated[
        str | None,
        typer.Option("--account", help="Log in this account of channels.yaml's `accounts:`."),
    ] = None,
) -> None:
    """Log in to Telegram once (phone, code, 2FA password) and save the session file (mode 0600).

    Example: monitor login --phone +15551234567

    Example: monitor login --account second --phone +15557654321
    """
    from monitor.telegram import login_interactive, session_path

    settings = make_settings(ctx, data_dir=data_dir)
    if account is not None:
        from monitor.accounts import account_named, account_settings
        from monitor.config import load_watchlist

        spec = account_named(load_watchlist(settings.channels_file), account)
        settings = account_settings(settings, spec)
    _require_telegram(settings)
    name = run_async(login_interactive(settings, phone=phone, account=account or "default"))
    console.print(f"logged in as {name}; session saved to {session_path(settings.session_file)}")
