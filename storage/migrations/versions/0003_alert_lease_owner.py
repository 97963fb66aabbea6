"""The alert outbox records which worker holds a lease (``lease_owner``), so a restarted worker
takes back the alerts its killed predecessor was sending at once, not after the lease runs out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 20:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("alert_outbox", sa.Column("lease_owner", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert_outbox") as batch:
        batch.drop_column("lease_owner")
