"""Each post version records where it came from: ``collected`` (our own capture from Telegram) or
``imported`` (a Telegram Desktop export), with the export's file name in ``source``. Versions
stored before this migration are our own captures.

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-30 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (a constant default): no table copy on SQLite, no rewrite on PostgreSQL,
    # however many versions the archive holds.
    op.add_column(
        "post_version",
        sa.Column("provenance", sa.String(16), nullable=False, server_default="collected"),
    )
    op.add_column("post_version", sa.Column("source", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("post_version") as batch:
        batch.drop_column("source")
        batch.drop_column("provenance")
