"""Which account joined which channel for live updates: one row per channel (so no two
workers join it with two accounts), counted per account against its join limit.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 03:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account_join",
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("handle", sa.String(128), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name="pk_account_join"),
    )
    op.create_index("ix_account_join_account", "account_join", ["account"])


def downgrade() -> None:
    op.drop_index("ix_account_join_account", table_name="account_join")
    op.drop_table("account_join")
