"""``monitor import desktop`` through the CLI runner, and provenance where a post is shown."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from monitor.cli import app
from monitor.simulator.scenario import Scenario
from storage import NewFlag, create_flags, get_post_by_key, sync_entities
from tests.desktop_import.conftest import MEDIA_OFFICE, collect
from tests.desktop_import.desktop_export import write_account_export, write_channel_export

SOURCE = "ChatExport_2025-01-01/result.json"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI points logging at the runner's stderr, which closes after each invoke."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path) -> CliRunner:
    monkeypatch.setenv("MONITOR_DATABASE_URL", db_url)
    monkeypatch.setenv("MONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("MONITOR_MEDIA_DIR", raising=False)
    return CliRunner()


async def invoke(runner: CliRunner, *args: str) -> tuple[int, str, str]:
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    return result.exit_code, result.stdout, result.stderr


async def test_import_prints_a_summary_then_json_shows_nothing_new(
    seed: Scenario, runner: CliRunner, engine: AsyncEngine, tmp_path: Path
):
    office = seed.channels["media_office"]
    folder = tmp_path / "ChatExport_2025-01-01"
    write_channel_export(seed.backend, office.id, folder)

    code, out, err = await invoke(runner, "import", "desktop", str(folder))

    assert code == 0, err
    assert f"(channel {office.id}): 128 new posts, 0 versions added" in out
    assert "24 photos stored" in out and "1 service messages skipped" in out
    assert f"provenance: imported from {SOURCE}" in out
    assert len(list((tmp_path / "data" / "media").rglob("*.jpg"))) == 24
    code, out, err = await invoke(
        runner, "import", "desktop", str(folder / "result.json"), "--json"
    )
    assert code == 0, err
    [row] = [json.loads(line) for line in out.splitlines()]
    assert row == {
        "source": SOURCE,
        "provenance": "imported",
        "channel_id": office.id,
        "title": office.title,
        "new": 0,
        "versions_added": 0,
        "unchanged": 128,
        "photos": 24,
        "photos_missing": 0,
        "skipped": 1,
    }


async def test_account_export_names_the_chats_it_left_out(
    seed: Scenario, runner: CliRunner, engine: AsyncEngine, tmp_path: Path
):
    ids = [seed.channels["media_office"].id, seed.channels["news_en"].id]
    write_account_export(seed.backend, ids, tmp_path / "DataExport")

    code, out, err = await invoke(runner, "import", "desktop", str(tmp_path / "DataExport"))

    assert code == 0, err
    assert "not channels, not imported: 1 personal_chat" in out
    assert out.count("new posts") == 2


async def test_a_broken_export_is_one_error_line_naming_the_json_path(
    seed: Scenario, runner: CliRunner, engine: AsyncEngine, tmp_path: Path
):
    result = write_channel_export(seed.backend, seed.channels["media_office"].id, tmp_path / "x")
    document = json.loads(result.read_text())
    document["messages"][3]["edited_unixtime"] = True
    result.write_text(json.dumps(document))

    code, out, err = await invoke(runner, "import", "desktop", str(result))

    assert code == 2
    assert "error: result.json: messages[3].edited_unixtime: expected a number" in err
    assert "Traceback" not in err + out


async def test_flags_show_says_which_versions_were_imported(
    seed: Scenario, runner: CliRunner, engine: AsyncEngine, media_store, tmp_path: Path
):
    office = seed.channels["media_office"]
    folder = tmp_path / "ChatExport_2025-01-01"
    write_channel_export(seed.backend, office.id, folder)
    assert (await invoke(runner, "import", "desktop", str(folder)))[0] == 0
    await collect(seed, engine, media_store, MEDIA_OFFICE)  # our own capture, beside it
    async with engine.begin() as conn:
        await sync_entities(
            [("khazali", "Qais al-Khazali", "person", [], ["الخزعلي"])], conn=conn, actor="t"
        )
        stored = await get_post_by_key(office.id, 4, conn=conn)
        assert stored is not None
        [flag] = await create_flags(
            [NewFlag(stored["id"], office.id, "khazali", ["الخزعلي"], [], "الخزعلي")], conn=conn
        )

    code, out, err = await invoke(runner, "flags", "show", str(flag.id))
    assert code == 0, err
    assert f"versions: imported from {SOURCE} " in out and "; collected " in out
    code, out, err = await invoke(runner, "flags", "show", str(flag.id), "--json")
    assert code == 0, err
    versions = json.loads(out)["versions"]
    assert [(v["provenance"], v["source"]) for v in versions] == [
        ("imported", SOURCE),
        ("collected", None),
    ]


async def test_a_terminal_sees_a_progress_bar_of_bytes_read(
    seed: Scenario, db_url: str, engine: AsyncEngine, tmp_path: Path
):
    import os
    import pty
    import sys

    folder = tmp_path / "ChatExport_2025-01-01"
    result = write_channel_export(seed.backend, seed.channels["media_office"].id, folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env |= {"MONITOR_DATABASE_URL": db_url, "MONITOR_DATA_DIR": str(tmp_path / "data")}
    env |= {"COLUMNS": "120", "TERM": "xterm"}
    monitor = str(Path(sys.executable).with_name("monitor"))

    def run_on_a_terminal() -> tuple[int, str]:
        master, slave = pty.openpty()
        proc = subprocess.Popen([monitor, "import", "desktop", str(folder)], env=env, stdout=slave)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal closed with the process
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        return proc.wait(), seen.decode(errors="replace")

    code, seen = await asyncio.to_thread(run_on_a_terminal)

    assert code == 0, seen
    assert "reading result.json" in seen
    total = f"{result.stat().st_size / 1000:.1f}"
    assert f"0.0/{total} kB" in seen and f"{total}/{total} kB" in seen  # from none to all bytes
    assert "128 new posts" in seen
