"""The audit trail: who did what to which subject, and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import RowMapping, select

from storage.models import audit_event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = ["audit", "list_audit"]


async def audit(
    action: str,
    subject_type: str,
    subject_id: str | int,
    *,
    conn: AsyncConnection,
    actor: str,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> int:
    """Append one audit event; returns its id."""
    result = await conn.execute(
        audit_event.insert()
        .values(
            at=at or datetime.now(UTC),
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            details=details,
        )
        .returning(audit_event.c.id)
    )
    return int(result.scalar_one())


async def list_audit(
    *,
    conn: AsyncConnection,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    action: str | None = None,
    limit: int = 100,
) -> list[RowMapping]:
    """Audit events, newest first, optionally for one subject or action."""
    query = select(audit_event).order_by(audit_event.c.at.desc(), audit_event.c.id.desc())
    if subject_type is not None:
        query = query.where(audit_event.c.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(audit_event.c.subject_id == str(subject_id))
    if action is not None:
        query = query.where(audit_event.c.action == action)
    return list((await conn.execute(query.limit(limit))).mappings())
