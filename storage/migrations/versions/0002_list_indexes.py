"""Indexes for the review queue and the alert outbox at scale.

`flags list` reads flags newest first, all of them or by entity, channel or date: each gets an
index in that order, so a page of 100 is an index range scan whatever the archive's size
(without them PostgreSQL and SQLite sort every matching flag and join it to `post` first).
Queueing an alert looks up a post's earlier alerts by `post_id`.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 19:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = [
    ("ix_flag_created_at_id", "flag", ["created_at", "id"]),
    ("ix_flag_entity_id_created_at_id", "flag", ["entity_id", "created_at", "id"]),
    ("ix_flag_channel_id_created_at_id", "flag", ["channel_id", "created_at", "id"]),
    ("ix_alert_outbox_post_id", "alert_outbox", ["post_id"]),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
