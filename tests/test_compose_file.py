"""compose.yaml: PostgreSQL, a migration, two workers; every `monitor` command in it exists
with the options it is given, and `docker compose config` accepts the file where Docker is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from monitor.cli import app

COMPOSE = Path(__file__).resolve().parents[1] / "compose.yaml"


def _services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_two_workers_with_their_own_names_on_one_postgresql() -> None:
    services = _services()
    workers = {name: s for name, s in services.items() if s.get("command", [])[1:2] == ["run"]}
    assert sorted(workers) == ["worker-1", "worker-2"]
    names = {s["command"][s["command"].index("--worker") + 1] for s in workers.values()}
    assert names == {"worker-1", "worker-2"}
    urls = {s["environment"]["MONITOR_DATABASE_URL"] for s in workers.values()}
    assert len(urls) == 1 and next(iter(urls)).startswith("postgresql+asyncpg://")
    assert services["db"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] == ["monitor", "db", "upgrade"]


@pytest.mark.parametrize("service", sorted(_services()))
def test_every_monitor_command_in_compose_exists_with_its_options(service: str) -> None:
    command = _services()[service].get("command")
    if not command or command[0] != "monitor":
        pytest.skip(f"{service} runs no monitor command")
    result = CliRunner().invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, result.output


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("Docker is not installed here")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("`docker compose` is not available here")
    done = subprocess.run(
        [docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        env={"POSTGRES_PASSWORD": "example", "PATH": "/usr/bin:/bin:/usr/local/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
