"""Text read from photos (OCR): ``media_text`` (one row per media SHA-256), and the search index
made able to hold a photo's text beside the version of the post that carries the photo.

``search_doc`` (SQLite) and ``post_search`` (PostgreSQL) gain ``media_sha256``: ``''`` for a
version's own text, the photo's SHA-256 for its OCR text; the unique key becomes
``(version_id, media_sha256)``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 02:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.search_index import DOC_TABLE, SEARCH_TABLE, create_search_tables
from storage.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media_text",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("languages", sa.String(64), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("engine_version", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["media.sha256"],
            name="fk_media_text_sha256_media",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sha256", name="pk_media_text"),
    )
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        # SQLite cannot drop a UNIQUE constraint: rebuild the small mapping table.
        op.execute(
            f"CREATE TABLE {DOC_TABLE}_new ("
            " doc INTEGER PRIMARY KEY,"
            " version_id INTEGER NOT NULL REFERENCES post_version (id) ON DELETE CASCADE,"
            " post_id INTEGER NOT NULL,"
            " media_sha256 VARCHAR(64) NOT NULL DEFAULT '',"
            " UNIQUE (version_id, media_sha256))"
        )
        op.execute(
            f"INSERT INTO {DOC_TABLE}_new (doc, version_id, post_id) "
            f"SELECT doc, version_id, post_id FROM {DOC_TABLE}"
        )
        op.execute(f"DROP TABLE {DOC_TABLE}")
        op.execute(f"ALTER TABLE {DOC_TABLE}_new RENAME TO {DOC_TABLE}")
        return
    op.execute(
        f"ALTER TABLE {SEARCH_TABLE} ADD COLUMN media_sha256 VARCHAR(64) NOT NULL DEFAULT ''"
    )
    op.execute(f"ALTER TABLE {SEARCH_TABLE} DROP CONSTRAINT {SEARCH_TABLE}_pkey")
    op.execute(f"ALTER TABLE {SEARCH_TABLE} ADD PRIMARY KEY (version_id, media_sha256)")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        # A contentless FTS5 table cannot forget a row by its id, and a photo's row left behind
        # could later answer for a new document given its id. Start the index again (0004's
        # tables) and queue every version: the next `monitor db upgrade` or search re-indexes.
        op.execute(f"DROP TABLE {SEARCH_TABLE}")
        op.execute(f"DROP TABLE {DOC_TABLE}")
        create_search_tables(conn)
        op.execute(
            "INSERT INTO search_pending (version_id) SELECT id FROM post_version"
            " WHERE id NOT IN (SELECT version_id FROM search_pending)"
        )
    else:
        op.execute(f"DELETE FROM {SEARCH_TABLE} WHERE media_sha256 != ''")
        op.execute(f"ALTER TABLE {SEARCH_TABLE} DROP CONSTRAINT {SEARCH_TABLE}_pkey")
        op.execute(f"ALTER TABLE {SEARCH_TABLE} DROP COLUMN media_sha256")
        op.execute(f"ALTER TABLE {SEARCH_TABLE} ADD PRIMARY KEY (version_id)")
    op.drop_table("media_text")
