"""Full-text search over every post version: ``post_search`` (FTS5 on SQLite, a tsvector with a
GIN index on PostgreSQL) and ``search_pending``, the versions still to be indexed.

The index holds text after the matcher's normalisation, which lives in ``monitor``, so this
migration queues every existing version in ``search_pending``; ``monitor db upgrade`` indexes
them right after (with a progress bar), and ``monitor search`` would before its first query.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 22:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.search_index import create_search_tables, drop_search_tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "search_pending",
        sa.Column("version_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["post_version.id"],
            name="fk_search_pending_version_id_post_version",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", name="pk_search_pending"),
    )
    create_search_tables(op.get_bind())
    op.execute("INSERT INTO search_pending (version_id) SELECT id FROM post_version")


def downgrade() -> None:
    drop_search_tables(op.get_bind())
    op.drop_table("search_pending")
