"""An archive of watched people is private by default: folders 0700, files 0600, whatever the
umask the monitor was started with (here the common 022)."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import text

from monitor.settings import load_settings
from monitor.telegram import real_client
from storage.engine import create_engine
from tests.daemon.conftest import REPO, Env


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes_under(root: Path) -> dict[str, int]:
    found = {".": mode(root)}
    for path in root.rglob("*"):
        found[path.relative_to(root).as_posix()] = mode(path)
    return found


async def test_a_demo_run_leaves_only_private_folders_and_files(tmp_path: Path):
    env = Env(tmp_path)
    shutil.copy(REPO / "channels.yaml", env.channels_file)

    with umask(0o022):  # the child inherits it
        code, _, err = await env.monitor("demo")

    assert code == 0, err
    found = modes_under(env.data_dir)
    names = set(found)
    assert {"monitor.db", "alerts.jsonl", "media", "cache"} <= names
    assert any(name.startswith("media/") and name.endswith(".jpg") for name in names)
    assert any(name.startswith("cache/") and (env.data_dir / name).is_file() for name in names)
    wrong = {
        name: oct(m)
        for name, m in found.items()
        if m != (0o700 if (env.data_dir / name).is_dir() else 0o600)
    }
    assert wrong == {}


async def test_the_sqlite_archive_and_its_wal_and_shm_files_are_private(tmp_path: Path):
    database = tmp_path / "new" / "monitor.db"
    with umask(0o022):
        engine = create_engine(f"sqlite+aiosqlite:///{database.as_posix()}")
        try:
            async with engine.begin() as conn:
                await conn.execute(text("CREATE TABLE t (x INTEGER)"))
                await conn.execute(text("INSERT INTO t VALUES (1)"))
            async with engine.connect() as conn:  # open: -wal and -shm exist
                assert (await conn.execute(text("SELECT x FROM t"))).scalar() == 1
                files = {p.name: mode(p) for p in database.parent.iterdir()}
        finally:
            await engine.dispose()

    assert files == {"monitor.db": 0o600, "monitor.db-wal": 0o600, "monitor.db-shm": 0o600}
    assert mode(database.parent) == 0o700


def test_the_session_file_is_created_0600(tmp_path: Path):
    settings = load_settings(
        data_dir=tmp_path / "data",
        telegram_api_id=12345,
        telegram_api_hash="0123456789abcdef0123456789abcdef",
    )
    with umask(0o022):
        client = real_client(settings)
    try:
        assert mode(tmp_path / "data" / "telegram.session") == 0o600
    finally:
        client.session.close()
