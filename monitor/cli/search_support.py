"""What `monitor search` and `monitor export posts` share: the filter options, turning them into
:class:`storage.search.PostFilters`, and indexing versions the search index has not seen yet.

Imports only Typer and Rich at the top (start-up speed); the rest loads inside the functions.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from monitor.cli.app import err_console
from monitor.cli.safe_text import markup_safe
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

    from monitor.settings import Settings
    from storage.search import PostFilters

T = TypeVar("T")

ChannelFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--channel",
        "-c",
        help="Only this channel: @name, id, t.me link, or a tag from channels.yaml (repeatable).",
        show_default=False,
    ),
]
EntityFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--entity",
        "-e",
        help="Only posts flagged for this entity id (repeatable).",
        show_default=False,
    ),
]
LanguageFilter = Annotated[
    list[str] | None,
    typer.Option(
        "--language",
        "-l",
        help="Only posts in this language (ar, fa, en...; repeatable).",
        show_default=False,
    ),
]
SinceFilter = Annotated[
    str | None,
    typer.Option(
        help="Posted since a date/time or for a duration (2024-05-01, 7d, 24h).", show_default=False
    ),
]
UntilFilter = Annotated[
    str | None,
    typer.Option(
        help="Posted until a date/time (a date: to its end) or a duration ago.", show_default=False
    ),
]
PhotoFilter = Annotated[
    bool | None,
    typer.Option(
        "--has-photo/--no-photo", help="Only posts with (without) a photo.", show_default=False
    ),
]
DeletedFilter = Annotated[
    bool | None,
    typer.Option(
        "--deleted/--not-deleted",
        help="Only posts deleted (not deleted) at the source.",
        show_default=False,
    ),
]
EditedFilter = Annotated[
    bool | None,
    typer.Option(
        "--edited/--not-edited", help="Only posts edited (never edited).", show_default=False
    ),
]


@dataclass(frozen=True)
class FilterOptions:
    """The filter options as typed on the command line, before they are resolved."""

    channel: ChannelFilter = None
    entity: EntityFilter = None
    language: LanguageFilter = None
    since: SinceFilter = None
    until: UntilFilter = None
    has_photo: PhotoFilter = None
    deleted: DeletedFilter = None
    edited: EditedFilter = None


NO_FILTERS = FilterOptions()


def filter_options(command: Callable[..., T]) -> Callable[..., T]:
    """Give a Typer command the archive filter options (``--channel`` ... ``--edited``) in place
    of its ``raw_filters: FilterOptions`` parameter, and hand them to it as one
    :class:`FilterOptions`. Typer reads the options from the wrapper's signature."""
    hints = inspect.get_annotations(FilterOptions, eval_str=True)
    options = [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=hints[f.name]
        )
        for f in fields(FilterOptions)
    ]
    signature = inspect.signature(command, eval_str=True)
    parameters: list[inspect.Parameter] = []
    for parameter in signature.parameters.values():
        if parameter.name == "raw_filters":
            parameters += options
        else:
            parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> T:
        given = {option.name: kwargs.pop(option.name) for option in options}
        return command(raw_filters=FilterOptions(**given), **kwargs)

    wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return wrapper


def channel_keys(values: list[str], channels_file: object) -> tuple[str, ...]:
    """Channel handles (canonical: username or numeric id) for ``--channel`` values; a value
    that is a tag in channels.yaml stands for every channel carrying it."""
    from pathlib import Path

    from monitor.config import canonical_handle

    tagged: dict[str, list[str]] = {}
    path = Path(str(channels_file))
    if path.exists():
        from monitor.config import load_watchlist

        for spec in load_watchlist(path).channels:
            for tag in spec.tags:
                tagged.setdefault(tag, []).append(spec.key)
    keys: list[str] = []
    for value in values:
        if value in tagged:
            keys += tagged[value]
            continue
        try:
            keys.append(canonical_handle(value))
        except ValueError as exc:
            known = ", ".join(sorted(tagged)) or f"none: {path} not found"
            raise ConfigError(
                f"--channel {markup_safe(repr(value))} is neither a channel nor a tag ({exc})",
                hint=f"give @name, a channel id or link, or a tag (tags: {markup_safe(known)})",
            ) from None
    return tuple(dict.fromkeys(keys))


def post_filters(settings: Settings, options: FilterOptions) -> PostFilters:
    from monitor.cli.flags_cmd import parse_since, parse_until
    from storage.search import PostFilters

    after: datetime | None = parse_since(options.since, "--since")
    before: datetime | None = parse_until(options.until, "--until")
    return PostFilters(
        channels=channel_keys(options.channel, settings.channels_file) if options.channel else (),
        entities=tuple(options.entity or ()),
        languages=tuple(lang.lower() for lang in options.language or ()),
        since=after,
        until=before,
        has_photo=options.has_photo,
        deleted=options.deleted,
        edited=options.edited,
    )


async def index_backlog(engine: AsyncEngine, *, show_progress: bool) -> int:
    """Index the versions waiting in ``search_pending`` (after migration 0004, or stored by a
    path that gave no normaliser), with a progress bar when ``show_progress``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from monitor.search.text import index_text
    from storage.search_index import count_pending, index_pending

    async with engine.connect() as conn:
        waiting = await count_pending(conn=conn)
    if not waiting:
        return 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not show_progress,
        transient=True,
    ) as progress:
        task = progress.add_task("indexing posts for search", total=waiting)
        done = 0
        while True:  # a transaction per 20,000 versions: writers wait for one, not for all
            async with engine.begin() as conn:
                indexed = await index_pending(
                    index_text,
                    conn=conn,
                    progress=lambda n: progress.advance(task, n),
                    limit=20_000,
                )
            done += indexed
            if not indexed:
                return done


async def with_index(settings: Settings, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``work`` on a connection to an up-to-date archive whose search index is complete."""
    from storage import check_schema, create_engine

    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        await index_backlog(engine, show_progress=err_console.is_terminal)
        async with engine.connect() as conn:
            return await work(conn)
    finally:
        await engine.dispose()
