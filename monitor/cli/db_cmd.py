"""``monitor db upgrade|current``: apply and inspect the database migrations."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import typer

from monitor.cli.app import DataDirOption, JsonOption, app, console, make_settings, run_async

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from monitor.settings import Settings

db_app = typer.Typer(
    help="Create or migrate the database.\n\nExample: monitor db upgrade", no_args_is_help=True
)
app.add_typer(db_app, name="db")


def _settings(ctx: typer.Context, data_dir: DataDirOption) -> Settings:
    settings = make_settings(ctx, data_dir=data_dir)
    if settings.log_level != "DEBUG" and not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("alembic").setLevel(logging.WARNING)  # we print from -> to ourselves
    return settings


async def _upgrade(url: str) -> tuple[str | None, str | None]:
    from storage.engine import create_engine, current_revision, upgrade

    engine = create_engine(url)
    try:
        before = await current_revision(engine)
        await upgrade(engine)
        await _index_for_search(engine)
        return before, await current_revision(engine)
    finally:
        await engine.dispose()


async def _index_for_search(engine: AsyncEngine) -> None:
    """Index the versions the search index lacks (all of them right after migration 0004)."""
    from monitor.cli.app import err_console
    from monitor.cli.search_support import index_backlog

    indexed = await index_backlog(engine, show_progress=err_console.is_terminal)
    if indexed:
        console.print(f"indexed {indexed} post versions for search")


async def _current(url: str) -> str | None:
    from storage.engine import create_engine, current_revision

    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


@db_app.command("upgrade")
def upgrade_cmd(ctx: typer.Context, data_dir: DataDirOption = None) -> None:
    """Apply every pending migration (creates the database if needed).

    Example: monitor db upgrade --data-dir /srv/monitor
    """
    from monitor.settings import mask_url

    settings = _settings(ctx, data_dir)
    before, after = run_async(_upgrade(settings.database_url))
    where = mask_url(settings.database_url)
    if before == after:
        console.print(f"database {where} already at revision {after} (latest)")
    else:
        console.print(f"database {where} upgraded: {before or 'none'} -> {after}")


@db_app.command("current")
def current_cmd(
    ctx: typer.Context, data_dir: DataDirOption = None, as_json: JsonOption = False
) -> None:
    """Show the database's schema revision and the one this version needs.

    Example: monitor db current --json
    """
    from monitor.settings import mask_url
    from storage.engine import head_revision

    settings = _settings(ctx, data_dir)
    current = run_async(_current(settings.database_url))
    head = head_revision()
    info = {
        "database": mask_url(settings.database_url),
        "current": current,
        "head": head,
        "up_to_date": current == head,
    }
    if as_json:
        console.print(json.dumps(info), soft_wrap=True)
        return
    state = "up to date" if current == head else "out of date: run `monitor db upgrade`"
    console.print(
        f"database {info['database']}: revision {current or 'none'}, "
        f"this version needs {head} ({state})",
        soft_wrap=True,
    )
