"""The loopback TCP server: separate client processes share one simulated Telegram."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from monitor.simulator import Backend, SimChannel, SimulatorServer, tcp_client
from tests.simulator.conftest import fill, make_jpeg

REPO = Path(__file__).resolve().parents[2]
WAIT = 30  # guard against hanging only

WORKER = r"""
import asyncio, hashlib, json, os, socket, sys

real_connect = socket.socket.connect
def guarded(self, address):
    if address[0] not in ("127.0.0.1", "::1"):
        raise ConnectionRefusedError(f"worker network guard: {address!r}")
    return real_connect(self, address)
socket.socket.connect = guarded

from monitor.simulator import tcp_client

async def main():
    client = tcp_client(os.environ["MONITOR_TELEGRAM_SERVER"], account=sys.argv[1])
    await client.connect()
    me = await client.get_me()
    first = await client.get_messages("militia_media", limit=1)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # wait for "go"
    ids = [m.id async for m in client.iter_messages("militia_media", limit=None, wait_time=0)]
    photo = await client.download_media(first[0], file=bytes)
    print(json.dumps({"me": me.first_name, "ids": len(ids), "sha": hashlib.sha256(photo).hexdigest()}), flush=True)
    await client.disconnect()

asyncio.run(main())
"""


def _env(address: str) -> dict[str, str]:
    return os.environ | {"MONITOR_TELEGRAM_SERVER": address, "PYTHONPATH": str(REPO)}


async def test_tcp_server_serves_two_client_processes_at_once(
    backend: Backend, channel: SimChannel, tmp_path: Path
) -> None:
    import hashlib

    fill(backend, channel, 149)
    jpeg = make_jpeg(900, 600, seed=4, noise=True)
    backend.post(channel.id, "latest with photo", photo=jpeg)
    backend.add_account("worker1")
    backend.add_account("worker2")
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    async with SimulatorServer(backend) as server:
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                str(script),
                name,
                env=_env(server.address),
                cwd=tmp_path,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            for name in ("worker1", "worker2")
        ]
        for proc in procs:  # both connected and answered before either goes on
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), WAIT)
            assert line.strip() == b"ready"
        assert backend.requests.connections == {"worker1": 1, "worker2": 1}
        outputs = []
        for proc in procs:
            out, _ = await asyncio.wait_for(proc.communicate(b"go\n"), WAIT)
            assert proc.returncode == 0
            outputs.append(json.loads(out.decode().strip().splitlines()[-1]))
    sha = hashlib.sha256(jpeg).hexdigest()
    assert outputs == [
        {"me": "Worker1", "ids": 150, "sha": sha},
        {"me": "Worker2", "ids": 150, "sha": sha},
    ]
    assert backend.requests.count("GetHistoryRequest", account="worker1") == 3
    assert backend.requests.count("GetHistoryRequest", account="worker2") == 3


async def test_tcp_client_in_process(backend: Backend, channel: SimChannel) -> None:
    fill(backend, channel, 3)
    async with SimulatorServer(backend) as server:
        client = tcp_client(server.address)
        await client.connect()
        try:
            assert [m.id for m in await client.get_messages("militia_media", limit=3)] == [3, 2, 1]
        finally:
            await client.disconnect()


async def test_cli_serve_runs_until_interrupted_and_logs_requests(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from monitor.cli import main; main()",
        "simulator",
        "serve",
        "--port",
        "0",
        "--account",
        "extra",
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(REPO), "MONITOR_DATA_DIR": str(tmp_path)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    banner = (await asyncio.wait_for(proc.stdout.readline(), WAIT)).decode()
    assert "MONITOR_TELEGRAM_SERVER=" in banner, banner + (await proc.stderr.read(2000)).decode()
    address = banner.split("MONITOR_TELEGRAM_SERVER=")[1].split(")")[0]
    client = tcp_client(address, account="extra")
    await client.connect()
    me = await client.get_me()
    await client.disconnect()
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), WAIT)
    assert me.first_name == "Extra"
    assert proc.returncode == 0
    log = err.decode()
    assert "GetUsersRequest" in log and "simulator_stopped" in log


PLAIN_TELETHON = r"""
import asyncio, json, sys
from telethon import TelegramClient

async def main():
    client = TelegramClient(sys.argv[1], 12345, "anything")  # no custom connection class
    await client.connect()
    assert await client.is_user_authorized()
    ids = [m.id async for m in client.iter_messages(sys.argv[2], limit=None, wait_time=0)]
    print(json.dumps({"n": len(ids), "newest": ids[0]}), flush=True)
    await client.disconnect()

asyncio.run(main())
"""


SCENARIO = """
synthetic: true
seed: 3
channels:
  - {key: a, username: plain_sim, title: "Plain"}
timeline:
  - generate: a
    count: 250
    between: [2019-01-01T00:00:00Z, 2019-02-01T00:00:00Z]
    templates: ["post {n}"]
"""


async def test_cli_serve_writes_a_session_file_any_telethon_program_can_use(
    tmp_path: Path,
) -> None:
    session = tmp_path / "sim.session"
    (tmp_path / "plain.yaml").write_text(SCENARIO)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from monitor.cli import main; main()",
        "simulator",
        "serve",
        "--port",
        "0",
        "--scenario",
        str(tmp_path / "plain.yaml"),
        "--session-file",
        str(session),
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(REPO), "MONITOR_DATA_DIR": str(tmp_path)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        banner = (await asyncio.wait_for(proc.stdout.readline(), WAIT)).decode()
        assert "MONITOR_TELEGRAM_SERVER=" in banner, (
            banner + (await proc.stderr.read(2000)).decode()
        )
        assert session.stat().st_mode & 0o777 == 0o600
        script = tmp_path / "plain.py"
        script.write_text(WORKER.split("from monitor")[0] + PLAIN_TELETHON)  # same network guard
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            str(script),
            str(session),
            "plain_sim",
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(worker.communicate(), WAIT)
        assert worker.returncode == 0, err.decode()[-2000:]
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.communicate(), WAIT)
    assert json.loads(out.decode().strip().splitlines()[-1]) == {"n": 250, "newest": 250}


def test_session_file_is_rewritten_but_never_over_another_login(tmp_path: Path) -> None:
    import pytest
    from telethon.crypto import AuthKey
    from telethon.sessions import SQLiteSession

    from monitor.simulator import SimulatorError
    from monitor.simulator.clients import write_session_file

    first = write_session_file(tmp_path / "sim", host="127.0.0.1", port=1111)
    again = write_session_file(tmp_path / "sim", host="127.0.0.1", port=2222)
    assert first == again == tmp_path / "sim.session"
    session = SQLiteSession(str(again))
    assert (session.dc_id, session.server_address, session.port) == (2, "127.0.0.1", 2222)
    session.close()

    real = SQLiteSession(str(tmp_path / "real.session"))
    real.set_dc(2, "149.154.167.50", 443)
    real.auth_key = AuthKey(bytes(range(256)))
    real.save()
    real.close()
    (tmp_path / "notes.session").write_text("not a database")
    for name in ("real.session", "notes.session"):
        before = (tmp_path / name).read_bytes()
        with pytest.raises(SimulatorError, match="not overwriting"):
            write_session_file(tmp_path / name, host="127.0.0.1", port=1)
        assert (tmp_path / name).read_bytes() == before
