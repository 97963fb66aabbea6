"""Perceptual hashes of photos: one row per media SHA-256, its 64-bit hash split in four
indexed 16-bit bands so near duplicates are found by probing the bands (storage/photo_hashes.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BANDS = ("band0", "band1", "band2", "band3")


def upgrade() -> None:
    op.create_table(
        "photo_hash",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("phash", sa.BigInteger(), nullable=False),
        *(sa.Column(band, sa.Integer(), nullable=False) for band in BANDS),
        sa.Column("hashed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["media.sha256"],
            name="fk_photo_hash_sha256_media",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sha256", name="pk_photo_hash"),
    )
    for band in BANDS:
        # (band, phash): a query checks its candidates from the index, without the table
        op.create_index(f"ix_photo_hash_{band}_phash", "photo_hash", [band, "phash"])


def downgrade() -> None:
    for band in BANDS:
        op.drop_index(f"ix_photo_hash_{band}_phash", table_name="photo_hash")
    op.drop_table("photo_hash")
