"""Watchlist import: entities from CSV or FollowTheMoney (OpenSanctions) JSON lines.

Pure: functions take the file's lines and return plain entity dicts (``id``, ``name``, ``kind``,
``aliases``) ready to be written as an ``entities:`` list that channels.yaml can include.
"""

from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from monitor.errors import ConfigError
from monitor.matching.normalize import normalize

__all__ = ["FTM_KINDS", "KINDS", "entities_from_csv", "entities_from_ftm", "slugify"]

#: FollowTheMoney schemata we import, and the watchlist kind each becomes.
FTM_KINDS = {
    "Person": "person",
    "Organization": "organization",
    "Company": "organization",
    "LegalEntity": "organization",
    "PublicBody": "organization",
}
_FTM_ALIAS_PROPS = ("alias", "weakAlias", "previousName")
_CSV_COLUMNS = ("id", "name", "kind", "aliases")
#: The kinds channels.yaml accepts.
KINDS = ("person", "organization", "place", "other")


def slugify(value: str) -> str:
    """``NK-3bDZ…`` -> ``nk-3bdz…``: lower-case ASCII letters, digits and single hyphens."""
    ascii_text = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug


#: Largest CSV field read (the csv module's default, 128 KiB, refuses a long aliases column).
CSV_FIELD_LIMIT = 16 * 1024 * 1024


def too_short(alias: str) -> bool:
    """Whether ``alias`` is too short to match safely: under 2 characters once normalised
    (``a``, ``'A.'``), so it would flag every post with that letter as a word."""
    return len(normalize(alias).strip()) < 2


def _unique(values: Iterable[str], exclude: str, *, where: str, entity_id: str) -> list[str]:
    seen = {exclude}
    out = []
    for v in values:
        v = v.strip()
        if not v or v in seen or not normalize(v).strip():
            continue  # an alias of only punctuation never matches
        if too_short(v):
            raise ConfigError(
                f"{where}: alias {v!r} of entity {entity_id!r} is too short to match safely "
                "(it would flag any post with that letter as a word)",
                hint="remove it from the source, or write a longer form",
            )
        seen.add(v)
        out.append(v)
    return out


def _texts(value: Any) -> list[str]:
    """An FtM property's values: a list of strings, or one string (never split into letters)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def entities_from_csv(lines: Iterable[str], *, source: str = "CSV") -> list[dict[str, Any]]:
    """Rows ``id,name,kind,aliases`` with a header; aliases separated by ``;``."""
    limit = csv.field_size_limit()
    csv.field_size_limit(max(limit, CSV_FIELD_LIMIT))
    try:
        return _csv_rows(lines, source)
    finally:
        csv.field_size_limit(limit)


def _csv_rows(lines: Iterable[str], source: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(lines, strict=True)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise _csv_error(source, 1, exc) from None
    missing = [c for c in ("id", "name") if c not in (fieldnames or [])]
    if missing:
        raise ConfigError(
            f"{source}: header lacks column(s) {', '.join(missing)}",
            hint=f"the first line must name the columns: {','.join(_CSV_COLUMNS)}",
        )
    entities = []
    seen: set[str] = set()
    rows = iter(reader)
    while True:
        start = reader.line_num + 1  # where the next row begins
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _csv_error(source, start, exc) from None
        line = reader.line_num
        if line != start and any("\n" in v or "\r" in v for v in row.values() if v):
            raise ConfigError(
                f"{source} line {start}: a quoted field runs on to line {line}, so the rows in "
                "between are read as one value",
                hint=f'close the quote on line {start} (write a literal quote as "")',
            )
        name = (row.get("name") or "").strip()
        raw_id = (row.get("id") or "").strip() or name
        entity_id = slugify(raw_id)
        if not name or not entity_id:
            raise ConfigError(f"{source} line {line}: every row needs an id and a name")
        if entity_id in seen:
            raise ConfigError(f"{source} line {line}: duplicate entity id {entity_id!r}")
        if too_short(name):
            raise ConfigError(
                f"{source} line {line}: name {name!r} of entity {entity_id!r} is too short to "
                "match safely",
                hint="give the entity a longer name",
            )
        seen.add(entity_id)
        aliases = _unique(
            (row.get("aliases") or "").split(";"),
            exclude=name,
            where=f"{source} line {line}",
            entity_id=entity_id,
        )
        entity: dict[str, Any] = {"id": entity_id, "name": name}
        kind = (row.get("kind") or "").strip().lower()
        if kind and kind not in KINDS:
            raise ConfigError(
                f"{source} line {line}: unknown kind {kind!r}",
                hint=f"use one of {', '.join(KINDS)}",
            )
        if kind:
            entity["kind"] = kind
        entity["aliases"] = aliases
        entities.append(entity)
    return entities


def _csv_error(source: str, line: int, exc: csv.Error) -> ConfigError:
    if "unexpected end of data" in str(exc):
        return ConfigError(
            f"{source} line {line}: a quote opened in this row is never closed, so every row "
            "after it would be lost",
            hint='close the quote (write a literal quote as "")',
        )
    return ConfigError(f"{source} line {line}: not valid CSV ({exc})", hint="check the quoting")


def entities_from_ftm(lines: Iterable[str], *, source: str = "JSON lines") -> list[dict[str, Any]]:
    """Person and Organization (and Company, LegalEntity, PublicBody) entities; others skipped."""
    entities = []
    seen: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source} line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ConfigError(f"{source} line {number}: expected a JSON object")
        kind = FTM_KINDS.get(str(record.get("schema", "")))
        if kind is None:
            continue
        props = record.get("properties")
        props = {} if props is None else props
        if not isinstance(props, dict):
            raise ConfigError(
                f"{source} line {number}: `properties` must be an object",
                hint='FollowTheMoney writes "properties": {"name": ["..."], "alias": ["..."]}',
            )
        names = [n for n in _texts(props.get("name")) if n.strip()]
        if not names:
            continue
        entity_id = slugify(str(record.get("id") or names[0]))
        if not entity_id or entity_id in seen:
            continue
        seen.add(entity_id)
        name = names[0].strip()
        if too_short(name):
            raise ConfigError(
                f"{source} line {number}: name {name!r} of entity {entity_id!r} is too short to "
                "match safely",
                hint="remove the entity from the source, or give it a longer name",
            )
        others = names[1:] + [v for p in _FTM_ALIAS_PROPS for v in _texts(props.get(p))]
        aliases = _unique(
            others, exclude=name, where=f"{source} line {number}", entity_id=entity_id
        )
        entities.append({"id": entity_id, "name": name, "kind": kind, "aliases": aliases})
    return entities
