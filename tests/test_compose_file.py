"""compose.yaml: PostgreSQL, a migration, two workers (which only queue alerts), the alert
sender and the web desk; every `monitor` command in it exists with the options it is given, and Docker Compose
(`docker compose`, or the standalone `docker-compose`) accepts the file where it is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from monitor.cli import app

COMPOSE = Path(__file__).resolve().parents[1] / "compose.yaml"
REQUIRE_ENV = "MONITOR_TEST_REQUIRE_COMPOSE"  # "1": a missing Docker Compose fails the test


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


def test_one_sender_delivers_what_the_workers_queue() -> None:
    services = _services()
    senders = {n: s for n, s in services.items() if s.get("command", [])[1:3] == ["alerts", "send"]}
    assert list(senders) == ["alerts"]
    for name in ("worker-1", "worker-2"):
        assert "--no-alerts" in services[name]["command"], name
    sender, worker = services["alerts"], services["worker-1"]
    # The same outbox, routes (channels.yaml) and photos to attach as the workers.
    assert sender["environment"] == worker["environment"]
    assert sender["volumes"] == worker["volumes"]
    assert sender["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}


def test_the_desk_serves_the_same_archive_and_media_as_the_workers() -> None:
    services = _services()
    desk = services["desk"]
    assert desk["command"][:2] == ["monitor", "web"]
    assert desk["command"][desk["command"].index("--host") + 1] == "0.0.0.0"
    port = desk["command"][desk["command"].index("--port") + 1]
    assert desk["ports"] == [f"127.0.0.1:{port}:{port}"]  # published on loopback only
    worker = services["worker-1"]
    for name in ("MONITOR_DATABASE_URL", "MONITOR_MEDIA_URL"):
        assert desk["environment"][name] == worker["environment"][name]
    assert desk["volumes"] == worker["volumes"]
    assert desk["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}


@pytest.mark.parametrize("service", sorted(_services()))
def test_every_monitor_command_in_compose_exists_with_its_options(service: str) -> None:
    command = _services()[service].get("command")
    if not command or command[0] != "monitor":
        pytest.skip(f"{service} runs no monitor command")
    result = CliRunner().invoke(app, [*command[1:], "--help"])
    assert result.exit_code == 0, result.output


def _compose_command() -> list[str] | None:
    """``docker compose`` (the plugin), else ``docker-compose`` (standalone), else None."""
    for docker in {shutil.which("docker"), "/usr/bin/docker"} - {None}:
        if Path(str(docker)).is_file():
            probe = subprocess.run(
                [str(docker), "compose", "version"], capture_output=True, check=False
            )
            if probe.returncode == 0:
                return [str(docker), "compose"]
    standalone = shutil.which("docker-compose")
    return [standalone] if standalone else None


def test_docker_compose_accepts_the_file(tmp_path: Path) -> None:
    compose = _compose_command()
    if compose is None:
        message = "neither `docker compose` nor `docker-compose` is installed here"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(message)
        pytest.skip(message)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    base = [*compose, "--project-directory", str(COMPOSE.parent), "-f", str(COMPOSE)]

    done = subprocess.run(
        [*base, "config"],
        capture_output=True,
        text=True,
        env={**env, "POSTGRES_PASSWORD": "example"},
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    resolved = yaml.safe_load(done.stdout)["services"]
    assert {"db", "migrate", "worker-1", "worker-2", "alerts", "desk"} <= set(resolved)
    assert resolved["alerts"]["command"] == ["monitor", "alerts", "send"]
    assert resolved["worker-2"]["environment"]["MONITOR_DATABASE_URL"] == (
        "postgresql+asyncpg://monitor:example@db/monitor"
    )

    # The database password is required: compose refuses the file without it, naming it.
    refused = subprocess.run(
        [*base, "config", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert refused.returncode != 0
    assert "POSTGRES_PASSWORD" in refused.stderr
