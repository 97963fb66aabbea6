"""Where a post version came from: our own capture from Telegram, or an import of someone
else's copy (a Telegram Desktop export). Recorded per version (``post_version.provenance`` and
``source``), so nothing presents an import as our own capture.

An imported version gets a content hash of its own (the capture's hash, salted): it never merges
with a capture of the same text, so a later collection adds its own version beside it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.batching import chunked
from storage.models import post_version
from storage.records import PostRecord

__all__ = [
    "COLLECTED",
    "IMPORTED",
    "Provenance",
    "imported_record",
    "known_versions",
    "version_origins",
]

COLLECTED = "collected"
IMPORTED = "imported"


@dataclass(frozen=True, slots=True)
class Provenance:
    """``kind`` is "collected" or "imported"; ``source`` names what was imported (the export's
    file name), None for our own captures."""

    kind: str = COLLECTED
    source: str | None = None

    @property
    def imported(self) -> bool:
        return self.kind == IMPORTED

    def columns(self) -> dict[str, Any]:
        return {"provenance": self.kind, "source": self.source}


def imported_record(record: PostRecord) -> PostRecord:
    """A copy of ``record`` whose content hash marks it as imported."""
    copy = replace(record)
    salted = hashlib.sha256(f"{IMPORTED}:{record.content_hash}".encode()).hexdigest()
    object.__setattr__(copy, "_hash", salted)
    return copy


@dataclass
class KnownVersions:
    """What a post's stored versions hold: (text, edited_at) pairs, and whether one of them is
    our own capture."""

    contents: set[tuple[str, datetime | None]]
    collected: bool = False


async def known_versions(
    post_ids: Iterable[int], *, conn: AsyncConnection
) -> dict[int, KnownVersions]:
    found: dict[int, KnownVersions] = {}
    for ids in chunked(list(post_ids)):
        rows = await conn.execute(
            select(
                post_version.c.post_id,
                post_version.c.text,
                post_version.c.edited_at,
                post_version.c.provenance,
            ).where(post_version.c.post_id.in_(ids))
        )
        for row in rows:
            known = found.setdefault(row.post_id, KnownVersions(set()))
            known.contents.add((row.text, row.edited_at))
            known.collected = known.collected or row.provenance == COLLECTED
    return found


async def version_origins(post_id: int, *, conn: AsyncConnection) -> list[dict[str, Any]]:
    """Where each version of a post came from, oldest capture first: ``provenance``,
    ``source``, ``captured_at`` and ``edited_at``."""
    rows = await conn.execute(
        select(
            post_version.c.provenance,
            post_version.c.source,
            post_version.c.captured_at,
            post_version.c.edited_at,
        )
        .where(post_version.c.post_id == post_id)
        .order_by(post_version.c.captured_at, post_version.c.id)
    )
    return [dict(row._mapping) for row in rows]
