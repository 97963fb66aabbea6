"""Channel health: a ``channel_health`` row per channel that had a problem (private, banned,
renamed, silent, failing), and health alerts in the outbox (``post_id`` may be NULL: a health
alert is about a channel, not a post).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 23:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_health",
        sa.Column("handle", sa.String(128), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("problem", sa.String(32), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("since", storage.types.UTCDateTime(), nullable=True),
        sa.Column("episode", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failing_since", storage.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", storage.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("handle", name="pk_channel_health"),
    )
    # SQLite cannot alter a column: batch mode copies the table (rows, indexes and the foreign
    # key kept); PostgreSQL drops the NOT NULL in place.
    with op.batch_alter_table("alert_outbox") as batch:
        batch.alter_column("post_id", existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    op.execute("DELETE FROM alert_outbox WHERE post_id IS NULL")
    with op.batch_alter_table("alert_outbox") as batch:
        batch.alter_column("post_id", existing_type=sa.BigInteger(), nullable=False)
    op.drop_table("channel_health")
