"""``monitor verify [BUNDLE.zip]``: check the archive against its capture log, or an evidence
bundle on its own."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from monitor.cli.app import DataDirOption, JsonOption, app, console, make_settings, run_async
from monitor.cli.safe_text import inert

if TYPE_CHECKING:
    from monitor.settings import Settings
    from storage.capture_verify import VerifyReport


@app.command("verify")
def verify(
    ctx: typer.Context,
    bundle: Annotated[
        Path | None,
        typer.Argument(
            help="An evidence bundle (.zip) to check on its own, without the database.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check the archive, or an evidence bundle, against the capture log.

    Recomputes the capture log's hash chain, every post version and every media file's SHA-256,
    and names each post or file that no longer matches (exit 1). With a bundle, checks each file
    of the bundle against its manifest and capture-log entries instead, without the database.

    Example: monitor verify
    Example: monitor verify evidence/khazali_media_sim_125.zip --json
    """
    if bundle is not None:
        _verify_bundle(bundle, as_json=as_json)
        return
    settings = make_settings(ctx, data_dir=data_dir, quiet=True)
    report = run_async(_verify_archive(settings, show_progress=console.is_terminal and not as_json))
    if as_json:
        summary = {
            "ok": report.ok,
            "entries": report.entries,
            "versions": report.versions,
            "media_files": report.media_files,
            "head": report.head,
            "mismatches": [m.as_dict() for m in report.mismatches],
        }
        console.out(json.dumps(summary, ensure_ascii=False), highlight=False)
    else:
        for mismatch in report.mismatches:
            console.print(
                Text(inert(f"MISMATCH {mismatch.subject}: {mismatch.problem}")), soft_wrap=True
            )
        counts = (
            f"{report.entries} capture-log entries ({report.versions} post versions, "
            f"{report.media_files} media files)"
        )
        if report.ok:
            console.print(
                f"OK: {counts} match the archive; chain head {report.head}", soft_wrap=True
            )
        else:
            console.print(
                f"FAILED: {_mismatches(len(report.mismatches))} in {counts}", soft_wrap=True
            )
    if not report.ok:
        raise typer.Exit(1)


async def _verify_archive(settings: Settings, *, show_progress: bool) -> VerifyReport:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from monitor.media_url import media_store_for
    from storage import check_schema, create_engine
    from storage.capture_verify import count_entries, verify_archive

    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        async with engine.connect() as conn:
            total = await count_entries(conn=conn) if show_progress else None
            with Progress(
                TextColumn("verifying"),
                BarColumn(),
                MofNCompleteColumn(),
                console=console,
                disable=not show_progress,
                transient=True,
            ) as progress:
                task = progress.add_task("verify", total=total)
                return await verify_archive(
                    conn=conn,
                    media_store=media_store_for(settings),
                    progress=lambda n: progress.advance(task, n),
                )
    finally:
        await engine.dispose()


def _verify_bundle(path: Path, *, as_json: bool) -> None:
    from monitor.evidence_verify import verify_bundle

    report = verify_bundle(path)
    if as_json:
        console.out(json.dumps(report.as_dict(), ensure_ascii=False), highlight=False)
    else:
        for problem in report.problems:
            console.print(
                Text(inert(f"MISMATCH {problem.name}: {problem.problem}")), soft_wrap=True
            )
        if report.ok:
            console.print(
                Text(
                    inert(
                        f"OK: {path.name}: {report.files} files match the manifest and "
                        f"{report.entries} capture-log entries"
                    )
                ),
                soft_wrap=True,
            )
        else:
            console.print(
                Text(inert(f"FAILED: {path.name}: {_mismatches(len(report.problems))}")),
                soft_wrap=True,
            )
    if not report.ok:
        raise typer.Exit(1)


def _mismatches(count: int) -> str:
    return f"{count} mismatch" + ("" if count == 1 else "es")
