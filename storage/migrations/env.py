"""Alembic environment. Runs on a connection handed over by ``storage.engine`` (the normal path),
or, from the ``alembic`` command line, on an engine built from ``MONITOR_DATABASE_URL``.

On PostgreSQL the schema is whatever ``search_path`` selects, so tests can isolate themselves in
a private schema.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.models import metadata
from storage.search_index import include_name

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,  # the search index is not in the metadata (0004)
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online_from_url(url: str) -> None:
    from storage.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run)
    finally:
        await engine.dispose()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("MONITOR_DATABASE_URL")
    if not url:
        raise SystemExit("set MONITOR_DATABASE_URL (or sqlalchemy.url) to run alembic directly")
    asyncio.run(_run_online_from_url(url))


main()
