"""Collector workers and their leases: several `monitor run` processes share one PostgreSQL.

``worker`` holds each worker's heartbeat; ``worker_lease`` one row per account and per channel,
owned by at most one worker until its lease expires (taken with ``FOR UPDATE SKIP LOCKED``).

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30 23:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(64), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.Column("parked_until", UTCDateTime(), nullable=True),
        sa.Column("stopped_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_worker"),
    )
    op.create_table(
        "worker_lease",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("acquired_at", UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("kind", "name", name="pk_worker_lease"),
    )
    op.create_index("ix_worker_lease_owner", "worker_lease", ["owner"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_worker_lease_owner", table_name="worker_lease")
    op.drop_table("worker_lease")
    op.drop_table("worker")
