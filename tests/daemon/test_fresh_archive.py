"""`run` and `collect` create a brand-new SQLite archive themselves; anything else that is not at
the current schema (PostgreSQL, an older archive) is refused with the `monitor db upgrade` hint."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.pool import NullPool

from storage.engine import create_engine, current_revision, head_revision, upgrade
from tests.daemon.conftest import Env, channels_yaml


async def _revision(url: str) -> str | None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


async def test_collect_on_a_fresh_data_dir_creates_the_sqlite_archive(sim, tmp_path: Path):
    sim.channel("alpha_sim", 3)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    assert not env.data_dir.exists()

    code, out, err = await env.monitor("collect")

    assert code == 0, err
    assert "db upgrade" not in err
    assert await _revision(env.url) == head_revision()


async def test_run_on_a_fresh_data_dir_starts(sim, daemons, tmp_path: Path):
    sim.channel("alpha_sim", 3)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))

    daemon = await env.start_daemon()
    daemons.append(daemon)
    await daemon.wait_for_event("monitor_started")

    assert await daemon.stop() == 0
    assert await _revision(env.url) == head_revision()


async def test_an_empty_postgresql_database_is_refused_with_the_hint(
    sim, db_url: str, backend: str, tmp_path: Path
):
    sim.channel("alpha_sim", 3)
    env = Env(tmp_path, server=sim.address, database_url=db_url)
    env.channels_file.write_text(channels_yaml("alpha_sim"))

    code, _, err = await env.monitor("collect")

    if backend == "sqlite":  # the SQLite leg: a new, empty file is a fresh archive
        assert code == 0, err
        assert await _revision(db_url) == head_revision()
    else:  # a shared server is never migrated behind the operator's back
        assert code != 0
        assert "run `monitor db upgrade`" in err and "Traceback" not in err
        assert await _revision(db_url) is None


async def test_an_archive_at_an_older_revision_is_refused_with_the_hint(
    sim, db_url: str, tmp_path: Path
):
    sim.channel("alpha_sim", 3)
    engine = create_engine(db_url, poolclass=NullPool)
    try:
        await upgrade(engine, "0001")
    finally:
        await engine.dispose()
    env = Env(tmp_path, server=sim.address, database_url=db_url)
    env.channels_file.write_text(channels_yaml("alpha_sim"))

    for command in ("collect", "run"):
        code, _, err = await env.monitor(command)

        assert code != 0, command
        assert "schema is at revision 0001" in err and "run `monitor db upgrade`" in err
        assert "Traceback" not in err
    assert await _revision(db_url) == "0001"
