"""Watchlist edits: the repo's commented channels.yaml copied into a temporary folder, and the
CLI runner with a clean environment (no credentials, no simulator: nothing is resolved)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.daemon.conftest import daemons, open_db, sim  # noqa: F401  (fixtures)

REPO_CHANNELS = Path(__file__).resolve().parents[2] / "channels.yaml"


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> CliRunner:
    import os

    for name in [k for k in os.environ if k.startswith("MONITOR_")]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MONITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.fixture
def channels_file(tmp_path: Path) -> Path:
    """A copy of the repo's example channels.yaml (every line commented)."""
    path = tmp_path / "channels.yaml"
    shutil.copyfile(REPO_CHANNELS, path)
    return path


def comment_lines(text: str) -> list[str]:
    """Every line that is only a comment, exactly as written (indentation included)."""
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def only_insertions(before: str, after: str) -> list[str]:
    """The lines ``after`` adds to ``before``; fails if any line of ``before`` changed or moved."""
    import difflib

    old, new = before.splitlines(), after.splitlines()
    added = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        assert tag in ("equal", "insert"), (tag, old[i1:i2], new[j1:j2])
        if tag == "insert":
            added.extend(new[j1:j2])
    return added


def only_deletions(before: str, after: str) -> list[str]:
    """The lines ``after`` drops from ``before``; fails if any line was added or changed."""
    return only_insertions(after, before)
