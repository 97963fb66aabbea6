"""Edit channels.yaml (or the included file holding an entity) in place, as it was written.

Every edit reads the file with ruamel's round-trip loader (comments, key order and quoting are
kept; a file with nothing changed dumps to the same bytes), changes one entry, validates the
whole watchlist *as it would be* with the normal loader (:func:`load_watchlist` with the new
text in place of the file), and only then writes: a temporary file in the same folder, the
original's mode, ``os.replace``. A refused edit leaves every file untouched. A running monitor
sees the replace through its file watch and reloads. The YAML mechanics (comments that follow
an item, the atomic write) are in :mod:`monitor.config.yamledit`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.config.handles import canonical_handle, display_handle
from monitor.config.loader import WatchlistError, load_watchlist
from monitor.config.messages import did_you_mean
from monitor.config.models import Watchlist
from monitor.config.yamledit import (
    RoundTripDoc,
    append_item,
    delete_item,
    give_trailing,
    take_trailing,
    write_atomically,
)
from monitor.config.yamlpos import Problem
from monitor.errors import ConfigError

__all__ = [
    "EditResult",
    "add_alias",
    "add_channel",
    "add_entity",
    "remove_alias",
    "remove_channel",
    "set_channel_enabled",
]


@dataclass(frozen=True)
class EditResult:
    """What an edit did: the file written (or not, when nothing had to change) and a summary."""

    file: Path
    changed: bool
    message: str
    watchlist: Watchlist | None = None


# -- writing ---------------------------------------------------------------------------------------


def _commit(
    main: Path, doc: RoundTripDoc, message: str, *, check: Callable[[Watchlist], None] | None = None
) -> EditResult:
    """Validate the watchlist with ``doc``'s new text, then write it atomically."""
    text = doc.dump()
    try:
        watchlist = load_watchlist(main, overrides={doc.path: text})
    except WatchlistError as exc:
        raise EditRefused(exc.problems, doc.path) from None
    if check is not None:
        check(watchlist)
    data = text.encode("utf-8")
    if data == doc.original:
        return EditResult(doc.path, False, message, watchlist)
    write_atomically(doc.path, data, doc.original)
    return EditResult(doc.path, True, message, watchlist)


class EditRefused(ConfigError):
    """The edited watchlist would not validate: nothing was written."""

    def __init__(self, problems: Sequence[Problem], file: Path) -> None:
        self.problems = list(problems)
        one = len(self.problems) == 1
        head = "\n".join(str(p) for p in self.problems)
        super().__init__(
            f"{head}\n{'this change' if one else 'these changes'} would make the watchlist "
            f"invalid; {file} is unchanged",
            hint="fix the values given, then run the command again",
        )


# -- channels --------------------------------------------------------------------------------------


def _channel_index(doc: RoundTripDoc, handle: str) -> int | None:
    key = _key(handle)
    for i, item in enumerate(_section(doc, "channels") or []):
        written = item.get("handle") if hasattr(item, "get") else item
        try:
            if written is not None and canonical_handle(written) == key:
                return i
        except ValueError:
            continue
    return None


def _key(handle: str) -> str:
    try:
        return canonical_handle(handle)
    except ValueError as exc:
        raise ConfigError(f"bad handle '{handle}': {exc}") from None


def _section(doc: RoundTripDoc, name: str) -> Any:
    section = doc.root.get(name)
    if section is not None and not hasattr(section, "append"):
        load_watchlist(doc.path)  # reports the problem with its position
        raise ConfigError(f"{doc.path}: `{name}:` must be a list")
    return section


def _new_section(doc: RoundTripDoc, name: str) -> Any:
    from ruamel.yaml.comments import CommentedSeq

    section = _section(doc, name)
    if section is None:
        section = CommentedSeq()
        trailing = take_trailing(doc.root) if name not in doc.root else ""
        doc.root[name] = section
        if trailing:
            give_trailing(doc.root, trailing)
    return section


def _line_of(doc: RoundTripDoc, name: str, index: int) -> str:
    """``channels.yaml:36`` for an item after the edit (positions from the dumped text)."""
    from ruamel.yaml import YAML

    root = YAML(typ="rt").load(doc.dump())
    line = root[name].lc.item(index)[0] + 1
    return f"{doc.path}:{line}"


def add_channel(
    main: Path,
    handle: str,
    *,
    label: str | None = None,
    tags: Sequence[str] = (),
    poll_every: str | None = None,
    enabled: bool = True,
) -> EditResult:
    """Append a channel to ``channels:`` of ``main``; refused if it is already watched."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    key = _key(handle)
    doc = RoundTripDoc(main)
    if (found := _channel_index(doc, handle)) is not None:
        line = doc.root["channels"].lc.item(found)[0] + 1
        raise ConfigError(
            f"channel {display_handle(key)} is already in the watchlist ({main}:{line}); "
            f"{main} is unchanged",
            hint=f"use `monitor channels enable {display_handle(key)}` to collect it again",
        )
    entry = CommentedMap()
    written = handle.strip()
    entry["handle"] = DoubleQuotedScalarString(
        written if written.startswith(("@", "http")) or written.isdigit() else f"@{written}"
    )
    if label is not None:
        entry["label"] = DoubleQuotedScalarString(label)
    if poll_every is not None:
        entry["poll_every"] = poll_every
    if tags:
        flow = CommentedSeq(tags)
        flow.fa.set_flow_style()
        entry["tags"] = flow
    if not enabled:
        entry["enabled"] = False
    channels = _new_section(doc, "channels")
    append_item(channels, entry)
    where = _line_of(doc, "channels", len(channels) - 1)
    state = "" if enabled else " (disabled)"
    return _commit(main, doc, f"added {display_handle(key)}{state} at {where}")


def remove_channel(main: Path, handle: str) -> EditResult:
    """Remove a channel from ``channels:``; its archive stays in the database."""
    doc = RoundTripDoc(main)
    index = _require_channel(doc, main, handle)
    delete_item(doc.root["channels"], index, doc.root, "channels")
    return _commit(main, doc, f"removed {display_handle(_key(handle))} from {main}")


def set_channel_enabled(main: Path, handle: str, enabled: bool) -> EditResult:
    """Set ``enabled:`` of a channel (added after its other keys when missing)."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    doc = RoundTripDoc(main)
    index = _require_channel(doc, main, handle)
    channels = doc.root["channels"]
    item = channels[index]
    shown = display_handle(_key(handle))
    verb = "enabled" if enabled else "disabled"
    if not isinstance(item, CommentedMap):  # the shorthand `- "@name"`: written out in full
        if enabled:
            return EditResult(main, False, f"{shown} is already enabled; {main} is unchanged")
        item = CommentedMap([("handle", DoubleQuotedScalarString(str(item)))])
        channels[index] = item
    current = item.get("enabled", True)
    if bool(current) == enabled:
        return EditResult(main, False, f"{shown} is already {verb}; {main} is unchanged")
    if "enabled" in item:
        item["enabled"] = enabled
    else:
        trailing = take_trailing(item)
        item["enabled"] = enabled
        give_trailing(item, trailing)
    return _commit(main, doc, f"{verb} {shown} in {main}")


def _require_channel(doc: RoundTripDoc, main: Path, handle: str) -> int:
    index = _channel_index(doc, handle)
    if index is None:
        known = [
            display_handle(canonical_handle(item.get("handle") if hasattr(item, "get") else item))
            for item in _section(doc, "channels") or []
            if _valid(item)
        ]
        guess = did_you_mean(display_handle(_key(handle)), known)
        raise ConfigError(
            f"no channel {display_handle(_key(handle))} in {main}"
            + (f"; did you mean {guess}?" if guess else ""),
            hint="`monitor channels list` shows the watched channels",
        )
    return index


def _valid(item: Any) -> bool:
    try:
        canonical_handle(item.get("handle") if hasattr(item, "get") else item)
    except (ValueError, TypeError):
        return False
    return True


# -- entities --------------------------------------------------------------------------------------


def _entity_files(main: Path) -> list[Path]:
    """The watchlist's files, main first: where entities may be written."""
    try:
        return list(load_watchlist(main).files)
    except WatchlistError:
        # A broken watchlist: still edit the main file (the edit is validated anyway).
        return [main]


def _find_entity(main: Path, entity_id: str) -> tuple[RoundTripDoc, int]:
    known: list[str] = []
    for path in _entity_files(main):
        doc = RoundTripDoc(path)
        for i, item in enumerate(_section(doc, "entities") or []):
            written = item.get("id") if hasattr(item, "get") else None
            if isinstance(written, str) and written.strip() == entity_id:
                return doc, i
            if isinstance(written, str):
                known.append(written.strip())
    guess = did_you_mean(entity_id, known)
    raise ConfigError(
        f"no entity '{entity_id}' in {main} or the files it includes"
        + (f"; did you mean '{guess}'?" if guess else ""),
        hint="add it with `monitor entities add`",
    )


def add_entity(
    main: Path,
    entity_id: str,
    *,
    name: str,
    kind: str,
    aliases: Sequence[str] = (),
    tags: Sequence[str] = (),
    file: Path | None = None,
) -> EditResult:
    """Append an entity to ``entities:`` of ``main`` (or of ``file``, one it includes)."""
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    target = main
    if file is not None:
        files = {p.resolve(): p for p in _entity_files(main)}
        if file.resolve() not in files:
            raise ConfigError(
                f"{file} is not {main} nor a file it includes",
                hint="add it to `include:` first, or leave out --file",
            )
        target = files[file.resolve()]
    try:
        doc, index = _find_entity(main, entity_id)
    except ConfigError:
        pass
    else:
        line = doc.root["entities"].lc.item(index)[0] + 1
        raise ConfigError(
            f"entity '{entity_id}' is already in the watchlist ({doc.path}:{line}); "
            "nothing written",
            hint=f"add names with `monitor entities alias add {entity_id} ALIAS`",
        )
    doc = RoundTripDoc(target)
    entry = CommentedMap()
    entry["id"] = entity_id
    entry["name"] = name
    entry["kind"] = kind
    if tags:
        flow = CommentedSeq(tags)
        flow.fa.set_flow_style()
        entry["tags"] = flow
    if aliases:
        entry["aliases"] = CommentedSeq(DoubleQuotedScalarString(a) for a in aliases)
    entities = _new_section(doc, "entities")
    append_item(entities, entry)
    where = _line_of(doc, "entities", len(entities) - 1)
    return _commit(main, doc, f"added entity '{entity_id}' at {where}")


def add_alias(main: Path, entity_id: str, alias: str) -> EditResult:
    """Add ``alias`` to the entity, in whichever file holds it."""
    from ruamel.yaml.comments import CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    doc, index = _find_entity(main, entity_id)
    entity = doc.root["entities"][index]
    aliases = entity.get("aliases")
    if aliases is None:
        aliases = CommentedSeq()
        trailing = take_trailing(entity)
        entity["aliases"] = aliases
        aliases.append(DoubleQuotedScalarString(alias))
        give_trailing(entity, trailing)
    else:
        if not hasattr(aliases, "append"):
            load_watchlist(main)
            raise ConfigError(f"{doc.path}: aliases of '{entity_id}' must be a list")
        if alias.strip() in [str(a).strip() for a in aliases]:
            return EditResult(
                doc.path, False, f"'{entity_id}' already has the alias {alias!r}; nothing written"
            )
        append_item(aliases, DoubleQuotedScalarString(alias))
    return _commit(main, doc, f"added alias {alias!r} to '{entity_id}' in {doc.path}")


def remove_alias(main: Path, entity_id: str, alias: str) -> EditResult:
    """Remove ``alias`` from the entity, in whichever file holds it."""
    doc, index = _find_entity(main, entity_id)
    entity = doc.root["entities"][index]
    aliases = entity.get("aliases") or []
    written = [str(a).strip() for a in aliases]
    if alias.strip() not in written:
        guess = did_you_mean(alias.strip(), written)
        raise ConfigError(
            f"'{entity_id}' has no alias {alias!r}"
            + (f"; did you mean {guess!r}?" if guess else "")
            + f"; {doc.path} is unchanged",
            hint=f"its aliases: {', '.join(written) or 'none'}",
        )
    delete_item(aliases, written.index(alias.strip()), entity, "aliases")
    return _commit(main, doc, f"removed alias {alias!r} from '{entity_id}' in {doc.path}")
