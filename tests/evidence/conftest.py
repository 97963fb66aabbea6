"""Evidence fixtures: the seed scenario collected into an archive (as tests/flagging), and helpers
that run SQL or storage functions against it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import create_engine
from tests.flagging.conftest import archive, seed  # noqa: F401

T = TypeVar("T")


def with_db(env: dict[str, str], work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    """Run ``work(conn)`` in one committed transaction on the archive of ``env``."""

    async def main() -> T:
        engine = create_engine(env["MONITOR_DATABASE_URL"])
        try:
            async with engine.begin() as conn:
                return await work(conn)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def sql(env: dict[str, str], statement: str, **params: Any) -> list[Any]:
    """Rows of one SQL statement (empty for statements without rows)."""

    async def work(conn: AsyncConnection) -> list[Any]:
        result = await conn.execute(text(statement), params)
        return list(result) if result.returns_rows else []

    return with_db(env, work)


def media_root(env: dict[str, str]) -> Path:
    return Path(env["MONITOR_DATA_DIR"]) / "media"
