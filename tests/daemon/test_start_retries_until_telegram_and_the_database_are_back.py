"""`monitor run` started while Telegram is unreachable or SQLite is locked keeps trying, with
back-off and one log line per attempt, and starts once they are back (no exit, no traceback)."""

from __future__ import annotations

import signal
import socket
import sqlite3
from pathlib import Path

from monitor.simulator import Backend, SimulatorServer
from tests.daemon.conftest import Env, channels_yaml, until


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_run_waits_for_telegram_to_become_reachable(daemons, open_db, tmp_path: Path) -> None:
    port = _free_port()  # nothing listens here yet
    env = Env(tmp_path, server=f"127.0.0.1:{port}")
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)

    failed = await daemon.wait_for_event("start_failed")
    assert failed["what"] == "Telegram unreachable"
    assert failed["attempt"] == 1 and failed["retry_in"] and failed["retry_at"]
    assert daemon.proc.returncode is None  # still there, waiting

    async with SimulatorServer(Backend(seed=11), port=port) as server:
        channel = server.backend.add_channel("alpha_sim", "Alpha")
        posts = {(channel.id, server.backend.post(channel.id, f"post {i}").id) for i in range(3)}
        await daemon.wait_for_event("monitor_started")
        await until(lambda: db.has_posts(posts), "the posts once Telegram is back")
        code = await daemon.stop(signal.SIGTERM)

    assert code == 0, daemon.log_tail()
    attempts = [e["attempt"] for e in daemon.named("start_failed")]
    assert attempts == list(range(1, len(attempts) + 1))  # one line per attempt
    assert "Traceback" not in "\n".join(daemon.lines), daemon.log_tail()


async def test_run_waits_for_a_locked_sqlite_database(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 3, joined=False)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    db = open_db(env.url)
    await db.upgrade()
    # Another program holds the database: every write waits out the busy timeout and fails.
    holder = sqlite3.connect(env.data_dir / "monitor.db", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        daemon = await env.start_daemon()
        daemons.append(daemon)
        failed = await daemon.wait_for_event("start_failed")
        assert failed["what"] == "database locked or unavailable"
        assert "locked" in failed["error"]
        assert daemon.proc.returncode is None
    finally:
        holder.rollback()
        holder.close()

    await daemon.wait_for_event("monitor_started")
    await until(lambda: db.has_posts(sim.message_keys(alpha)), "the posts once unlocked")
    code = await daemon.stop(signal.SIGTERM)

    assert code == 0, daemon.log_tail()
    assert "Traceback" not in "\n".join(daemon.lines), daemon.log_tail()


async def test_sigterm_while_waiting_for_telegram_stops_cleanly_within_10_seconds(
    daemons, open_db, tmp_path: Path
) -> None:
    import time

    env = Env(tmp_path, server=f"127.0.0.1:{_free_port()}")
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    await open_db(env.url).upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await daemon.wait_for_event("start_failed")

    sent = time.monotonic()
    code = await daemon.stop(signal.SIGTERM)

    assert time.monotonic() - sent < 10.0  # the README's promise holds here too
    assert code == 0, daemon.log_tail()
    assert "stopped after" in daemon.stdout
    assert "Traceback" not in "\n".join(daemon.lines), daemon.log_tail()
