"""``monitor demo --serve`` starts the review desk beside the live scenario and prints its
address; a newcomer logs in with the one-time ``demo`` account and sees the queue."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.web.site import ROOT, free_port

pytestmark = pytest.mark.slow


def _read_until(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    seen = ""
    selector = selectors.DefaultSelector()
    assert process.stdout is not None
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0 and process.poll() is None, f"no {marker!r} in:\n{seen}"
        if selector.select(timeout=left):
            seen += process.stdout.readline()
    return seen


def test_demo_serve_prints_the_desks_address_and_the_demo_account_logs_in(tmp_path: Path):
    port = free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "MONITOR_DATA_DIR": str(data),
        "MONITOR_CHANNELS_FILE": str(ROOT / "channels.yaml"),
        "COLUMNS": "200",
    }
    env.pop("MONITOR_DATABASE_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from monitor.cli import main; main()",
            "demo",
            "--serve",
            "--web-port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = _read_until(process, "log in as demo", timeout=90)
        assert f"Review desk: http://127.0.0.1:{port}/" in output
        secret = data / "desk-demo-password.txt"
        assert secret.stat().st_mode & 0o777 == 0o600
        password = secret.read_text(encoding="utf-8").strip()
        assert password not in output  # the password is in the file, not on the screen
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as http:
            deadline = time.monotonic() + 20
            while True:
                try:
                    if http.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the desk did not answer within 20 s"
                time.sleep(0.2)
            login = http.get("/login")
            marker = 'name="csrf-token" content="'
            token = login.text.split(marker, 1)[1].split('"', 1)[0]
            answer = http.post(
                "/login", data={"csrf_token": token, "name": "demo", "password": password}
            )
            assert answer.status_code == 303
            queue = http.get("/queue")
            assert queue.status_code == 200 and "demo · admin" in queue.text
            assert queue.text.count('class="flag status-new') > 20
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.stdout is not None
        rest = process.stdout.read()
        process.stdout.close()
    assert process.returncode == 0, rest
