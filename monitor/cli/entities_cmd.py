"""``monitor entities add`` and ``monitor entities alias add|remove``: edit the watchlist's
entities in place (in channels.yaml or the included file that holds the entity)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.cli.app import ChannelsOption, DataDirOption, make_settings
from monitor.cli.channels_cmd import run_edit
from monitor.cli.match_cmd import entities_app

alias_app = typer.Typer(
    help="Add or remove one alias of a watched entity.\n\n"
    'Example: monitor entities alias add qais-al-khazali "Qais al-Khazaali"',
    no_args_is_help=True,
)
entities_app.add_typer(alias_app, name="alias")

EntityIdArgument = Annotated[str, typer.Argument(help="The entity's id, e.g. qais-al-khazali.")]
AliasArgument = Annotated[str, typer.Argument(help="The alias, as it is written in posts.")]


def _watchlist(ctx: typer.Context, data_dir: Path | None, channels: Path | None) -> Path:
    return make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True).channels_file


@entities_app.command("add")
def add(
    ctx: typer.Context,
    entity_id: EntityIdArgument,
    name: Annotated[str, typer.Option("--name", help="Display name (also matched).")],
    kind: Annotated[
        str, typer.Option("--kind", help="person, organization, place or other.")
    ] = "other",
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="An alias (repeat for more).")
    ] = None,
    tags: Annotated[
        str | None, typer.Option("--tags", help="Comma-separated tags, e.g. militia,iraq.")
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            help="An included entities file to write it to (default: the watchlist itself).",
        ),
    ] = None,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Add a watched entity, keeping the file's comments, order and quoting.

    The result is validated (id, kind, aliases) before it is written; an entity id already in
    the watchlist or an included file is refused.

    Example: monitor entities add cui-wei --name "Cui Wei" --kind person --alias "Cui Wei" --alias "كوي وي"
    """
    from monitor.config.edit import add_entity

    tag_list = [t.strip() for t in (tags or "").split(",") if t.strip()]
    path = _watchlist(ctx, data_dir, channels)
    run_edit(
        lambda: add_entity(
            path,
            entity_id,
            name=name,
            kind=kind,
            aliases=alias or [],
            tags=tag_list,
            file=file,
        )
    )


@alias_app.command("add")
def alias_add(
    ctx: typer.Context,
    entity_id: EntityIdArgument,
    alias: AliasArgument,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Add an alias to an entity, in whichever file holds the entity.

    Example: monitor entities alias add qais-al-khazali "Qais al-Khazaali"
    """
    from monitor.config.edit import add_alias

    path = _watchlist(ctx, data_dir, channels)
    run_edit(lambda: add_alias(path, entity_id, alias))


@alias_app.command("remove")
def alias_remove(
    ctx: typer.Context,
    entity_id: EntityIdArgument,
    alias: AliasArgument,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
) -> None:
    """Remove an alias from an entity, in whichever file holds the entity.

    Example: monitor entities alias remove qais-al-khazali "Kais al-Khazali"
    """
    from monitor.config.edit import remove_alias

    path = _watchlist(ctx, data_dir, channels)
    run_edit(lambda: remove_alias(path, entity_id, alias))
