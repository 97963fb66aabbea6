"""Tests share one collected seed scenario per session, each through its own copy: what one test
changes in its copy (rows, photo files) neither the template nor the next copy shows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage import create_engine
from tests.seed_archive import SeedTemplates, run_async


def counts(env: dict[str, str]) -> tuple[int, int, str]:
    """Posts, flags, and the first post's text in the archive of ``env``."""

    async def main() -> tuple[int, int, str]:
        engine = create_engine(env["MONITOR_DATABASE_URL"])
        try:
            async with engine.connect() as conn:
                posts = (await conn.execute(text("SELECT count(*) FROM post"))).scalar_one()
                flags = (await conn.execute(text("SELECT count(*) FROM flag"))).scalar_one()
                first = (
                    await conn.execute(text("SELECT text FROM post ORDER BY id LIMIT 1"))
                ).scalar_one()
                return posts, flags, first
        finally:
            await engine.dispose()

    return run_async(main)


def change(env: dict[str, str]) -> None:
    async def main() -> None:
        engine = create_engine(env["MONITOR_DATABASE_URL"])
        try:
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE post SET text = 'changed by a test'"))
                await conn.execute(text("DELETE FROM flag"))
        finally:
            await engine.dispose()

    run_async(main)


def photos(env: dict[str, str]) -> list[Path]:
    media = Path(env["MONITOR_DATA_DIR"]) / "media"
    return sorted(path for path in media.rglob("*") if path.is_file())


def test_a_change_in_one_copy_is_not_seen_by_the_next(
    db_url: str, seed_templates: SeedTemplates, tmp_path: Path
) -> None:
    backend = make_url(db_url).get_backend_name()
    first, remove_first = seed_templates.copy(backend, tmp_path / "first")
    try:
        before = counts(first)
        files = photos(first)
        assert before[0] == 363 and before[1] > 0 and files  # the collected seed
        assert before[2] != "changed by a test"
        change(first)
        files[0].unlink()
        files[1].write_bytes(b"not the photo")
        assert counts(first) == (before[0], 0, "changed by a test")
        second, remove_second = seed_templates.copy(backend, tmp_path / "second")
        try:
            assert second["MONITOR_DATABASE_URL"] != first["MONITOR_DATABASE_URL"]
            assert counts(second) == before
            assert [p.relative_to(tmp_path / "second") for p in photos(second)] == [
                p.relative_to(tmp_path / "first") for p in files
            ]
            assert photos(second)[1].read_bytes() != b"not the photo"
        finally:
            remove_second()
    finally:
        remove_first()
