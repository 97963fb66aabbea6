"""``monitor export posts``: write the archive's posts (all, filtered, or matching a search) to
CSV, JSONL or HTML, streamed page by page so memory stays flat at any archive size."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.app import DataDirOption, app, console, err_console, make_settings, run_async
from monitor.cli.safe_text import markup_safe
from monitor.cli.search_support import NO_FILTERS, FilterOptions, filter_options
from monitor.errors import ConfigError

export_app = typer.Typer(
    help=(
        "Export from the archive: posts (CSV, JSONL, HTML) or a post's evidence bundle.\n\n"
        "Example: monitor export posts --format csv -o posts.csv"
    ),
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")


class ExportFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"
    html = "html"


@export_app.command("posts")
@filter_options
def export_posts(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write (replaced when done).")
    ],
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="Only posts matching this search (as monitor search)."),
    ] = None,
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="csv (spreadsheets), jsonl or html.")
    ] = ExportFormat.csv,
    raw_filters: FilterOptions = NO_FILTERS,
    data_dir: DataDirOption = None,
) -> None:
    """Export posts, one per row, in capture order, with their t.me links.

    CSV is UTF-8 with a BOM (spreadsheets read Arabic and Persian right), ISO 8601 UTC dates; a
    cell a spreadsheet would run as a formula (=, +, -, @) starts with an apostrophe. JSONL and
    HTML keep the text exactly; HTML escapes it and lets each post's direction follow its text.

    Example: monitor export posts --channel primary-source --since 2024-05-01 --format csv -o may.csv
    """
    from monitor.cli.export_writers import export
    from monitor.cli.search_support import post_filters, with_index
    from monitor.search import parse_query

    parsed = parse_query(query) if query is not None else None
    if not output.parent.is_dir():
        raise ConfigError(
            f"cannot write {markup_safe(str(output))}: folder "
            f"{markup_safe(str(output.parent))} does not exist",
            hint="create the folder first or choose another path",
        )
    settings = make_settings(ctx, data_dir=data_dir, quiet=True)
    filters = post_filters(settings, raw_filters)
    written = run_async(
        with_index(
            settings,
            lambda conn: export(
                conn,
                parsed,
                filters,
                output=output,
                fmt=fmt.value,
                show_progress=err_console.is_terminal,
            ),
        )
    )
    console.print(f"exported {written} posts to {output}", soft_wrap=True, markup=False)
