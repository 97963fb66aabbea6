"""Review findings: ``?schema=NAME`` on PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from storage import check_schema, create_engine, upgrade


async def test_upgrade_creates_the_schema_named_in_the_url(db_url: str, backend: str):
    if backend != "postgresql":
        pytest.skip("?schema= is a PostgreSQL setting")
    schema = f"review_{uuid.uuid4().hex[:12]}"  # not created beforehand
    url = make_url(db_url).update_query_dict({"schema": schema}).render_as_string(False)
    engine = create_engine(url, poolclass=NullPool)
    try:
        await upgrade(engine)
        await check_schema(engine)
        async with engine.connect() as conn:
            where = await conn.execute(
                text("SELECT table_schema FROM information_schema.tables WHERE table_name = 'post'")
            )
            assert schema in set(where.scalars())
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
