"""Joins have a lifecycle: a claim is provisional (``claimed``, by a worker) until Telegram
answers the join; channels the account left stay as history (``left``, with the time and why).
At most one current (not left) row per channel: ``current_channel_id`` (the channel while
current, NULL once left) is unique.

The table is rebuilt (its primary key changes): the rows of 0013 are joins Telegram confirmed
or channels found in the account's dialogs, and become ``joined``.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import BigIntPK, UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _old_table() -> sa.Table:
    return sa.table(
        "account_join",
        sa.column("channel_id", sa.BigInteger()),
        sa.column("handle", sa.String()),
        sa.column("account", sa.String()),
        sa.column("joined_at", UTCDateTime()),
    )


def upgrade() -> None:
    bind = op.get_bind()
    rows = [dict(r._mapping) for r in bind.execute(sa.select(_old_table()))]
    op.drop_index("ix_account_join_account", table_name="account_join")
    op.drop_table("account_join")
    table = op.create_table(
        "account_join",
        sa.Column("id", BigIntPK, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("handle", sa.String(128), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("claimed_by", sa.String(255)),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("joined_at", UTCDateTime()),
        sa.Column("left_at", UTCDateTime()),
        sa.Column("left_reason", sa.String(32)),
        sa.Column("current_channel_id", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_account_join"),
        sa.UniqueConstraint("current_channel_id", name="uq_account_join_current_channel_id"),
    )
    op.create_index("ix_account_join_account", "account_join", ["account"])
    if rows:
        op.bulk_insert(
            table,
            [
                {
                    **row,
                    "state": "joined",
                    "origin": "joined",
                    "claimed_at": row["joined_at"],
                    "current_channel_id": row["channel_id"],
                }
                for row in rows
            ],
        )


def downgrade() -> None:
    bind = op.get_bind()
    c = sa.table(
        "account_join",
        *(sa.column(n) for n in ("channel_id", "handle", "account", "state")),
        sa.column("joined_at", UTCDateTime()),
    )
    query = sa.select(c.c.channel_id, c.c.handle, c.c.account, c.c.joined_at).where(
        c.c.state == "joined"
    )
    rows = [dict(r._mapping) for r in bind.execute(query)]
    op.drop_index("ix_account_join_account", table_name="account_join")
    op.drop_table("account_join")
    table = op.create_table(
        "account_join",
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("handle", sa.String(128), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name="pk_account_join"),
    )
    op.create_index("ix_account_join_account", "account_join", ["account"])
    if rows:
        op.bulk_insert(table, rows)
