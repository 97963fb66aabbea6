"""Going back to an earlier schema revision in a test (the project itself only upgrades)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.engine import alembic_config


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Alembic's downgrade to ``revision``, on ``engine``'s database."""

    def run(sync_conn: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = sync_conn
        command.downgrade(config, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)
