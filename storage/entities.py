"""Watchlist entities mirrored from channels.yaml; every addition, change and removal is audited."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import RowMapping, select, update

from storage.audit_log import audit
from storage.engine import dialect_insert
from storage.models import entity

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["EntitySync", "list_entities", "sync_entities"]

_FIELDS = ("name", "kind", "tags", "aliases")


@dataclass
class EntitySync:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


async def sync_entities(
    entities: Iterable[Sequence[Any]],
    *,
    conn: AsyncConnection,
    actor: str,
    at: datetime | None = None,
) -> EntitySync:
    """Make the ``entity`` table match the watchlist.

    ``entities`` are plain ``(id, name, kind, tags, aliases)`` values. Entities missing from the
    list are kept (flags point at them) but get ``removed_at``; one coming back is re-added.
    """
    now = at or datetime.now(UTC)
    wanted: dict[str, dict[str, Any]] = {}
    for entity_id, name, kind, tags, aliases in entities:
        wanted[entity_id] = {
            "name": name,
            "kind": kind,
            "tags": list(tags),
            "aliases": list(aliases),
        }
    stored = {row.id: row for row in await conn.execute(select(entity))}
    result = EntitySync()
    for entity_id, values in wanted.items():
        row = stored.get(entity_id)
        if row is None or row.removed_at is not None:
            result.added.append(entity_id)
            await audit(
                "entity.added", "entity", entity_id, conn=conn, actor=actor, at=now, details=values
            )
        else:
            before = {name: getattr(row, name) for name in _FIELDS}
            if before == values:
                continue
            result.changed.append(entity_id)
            diff = {
                k: {"from": before[k], "to": values[k]} for k in _FIELDS if before[k] != values[k]
            }
            await audit(
                "entity.changed", "entity", entity_id, conn=conn, actor=actor, at=now, details=diff
            )
        insert = dialect_insert(conn)(entity).values(
            id=entity_id, updated_at=now, removed_at=None, **values
        )
        await conn.execute(
            insert.on_conflict_do_update(
                index_elements=["id"],
                set_={"updated_at": now, "removed_at": None, **values},
            )
        )
    for entity_id, row in stored.items():
        if entity_id in wanted or row.removed_at is not None:
            continue
        result.removed.append(entity_id)
        await conn.execute(
            update(entity).where(entity.c.id == entity_id).values(removed_at=now, updated_at=now)
        )
        await audit("entity.removed", "entity", entity_id, conn=conn, actor=actor, at=now)
    return result


async def list_entities(
    *, conn: AsyncConnection, include_removed: bool = False
) -> list[RowMapping]:
    query = select(entity).order_by(entity.c.id)
    if not include_removed:
        query = query.where(entity.c.removed_at.is_(None))
    return list((await conn.execute(query)).mappings())
