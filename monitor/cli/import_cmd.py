"""``monitor import desktop PATH``: bring a Telegram Desktop export into the archive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.cli.app import DataDirOption, JsonOption, app, console, make_settings, run_async
from monitor.cli.safe_text import markup_safe

if TYPE_CHECKING:
    from collections.abc import Callable

    from monitor.importers.desktop import ImportReport
    from monitor.settings import Settings

import_app = typer.Typer(
    help="Import Telegram history exported by other tools.\n\n"
    "Example: monitor import desktop ~/Downloads/Telegram\\ Desktop/ChatExport_2024-05-13",
    no_args_is_help=True,
)
app.add_typer(import_app, name="import")


async def _import(
    settings: Settings, path: Path, batch_size: int, progress: Callable[[int], None] | None
) -> ImportReport:
    from monitor.importers.desktop import import_desktop_export
    from monitor.media_url import media_store_for
    from monitor.settings import prepare_data_dir
    from storage import check_schema, create_engine

    prepare_data_dir(settings)
    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        return await import_desktop_export(
            path,
            engine=engine,
            media_store=media_store_for(settings),
            batch_size=batch_size,
            progress=progress,
        )
    finally:
        await engine.dispose()


@import_app.command("desktop")
def desktop(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(help="The export folder, or its result.json (Desktop's JSON format)."),
    ],
    data_dir: DataDirOption = None,
    batch_size: Annotated[
        int, typer.Option("--batch-size", min=1, help="Messages per transaction.")
    ] = 500,
    as_json: JsonOption = False,
) -> None:
    """Import a Telegram Desktop export (one channel, or a whole account's channels).

    Posts, edit dates, forwards, replies and photos are stored as versions marked "imported"
    from the export's file; importing again adds nothing, and a post the monitor collected
    keeps its own versions (the import adds only versions the archive lacks).

    Example: monitor import desktop ./ChatExport_2024-05-13 --json
    """
    from monitor.importers.desktop import locate

    settings = make_settings(ctx, data_dir=data_dir, quiet=True)
    result = locate(path)
    if console.is_terminal and not as_json:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        with Progress(
            TextColumn("reading {task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task(markup_safe(result.name), total=result.stat().st_size)
            report = run_async(_import(settings, path, batch_size, lambda n: bar.advance(task, n)))
    else:
        report = run_async(_import(settings, path, batch_size, None))
    _print(report, as_json)


def _print(report: ImportReport, as_json: bool) -> None:
    for channel in report.channels:
        row = {
            "source": report.source,
            "provenance": "imported",
            "channel_id": channel.channel_id,
            "title": channel.title,
            "new": channel.new,
            "versions_added": channel.versions_added,
            "unchanged": channel.unchanged,
            "photos": channel.photos,
            "photos_missing": channel.photos_missing,
            "skipped": channel.skipped,
        }
        if as_json:
            console.print(json.dumps(row, ensure_ascii=False), soft_wrap=True, markup=False)
            continue
        console.print(
            f"{markup_safe(channel.title or 'untitled')} (channel {channel.channel_id}): "
            f"{channel.new} new posts, {channel.versions_added} versions added to known posts, "
            f"{channel.unchanged} already archived; {channel.photos} photos stored"
            + (f", {channel.photos_missing} not in the export" if channel.photos_missing else "")
            + (f"; {channel.skipped} service messages skipped" if channel.skipped else ""),
            soft_wrap=True,
        )
    if as_json:
        return
    skipped = ", ".join(f"{n} {kind}" for kind, n in sorted(report.skipped_chats.items()))
    if skipped:
        console.print(f"not channels, not imported: {skipped}", soft_wrap=True)
    if not report.channels:
        console.print("no channel in this export", soft_wrap=True)
    console.print(
        f"provenance: imported from {markup_safe(report.source)} (never shown as our capture)",
        soft_wrap=True,
    )
