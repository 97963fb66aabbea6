"""``monitor photos trace|index``: where a photo was first posted, and hashing the archive's photos."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

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
from monitor.cli.safe_text import inert, markup_safe
from monitor.errors import ConfigError

if TYPE_CHECKING:
    from monitor.settings import Settings

photos_app = typer.Typer(
    help="Photos as evidence: trace a photo to its first post, hash the archive's photos.\n\n"
    "Example: monitor photos trace --reposted",
    no_args_is_help=True,
)
app.add_typer(photos_app, name="photos")

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


@photos_app.command("trace")
def trace(
    ctx: typer.Context,
    target: Annotated[
        str | None,
        typer.Argument(
            help="A photo's SHA-256, or a post: https://t.me/name/123, @name/123 or "
            "<channel id>/<message id> (every photo of the post or its album).",
            show_default=False,
        ),
    ] = None,
    reposted: Annotated[
        bool,
        typer.Option("--reposted", help="List every photo shown by more than one post."),
    ] = False,
    distance: Annotated[
        int,
        typer.Option(
            min=0, max=11, help="Near copies: hashes at most this many bits apart (of 64)."
        ),
    ] = 6,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Where a photo was first posted (by posted_at; capture time breaks ties), and its reposts
    with channel and delay, counting re-encoded, resized and slightly cropped copies.

    Example: monitor photos trace https://t.me/khazali_media_sim/125
    """
    if reposted == (target is not None):
        raise ConfigError(
            "give a photo's SHA-256 or a post reference, or --reposted (not both)",
            hint="monitor photos trace @name/123, or monitor photos trace --reposted",
        )
    from monitor.photos.trace import render_trace, trace_json

    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True)
    traces = run_async(_traces(settings, target, distance))
    if as_json:
        for item in traces:
            console.out(json.dumps(trace_json(item), ensure_ascii=False), highlight=False)
        return
    if not traces:
        err_console.print(
            "no photo shown by more than one post" if reposted else "no archived post shows it"
        )
        return
    console.print(Text(inert("\n\n".join(render_trace(t) for t in traces))), soft_wrap=True)


async def _traces(settings: Settings, target: str | None, distance: int) -> list[Any]:
    from monitor.photos.trace import reposted_photos, trace_photo, trace_post

    async def work(conn: Any) -> list[Any]:
        if target is None:
            return await reposted_photos(conn=conn, distance=distance)
        if _SHA256.fullmatch(target.strip()):
            found = await trace_photo(target.strip().lower(), conn=conn, distance=distance)
            if found is None:
                from storage.citation_queries import NotArchivedError

                raise NotArchivedError(
                    f"no archived post shows a photo with SHA-256 {target.strip().lower()}",
                    hint="`monitor photos trace --reposted` lists traced photos",
                )
            return [found]
        from monitor.cli.cite_cmd import parse_ref

        ref = parse_ref(target, "TARGET")
        return await trace_post(ref.channel, ref.message_id, conn=conn, distance=distance)

    return await _read(settings, work)


@photos_app.command("index")
def index(
    ctx: typer.Context,
    batch: Annotated[int, typer.Option(min=1, help="Photos hashed per transaction.")] = 200,
    data_dir: DataDirOption = None,
    channels: ChannelsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compute the perceptual hash of every archived photo that has none yet (new photos are
    hashed as they are collected). Safe to stop and run again: it goes on where it stopped.

    Example: monitor photos index
    """
    settings = make_settings(ctx, data_dir=data_dir, channels=channels, quiet=True)
    hashed, failed = run_async(_index(settings, batch))
    if as_json:
        console.out(json.dumps({"hashed": hashed, "failed": failed}), highlight=False)
        return
    console.print(
        f"hashed {hashed} photo(s)" + (f"; {len(failed)} could not be read" if failed else "")
    )
    for sha256, problem in failed:
        err_console.print(f"[yellow]skipped[/] {sha256}: {markup_safe(problem)}", soft_wrap=True)


async def _index(settings: Settings, batch: int) -> tuple[int, list[tuple[str, str]]]:
    import asyncio
    from datetime import UTC, datetime

    from monitor.media_url import media_store_for
    from monitor.photos.phash import PhotoHashError, phash
    from storage.engine import check_schema, create_engine
    from storage.errors import StorageError
    from storage.photo_hashes import save_hashes, unhashed_photos

    store = media_store_for(settings)

    def read_and_hash(
        items: list[tuple[str, str, str | None]],
    ) -> tuple[dict[str, int], list[tuple[str, str]]]:
        hashes: dict[str, int] = {}
        failed: list[tuple[str, str]] = []
        for sha256, path, _mime in items:
            try:
                hashes[sha256] = phash(store.read(path), name=f"photo {sha256}")
            except (PhotoHashError, StorageError, OSError) as exc:
                failed.append((sha256, str(exc)))
        return hashes, failed

    engine = create_engine(settings.database_url)
    hashed, failed = 0, list[tuple[str, str]]()
    try:
        await check_schema(engine)
        after = ""
        while True:
            async with engine.connect() as conn:
                items = list(await unhashed_photos(conn=conn, after=after, limit=batch))
            if not items:
                break
            after = items[-1][0]
            hashes, problems = await asyncio.to_thread(read_and_hash, items)
            async with engine.begin() as conn:
                await save_hashes(hashes, conn=conn, at=datetime.now(UTC))
            hashed += len(hashes)
            failed.extend(problems)
    finally:
        await engine.dispose()
    return hashed, failed


async def _read(settings: Settings, work: Any) -> Any:
    from storage import check_schema, create_engine

    engine = create_engine(settings.database_url)
    try:
        await check_schema(engine)
        async with engine.connect() as conn:
            return await work(conn)
    finally:
        await engine.dispose()
