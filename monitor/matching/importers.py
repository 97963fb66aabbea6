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


def _unique(values: Iterable[str], exclude: str) -> list[str]:
    seen = {exclude}
    out = []
    for v in values:
        v = v.strip()
        if v and v not in seen and normalize(v):  # an alias of only punctuation never matches
            seen.add(v)
            out.append(v)
    return out


def entities_from_csv(lines: Iterable[str], *, source: str = "CSV") -> list[dict[str, Any]]:
    """Rows ``id,name,kind,aliases`` with a header; aliases separated by ``;``."""
    reader = csv.DictReader(lines)
    missing = [c for c in ("id", "name") if c not in (reader.fieldnames or [])]
    if missing:
        raise ConfigError(
            f"{source}: header lacks column(s) {', '.join(missing)}",
            hint=f"the first line must name the columns: {','.join(_CSV_COLUMNS)}",
        )
    entities = []
    seen: set[str] = set()
    for row in reader:
        line = reader.line_num
        name = (row.get("name") or "").strip()
        raw_id = (row.get("id") or "").strip() or name
        entity_id = slugify(raw_id)
        if not name or not entity_id:
            raise ConfigError(f"{source} line {line}: every row needs an id and a name")
        if entity_id in seen:
            raise ConfigError(f"{source} line {line}: duplicate entity id {entity_id!r}")
        seen.add(entity_id)
        aliases = _unique((row.get("aliases") or "").split(";"), exclude=name)
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
        props = record.get("properties") or {}
        names = [n for n in props.get("name") or [] if isinstance(n, str) and n.strip()]
        if not names:
            continue
        entity_id = slugify(str(record.get("id") or names[0]))
        if not entity_id or entity_id in seen:
            continue
        seen.add(entity_id)
        name = names[0].strip()
        others = names[1:] + [v for p in _FTM_ALIAS_PROPS for v in props.get(p) or []]
        aliases = _unique((v for v in others if isinstance(v, str)), exclude=name)
        entities.append({"id": entity_id, "name": name, "kind": kind, "aliases": aliases})
    return entities
