"""Reading commands run the daemon's own queries; on SQLite without an event loop.

``storage.run_reading`` hands the async repository functions a synchronous engine on SQLite
and the async engine on PostgreSQL: the same queries give the same rows either way, a
transaction commits or rolls back as ``AsyncEngine.begin`` does, and a stale schema is refused.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from alerts import outbox_counts
from monitor.cli import app
from storage import SchemaOutOfDateError, check_schema, create_engine, run_reading
from storage.models import flag
from storage.review import flag_views, post_views
from storage.status import channel_status
from tests.flagging.desk import Flagged, small_archive

POSTS = [
    Flagged("Qais al-Khazali spoke", datetime(2024, 5, 13, 9, tzinfo=UTC)),
    Flagged("Qais al-Khazali again", datetime(2024, 5, 14, 9, tzinfo=UTC)),
    Flagged(
        "Asa'ib Ahl al-Haq said",
        datetime(2024, 5, 15, 9, tzinfo=UTC),
        entity="aah",
        alias="Asa'ib Ahl al-Haq",
    ),
]


async def everything(engine: Any) -> dict[str, Any]:
    """What `flags list` (both views) and `status` read, in one transaction."""
    await check_schema(engine)
    async with engine.begin() as conn:
        found = {
            "flags": await flag_views(conn=conn, limit=100),
            "by_entity": await flag_views(conn=conn, entity_id="qais", limit=1),
            "posts": await post_views(conn=conn, limit=100),
            "channels": [row.__dict__ for row in await channel_status(conn=conn)],
        }
    found["alerts"] = await outbox_counts(engine)
    return found


def on_async_engine(url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    async def run() -> Any:
        engine = create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_the_same_queries_give_the_same_rows(db_url, tmp_path):
    small_archive(db_url, tmp_path, POSTS)
    read = run_reading(db_url, everything)
    assert read == on_async_engine(db_url, everything)
    assert len(read["flags"]) == 3 and len(read["posts"]) == 3 and len(read["by_entity"]) == 1
    assert read["flags"][0]["posted_at"] == POSTS[2].posted_at  # timezone-aware, as stored
    assert read["alerts"] == {"pending": 0, "sending": 0, "delivered": 0, "failed": 0}


def test_sqlite_is_read_without_an_event_loop(db_url, backend, tmp_path):
    small_archive(db_url, tmp_path, POSTS[:1])

    async def loop_running(engine: Any) -> bool:
        async with engine.connect() as conn:
            await conn.execute(select(flag.c.id))
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return False
        return True

    assert run_reading(db_url, loop_running) is (backend == "postgresql")


def test_a_reader_that_waits_on_anything_else_is_refused(db_url, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("PostgreSQL is read under asyncio.run, where waiting is fine")
    small_archive(db_url, tmp_path, POSTS[:1])

    async def waits(engine: Any) -> None:
        async with engine.connect():
            await asyncio.sleep(0)

    with pytest.raises(RuntimeError, match="waited on something other than the database"):
        run_reading(db_url, waits)
    assert len(run_reading(db_url, everything)["flags"]) == 1  # the archive is intact


def test_a_transaction_commits_and_a_failed_one_rolls_back(db_url, tmp_path):
    small_archive(db_url, tmp_path, POSTS[:1])

    def set_note(note: str, fail: bool) -> Callable[[Any], Awaitable[None]]:
        async def work(engine: Any) -> None:
            async with engine.begin() as conn:
                await conn.execute(update(flag).values(note=note))
                if fail:
                    raise LookupError("stop")

        return work

    async def notes(engine: Any) -> list[str | None]:
        async with engine.connect() as conn:
            return list((await conn.execute(select(flag.c.note))).scalars())

    run_reading(db_url, set_note("kept", fail=False))
    with pytest.raises(LookupError):
        run_reading(db_url, set_note("lost", fail=True))
    assert run_reading(db_url, notes) == ["kept"]


def test_an_archive_without_a_schema_is_refused_with_the_hint(tmp_path):
    url = f"sqlite+aiosqlite:///{(tmp_path / 'data' / 'monitor.db').as_posix()}"
    with pytest.raises(SchemaOutOfDateError, match="revision none"):
        run_reading(url, everything)
    result = CliRunner().invoke(
        app, ["flags", "list"], env={"MONITOR_DATA_DIR": str(tmp_path / "data")}
    )
    assert result.exit_code != 0 and "monitor db upgrade" in result.output
