"""The capture log's hashes are no longer unique keys: an entry's ``seq`` is its predecessor's
plus one, so the primary key is what makes a fork impossible.

The two unique indexes on ``prev_hash`` and ``entry_hash`` held random keys: every append
touched a page anywhere in each, and on SQLite a first pass grew slower as the log grew (about
50% from the first to the last tenth of 100,000 posts). Nothing looks an entry up by its hash.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 12:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("capture_log") as batch:  # SQLite: the table is rebuilt
        batch.drop_constraint("uq_capture_log_prev_hash", type_="unique")
        batch.drop_constraint("uq_capture_log_entry_hash", type_="unique")


def downgrade() -> None:
    with op.batch_alter_table("capture_log") as batch:
        batch.create_unique_constraint("uq_capture_log_prev_hash", ["prev_hash"])
        batch.create_unique_constraint("uq_capture_log_entry_hash", ["entry_hash"])
    if op.get_bind().dialect.name == "postgresql":
        # Since 0015 appends number entries themselves, so the column's sequence fell behind;
        # the code of 0014 takes its next value (SQLite takes the largest rowid plus one).
        op.execute(
            "SELECT setval(pg_get_serial_sequence('capture_log', 'seq'), "
            "COALESCE((SELECT max(seq) FROM capture_log), 0) + 1, false)"
        )
