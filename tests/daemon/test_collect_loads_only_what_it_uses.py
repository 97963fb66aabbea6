"""`monitor collect` loads only what a pass uses: a first pass of a channel, through the real
entry point in a fresh interpreter against the simulator over TCP, then ``sys.modules`` read.

Every module loaded costs each cron run its import time and its memory (the README's peers
table: `monitor collect` against other archivers, peak RSS included). A pass that renders no
alert needs no Jinja; no route means no Apprise; the schema is checked, not migrated, so no
Alembic; logs are plain or JSON, so no Rich tracebacks, Pygments or Rich's pretty-printer
(structlog loads them when it can); the async engine comes without SQLAlchemy's ORM, which
nothing here uses (8 MB); SQLite needs no PostgreSQL dialect; one pass needs no APScheduler, file watch or web desk.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.daemon.conftest import WAIT, Env, channels_yaml
from tests.test_cli_startup import RUNNER, entry_point

NOT_FOR_COLLECTING = (
    "jinja2",
    "apprise",
    "alembic",
    "apscheduler",
    "rich.traceback",
    "pygments",
    "rich.pretty",
    "attr",
    "sqlalchemy.orm",
    "sqlalchemy.dialects.postgresql",
    "asyncpg",
    "ruamel",
    "pydantic_settings",
    "watchfiles",
    "monitor.web",
    "monitor.photos.reader",
    "starlette",
)
# Loaded for sure by a pass: the check reads sys.modules of the process that collected.
USED = ("telethon", "sqlalchemy", "sqlalchemy.ext.asyncio.engine", "structlog", "monitor.pipeline")


async def loaded_by_collect(env: Env, tmp: Path) -> tuple[dict[str, object], list[str]]:
    """Run ``monitor collect --json`` via the entry point; its one report and the watched
    modules it loaded."""
    out = tmp / "steps.json"
    watched = (*NOT_FOR_COLLECTING, *USED)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUNNER,
        entry_point(),
        json.dumps([["collect", "--json"]]),
        json.dumps(watched),
        str(out),
        env=env.vars(),
        cwd=tmp,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(proc.communicate(), WAIT)
    assert proc.returncode == 0 and out.exists(), stderr.decode()[-3000:]
    steps = json.loads(out.read_text())
    assert steps[1]["code"] == 0, stderr.decode()[-3000:]
    [report] = [json.loads(line) for line in stdout.decode().splitlines() if line.startswith("{")]
    return report, steps[1]["loaded"]


async def test_a_first_pass_loads_no_renderer_sink_migrations_or_tracebacks(sim, tmp_path: Path):
    sim.channel("lean_sim", 120)  # more than a page: a pass of several batches
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("lean_sim"))
    assert (await env.monitor("db", "upgrade"))[0] == 0

    report, loaded = await loaded_by_collect(env, tmp_path)

    assert report["new"] == 120 and report["error"] is None
    assert set(USED) <= set(loaded), loaded  # the watch sees what was loaded
    assert [m for m in loaded if m in NOT_FOR_COLLECTING] == []
