"""The tamper-evident capture log (a hash chain over every post version and media file), with
entries for what the archive already holds, in capture order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 22:40:00
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.capture_log import chain, media_item, version_item
from storage.types import BigIntPK, UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 5000


def upgrade() -> None:
    table = op.create_table(
        "capture_log",
        sa.Column("seq", BigIntPK, primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("version_id", sa.BigInteger),
        sa.Column("media_sha256", sa.String(64)),
        sa.Column("channel_id", sa.BigInteger),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("captured_at", UTCDateTime, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_capture_log"),
        sa.UniqueConstraint("version_id", name="uq_capture_log_version_id"),
        sa.UniqueConstraint("media_sha256", name="uq_capture_log_media_sha256"),
        sa.UniqueConstraint("prev_hash", name="uq_capture_log_prev_hash"),
        sa.UniqueConstraint("entry_hash", name="uq_capture_log_entry_hash"),
    )
    _backfill(op.get_bind(), table)


def _pages(
    bind: sa.Connection,
    select: str,
    where: str,
    order: str,
    key: tuple[str, str],
    types: dict[str, Any],
) -> Iterator[Any]:
    """Rows ``ORDER BY order`` in pages of ``BATCH`` (keyset on ``key``): a server-side cursor
    would stay open on PostgreSQL (asyncpg) until the migration's transaction ends and block the
    later migrations' ALTER TABLEs."""
    last: tuple[Any, Any] | None = None
    while True:
        clause = "" if last is None else f" WHERE {where}"
        params = {} if last is None else {"k0": last[0], "k1": last[1]}
        statement = sa.text(f"{select}{clause} ORDER BY {order} LIMIT {BATCH}")
        if last is not None:
            statement = statement.bindparams(sa.bindparam("k0", type_=UTCDateTime))
        rows = list(bind.execute(statement.columns(**types), params))
        yield from rows
        if len(rows) < BATCH:
            return
        last = (getattr(rows[-1], key[0]), getattr(rows[-1], key[1]))


def _versions(bind: sa.Connection) -> Iterator[tuple[Any, int, dict[str, Any]]]:
    rows = _pages(
        bind,
        "SELECT v.id, v.text, v.edited_at, v.captured_at, v.content_hash, p.channel_id, "
        "p.message_id FROM post_version v JOIN post p ON p.id = v.post_id",
        "v.captured_at > :k0 OR (v.captured_at = :k0 AND v.id > :k1)",
        "v.captured_at, v.id",
        ("captured_at", "id"),
        {"edited_at": UTCDateTime, "captured_at": UTCDateTime},
    )
    for row in rows:
        yield row.captured_at, 1, version_item(row)


def _media(bind: sa.Connection) -> Iterator[tuple[Any, int, dict[str, Any]]]:
    rows = _pages(
        bind,
        "SELECT sha256, first_seen_at FROM media",
        "first_seen_at > :k0 OR (first_seen_at = :k0 AND sha256 > :k1)",
        "first_seen_at, sha256",
        ("first_seen_at", "sha256"),
        {"first_seen_at": UTCDateTime},
    )
    for row in rows:
        yield row.first_seen_at, 0, media_item(row.sha256, row.first_seen_at)


def _backfill(bind: sa.Connection, table: sa.Table) -> None:
    """Entries for every stored version and media file, merged by capture time (a batch's media
    before its versions, as the collector logs them)."""
    merged = heapq.merge(_versions(bind), _media(bind), key=lambda entry: entry[:2])
    prev = "0" * 64
    batch: list[dict[str, Any]] = []
    for _, _, item in merged:
        batch.append(item)
        if len(batch) >= BATCH:
            rows = chain(prev, batch)
            _insert(bind, table, rows)
            prev, batch = rows[-1]["entry_hash"], []
    if batch:
        _insert(bind, table, chain(prev, batch))


def _insert(bind: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    bind.execute(table.insert(), rows)


def downgrade() -> None:
    op.drop_table("capture_log")
