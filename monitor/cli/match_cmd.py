"""``monitor match`` (try a watchlist on sample posts) and ``monitor entities import``."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from monitor.cli.app import JsonOption, app, console, make_settings
from monitor.errors import ConfigError, MonitorError

entities_app = typer.Typer(
    help="Manage the watchlist's entities.\n\nExample: monitor entities import sanctions.csv",
    no_args_is_help=True,
)
app.add_typer(entities_app, name="entities")


class ImportFormat(StrEnum):
    csv = "csv"
    ftm = "ftm"


@app.command("match")
def match(
    watchlist: Annotated[
        str,
        typer.Option(
            "--watchlist",
            metavar="<path>",
            help="channels.yaml, or any YAML file with an `entities:` list.",
        ),
    ],
    ctx: typer.Context,
    as_json: JsonOption = False,
) -> None:
    """Match posts read from stdin as JSON lines {"id": ..., "text": ...} against a watchlist.

    Prints one line per match: post id, entity, alias, rule and the matched span (start and
    end are offsets in the original text). A line that is not such an object (bad JSON or
    UTF-8, a lone surrogate, NaN) stops the run with an error naming it, after printing the
    matches before it. Try it: echo '{"id": 1, "text": "وقيس الخزعلي قال"}'
    | monitor match --watchlist channels.yaml

    Example: monitor match --watchlist channels.yaml --json < posts.jsonl
    """
    from monitor.config.watchcache import matcher_for_file  # config owns YAML and the cache

    settings = make_settings(ctx, quiet=True)
    # The compiled matcher is cached in the data directory, if there is one (never created here).
    cache_dir = settings.data_dir / "cache" if settings.data_dir.is_dir() else None
    matcher = matcher_for_file(Path(watchlist), cache_dir)
    out: list[str] = []
    batch = 1 if sys.stdin.isatty() else _BATCH  # typed by hand: answer each post at once
    try:
        for number, line in enumerate(_stdin_lines(), start=1):
            if not line.strip():
                continue
            post_id, text = _parse_post(line, number)
            for m in matcher.match(text):
                if as_json:
                    row = {
                        "id": post_id,
                        "entity": m.entity_id,
                        "alias": m.alias,
                        "rule": m.rule,
                        "start": m.start,
                        "end": m.end,
                        "matched": m.matched,
                    }
                    out.append(json.dumps(row, ensure_ascii=False))
                else:
                    out.append(
                        f"{escape(str(post_id))}\t{escape(m.entity_id)}\t{m.rule}\t"
                        f"{m.start}-{m.end}\t{escape(m.matched)!r}\t(alias {escape(m.alias)!r})"
                    )
            if len(out) >= batch:  # written in batches: a write per match took most of the time
                _emit(out, as_json)
    finally:  # what matched before a bad line is still printed
        _emit(out, as_json)


_BATCH = 1000


def _emit(lines: list[str], as_json: bool) -> None:
    if not lines:
        return
    if as_json:
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()
    else:
        console.print("\n".join(lines), soft_wrap=True)
    lines.clear()


_LINE_HINT = 'each line must be an object like {"id": 1, "text": "..."}'
_SURROGATE = re.compile("[\ud800-\udfff]")


def _stdin_lines() -> Iterator[str | bytes]:
    """stdin's lines as bytes when it has them (so bad UTF-8 is one line's error), else text."""
    buffer = getattr(sys.stdin, "buffer", None)
    return iter(buffer) if buffer is not None else iter(sys.stdin)


def _no_constant(name: str) -> Any:
    raise ValueError(name)


# One decoder for every line (json.loads with an option builds a new one per call).
_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _parse_post(raw: str | bytes, number: int) -> tuple[Any, str]:
    """One line's (id, text); a bad line is a :class:`MonitorError` naming it (the run stops)."""
    where = f"stdin line {number}"
    try:
        line = (
            raw.decode("utf-8-sig" if number == 1 else "utf-8") if isinstance(raw, bytes) else raw
        )
    except UnicodeDecodeError as exc:
        raise MonitorError(
            f"{where}: not UTF-8 text (byte {exc.start + 1})", hint="save the posts as UTF-8"
        ) from None
    try:
        if line.startswith("\ufeff"):  # as json.loads says of a BOM
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
        post = _DECODER.decode(line)
    except json.JSONDecodeError as exc:
        raise MonitorError(
            f"{where}: not valid JSON ({exc.msg} at column {exc.colno})", hint=_LINE_HINT
        ) from None
    except ValueError as exc:  # NaN, Infinity: not JSON, and they would make invalid output
        raise MonitorError(
            f"{where}: {exc} is not a JSON value", hint="write the id as a number or a string"
        ) from None
    except RecursionError:
        raise MonitorError(f"{where}: JSON nested too deeply", hint=_LINE_HINT) from None
    if not isinstance(post, dict) or not isinstance(post.get("text"), str):
        raise MonitorError(f'{where}: expected an object with a string "text"', hint=_LINE_HINT)
    post_id, text = post.get("id", number), post["text"]
    if isinstance(raw, bytes) and "\\u" not in line:  # then only an escape makes a surrogate
        return post_id, text
    for what, value in (("text", text), ("id", post_id)):
        found = _SURROGATE.search(value) if isinstance(value, str) else None
        if found:
            raise MonitorError(
                f"{where}: the {what} holds a lone surrogate (\\u{ord(found.group()):04x} at "
                f"character {found.start() + 1}), which is not text",
                hint="write the character itself, or escape it as a surrogate pair",
            )
    return post_id, text


@entities_app.command("import")
def import_entities(
    source: Annotated[Path, typer.Argument(help="CSV (id,name,kind,aliases) or FtM JSON lines.")],
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="Entities file to write (include it from channels.yaml).")
    ] = Path("entities/imported.yaml"),
    fmt: Annotated[
        ImportFormat | None,
        typer.Option("--format", help="csv or ftm (default: from the file extension)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the --out file if it exists.")
    ] = False,
) -> None:
    """Import a large watchlist from CSV (aliases separated by ';') or from FollowTheMoney /
    OpenSanctions JSON lines (Person and Organization names and aliases).

    Example: monitor entities import targets.ftm.json --format ftm --out entities/sanctions.yaml
    """
    from ruamel.yaml import YAML

    from monitor.config.loader import is_included
    from monitor.matching.importers import entities_from_csv, entities_from_ftm

    if out.exists() and not force:
        raise ConfigError(
            f"{out} already exists (an earlier import?); nothing was written",
            hint="pass --force to replace it, or --out another file",
        )
    if fmt is None:
        fmt = ImportFormat.csv if source.suffix.lower() in (".csv", ".tsv") else ImportFormat.ftm
    try:
        with source.open(encoding="utf-8-sig", newline="") as fh:
            if fmt is ImportFormat.csv:
                entities = entities_from_csv(fh, source=str(source))
            else:
                entities = entities_from_ftm(fh, source=str(source))
    except OSError as exc:
        raise ConfigError(f"cannot read {source}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{source}: not UTF-8 text") from None
    if not entities:
        raise ConfigError(f"{source}: no entities found", hint="check --format")
    out.parent.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.default_flow_style = False
    yaml.allow_unicode = True
    with out.open("w", encoding="utf-8") as fh:
        fh.write(f"# Imported from {source.name} by `monitor entities import`.\n")
        yaml.dump({"entities": entities}, fh)
    n_aliases = sum(len(e["aliases"]) + 1 for e in entities)
    console.print(f"wrote {len(entities)} entities ({n_aliases} names) to {escape(str(out))}")
    channels = make_settings(ctx, quiet=True).channels_file
    if not is_included(channels, out):
        pattern = os.path.relpath(out.resolve(), channels.resolve().parent)
        where = f"to {channels}" if channels.is_file() else f"to a new {channels}"
        console.print(
            escape(
                f"not used yet: add `include: [{Path(pattern).as_posix()}]` {where} "
                "(or add the file to its include: list), then run `monitor channels check`"
            ),
            soft_wrap=True,
        )
