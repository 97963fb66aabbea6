"""Options mean what they say although Typer skips its pydantic adapter for values left unset.

``monitor.cli.app`` lets an option at ``None`` or at a plain ``int``/``str``/``float`` default
through as it is (tests/test_cli_startup.py checks that no adapter loads then); everything the
user types is still coerced and checked by Typer, bounds and parsers included. A probe command
with every kind of option runs in a fresh interpreter with and without the shortcut installed:
what the command receives, and what the user reads, are the same.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
from pathlib import Path
from typing import Annotated
if sys.argv[1] == "shortcut":
    import monitor.cli.app  # installs it, as the entry point does
import typer
from typer.testing import CliRunner

seen = {}
probe = typer.Typer()
results = []

@probe.command()
def command(
    limit: int = 100,
    ratio: float = 0.5,
    name: str = "all",
    maybe: Annotated[int | None, typer.Option()] = None,
    bounded: Annotated[int, typer.Option(min=1)] = 5,
    parsed: Annotated[int, typer.Option(parser=lambda text: int(text) * 2)] = 4,
    where: Annotated[Path | None, typer.Option()] = None,
    tags: Annotated[list[str] | None, typer.Option()] = None,
    loud: bool = False,
) -> None:
    seen.update({k: [type(v).__name__, str(v)] for k, v in locals().items()})

for args in json.loads(sys.argv[2]):
    seen.clear()
    result = CliRunner().invoke(probe, args)
    results.append({"code": result.exit_code, "output": result.output, "seen": dict(seen)})
print(json.dumps(results))
"""

ARGS = [
    [],
    ["--limit", "7", "--ratio", "2", "--name", "x", "--maybe", "3", "--bounded", "9"],
    ["--parsed", "21", "--where", "a/b", "--tags", "p", "--tags", "q", "--loud"],
    ["--limit", "many"],
    ["--maybe", "x"],
    ["--bounded", "0"],
    ["--ratio", "half"],
    ["--name"],
]


@pytest.fixture(scope="module")
def probed() -> dict[str, list[dict]]:
    """Every argument list of ARGS, run with the shortcut and without (a fresh interpreter each)."""
    found = {}
    for mode in ("shortcut", "plain"):
        out = subprocess.run(
            [sys.executable, "-c", PROBE, mode, json.dumps(ARGS)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        found[mode] = json.loads(out.stdout)
    return found


@pytest.mark.parametrize("index", range(len(ARGS)), ids=[" ".join(a) or "defaults" for a in ARGS])
def test_values_and_errors_are_typers_own(probed, index):
    assert probed["shortcut"][index] == probed["plain"][index]


def test_defaults_arrive_as_declared(probed):
    seen = probed["shortcut"][0]["seen"]
    assert seen["limit"] == ["int", "100"] and seen["ratio"] == ["float", "0.5"]
    assert seen["name"] == ["str", "all"] and seen["maybe"] == ["NoneType", "None"]
    assert seen["bounded"] == ["int", "5"] and seen["where"] == ["NoneType", "None"]


def test_bad_values_are_refused_naming_the_option(probed):
    for args, result in zip(ARGS[3:7], probed["shortcut"][3:7], strict=True):
        assert result["code"] == 2 and not result["seen"]
        assert "Invalid value" in result["output"] and f"'{args[0]}'" in result["output"]


def test_the_cli_keeps_its_checks():
    """A bound (`alerts list --limit`, min 1) and a choice (`flags list --status`) still hold."""
    result = CliRunner().invoke(app, ["alerts", "list", "--limit", "0"])
    assert result.exit_code == 2 and "'--limit'" in result.output
    result = CliRunner().invoke(app, ["flags", "list", "--status", "bogus"])
    assert result.exit_code == 2 and "'--status'" in result.output
    result = CliRunner().invoke(app, ["flags", "list", "--limit", "ten"])
    assert result.exit_code == 2 and "'--limit'" in result.output
