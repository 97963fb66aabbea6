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


def _versions(bind: sa.Connection) -> Iterator[tuple[Any, int, dict[str, Any]]]:
    rows = bind.execute(
        sa.text(
            "SELECT v.id, v.text, v.edited_at, v.captured_at, v.content_hash, p.channel_id, "
            "p.message_id FROM post_version v JOIN post p ON p.id = v.post_id "
            "ORDER BY v.captured_at, v.id"
        )
        .columns(edited_at=UTCDateTime, captured_at=UTCDateTime)
        .execution_options(yield_per=BATCH)  # on the statement: Connection's would stick
    )
    for row in rows:
        yield row.captured_at, 1, version_item(row)


def _media(bind: sa.Connection) -> Iterator[tuple[Any, int, dict[str, Any]]]:
    rows = bind.execute(
        sa.text("SELECT sha256, first_seen_at FROM media ORDER BY first_seen_at, sha256")
        .columns(first_seen_at=UTCDateTime)
        .execution_options(yield_per=BATCH)
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
