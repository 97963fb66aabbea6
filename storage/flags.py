"""Flags (post x watched entity) for the review desk; every status change is audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select, tuple_, update

from storage.audit_log import audit
from storage.engine import dialect_insert
from storage.errors import StorageError
from storage.models import FLAG_STATUSES, flag

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "CreatedFlag",
    "Flag",
    "NewFlag",
    "create_flags",
    "get_flag",
    "list_flags",
    "mark_mention_removed",
    "set_flag_status",
    "set_flags_status",
]


@dataclass(frozen=True, slots=True)
class NewFlag:
    """A match to store. ``post_id`` is the album's lead (caption) message for albums."""

    post_id: int
    channel_id: int
    entity_id: str
    aliases: list[str]
    spans: list[dict[str, Any]]  # [{"start", "end", "alias", "rule"}, ...]
    snippet: str
    language: str | None = None
    grouped_id: int | None = None


@dataclass(frozen=True, slots=True)
class CreatedFlag:
    id: int
    post_id: int
    entity_id: str
    new: bool  # False when this (post, entity) was already flagged


@dataclass(frozen=True, slots=True)
class Flag:
    id: int
    post_id: int
    channel_id: int
    grouped_id: int | None
    entity_id: str
    aliases: list[str]
    spans: list[dict[str, Any]]
    snippet: str
    language: str | None
    status: str
    mention_removed_at: datetime | None
    reviewer: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime


def _flag(row: Any) -> Flag:
    return Flag(**row)


async def create_flags(
    flags: Sequence[NewFlag], *, conn: AsyncConnection, at: datetime | None = None
) -> list[CreatedFlag]:
    """Store flags idempotently on (post_id, entity_id).

    An existing flag keeps its id, status, reviewer and note; what was matched (aliases, spans,
    snippet) is refreshed, so spans index the current (edited) text, and a mention an edit had
    removed counts again (audited as ``flag.mention_restored``).
    Returns one :class:`CreatedFlag` per distinct (post_id, entity_id), in input order.
    """
    now = at or datetime.now(UTC)
    unique = {(f.post_id, f.entity_id): f for f in flags}
    if not unique:
        return []
    rows = [
        {
            "post_id": f.post_id,
            "channel_id": f.channel_id,
            "grouped_id": f.grouped_id,
            "entity_id": f.entity_id,
            "aliases": list(f.aliases),
            "spans": list(f.spans),
            "snippet": f.snippet,
            "language": f.language,
            "status": "new",
            "created_at": now,
            "updated_at": now,
        }
        for f in unique.values()
    ]
    insert = (
        dialect_insert(conn)(flag)
        .on_conflict_do_nothing(index_elements=["post_id", "entity_id"])
        .returning(flag.c.id, flag.c.post_id, flag.c.entity_id)
    )
    inserted = {(r.post_id, r.entity_id): r.id for r in await conn.execute(insert, rows)}
    missing = [key for key in unique if key not in inserted]
    found: dict[tuple[int, str], int] = {}
    if missing:
        query = select(flag).where(tuple_(flag.c.post_id, flag.c.entity_id).in_(missing))
        stored = list(await conn.execute(query))
        found = {(r.post_id, r.entity_id): r.id for r in stored}
        await _refresh(stored, unique, conn=conn, at=now)
    return [
        CreatedFlag(
            id=inserted.get(key) or found[key],
            post_id=key[0],
            entity_id=key[1],
            new=key in inserted,
        )
        for key in unique
    ]


async def _refresh(
    rows: Sequence[Any],
    unique: dict[tuple[int, str], NewFlag],
    *,
    conn: AsyncConnection,
    at: datetime,
) -> None:
    """Bring existing flags' match data up to date with the text they were found in again."""
    changes: list[dict[str, Any]] = []
    for row in rows:
        new = unique[(row.post_id, row.entity_id)]
        values = {
            "aliases": list(new.aliases),
            "spans": list(new.spans),
            "snippet": new.snippet,
            "language": new.language if new.language is not None else row.language,
        }
        current = {name: getattr(row, name) for name in values}
        if values != current or row.mention_removed_at is not None:
            changes.append({"fid": row.id, **values, "mention_removed_at": None, "updated_at": at})
    if changes:
        await conn.execute(update(flag).where(flag.c.id == bindparam("fid")), changes)
    for row in rows:
        if row.mention_removed_at is not None:
            await audit(
                "flag.mention_restored", "flag", row.id, conn=conn, actor="collector", at=at
            )


async def get_flag(flag_id: int, *, conn: AsyncConnection) -> Flag | None:
    row = (await conn.execute(select(flag).where(flag.c.id == flag_id))).mappings().first()
    return None if row is None else _flag(row)


async def list_flags(
    *,
    conn: AsyncConnection,
    status: str | Sequence[str] | None = None,
    entity_id: str | None = None,
    channel_id: int | None = None,
    post_id: int | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[Flag]:
    """Flags, newest first, filtered by any of the given fields."""
    query = select(flag).order_by(flag.c.created_at.desc(), flag.c.id.desc())
    if status is not None:
        statuses = [status] if isinstance(status, str) else list(status)
        query = query.where(flag.c.status.in_(statuses))
    if entity_id is not None:
        query = query.where(flag.c.entity_id == entity_id)
    if channel_id is not None:
        query = query.where(flag.c.channel_id == channel_id)
    if post_id is not None:
        query = query.where(flag.c.post_id == post_id)
    if since is not None:
        query = query.where(flag.c.created_at >= since)
    rows = (await conn.execute(query.limit(limit).offset(offset))).mappings()
    return [_flag(row) for row in rows]


async def set_flag_status(
    flag_id: int,
    status: str,
    *,
    conn: AsyncConnection,
    by: str,
    note: str | None = None,
    at: datetime | None = None,
) -> Flag:
    """Change a flag's review status and write an ``audit_event`` (action ``flag.status``)."""
    [updated] = await set_flags_status([flag_id], status, conn=conn, by=by, note=note, at=at)
    return updated


async def set_flags_status(
    flag_ids: Sequence[int],
    status: str,
    *,
    conn: AsyncConnection,
    by: str,
    note: str | None = None,
    at: datetime | None = None,
) -> list[Flag]:
    """Change several flags' review status, each with its own ``audit_event``; all or nothing:
    an unknown id raises :class:`StorageError` naming it before anything is changed.

    Returns the updated flags in the order given (an id given twice counts once).
    """
    if status not in FLAG_STATUSES:
        raise StorageError(
            f"unknown flag status {status!r}; expected one of {', '.join(FLAG_STATUSES)}"
        )
    ids = list(dict.fromkeys(flag_ids))
    rows = (await conn.execute(select(flag).where(flag.c.id.in_(ids)))).mappings()
    current = {row["id"]: _flag(row) for row in rows}
    missing = [str(i) for i in ids if i not in current]
    if missing:
        raise StorageError(
            f"no flag with id {', '.join(missing)}"
            + ("; nothing was changed" if len(ids) > 1 else "")
        )
    now = at or datetime.now(UTC)
    values: dict[str, Any] = {"status": status, "reviewer": by, "updated_at": now}
    if note is not None:
        values["note"] = note
    await conn.execute(update(flag).where(flag.c.id.in_(ids)).values(**values))
    for flag_id in ids:
        await audit(
            "flag.status",
            "flag",
            flag_id,
            conn=conn,
            actor=by,
            at=now,
            details={"from": current[flag_id].status, "to": status, "note": note},
        )
    rows = (await conn.execute(select(flag).where(flag.c.id.in_(ids)))).mappings()
    updated = {row["id"]: _flag(row) for row in rows}
    return [updated[i] for i in ids]


async def mark_mention_removed(
    flag_id: int, *, conn: AsyncConnection, at: datetime, actor: str = "collector"
) -> bool:
    """Note that an edit removed the flagged mention (first time only). Audited. Returns True when
    newly marked."""
    result = await conn.execute(
        update(flag)
        .where(flag.c.id == flag_id, flag.c.mention_removed_at.is_(None))
        .values(mention_removed_at=at, updated_at=at)
    )
    if result.rowcount == 0:
        return False
    await audit("flag.mention_removed", "flag", flag_id, conn=conn, actor=actor, at=at)
    return True
