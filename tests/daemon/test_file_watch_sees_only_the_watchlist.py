"""The file watch reacts to channels.yaml (and its includes) only: a log file written next to it
costs nothing, a save of channels.yaml reloads once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.daemon.conftest import Env, channels_yaml


def _watch_lines(lines: list[str]) -> list[str]:
    """The file watcher's own log lines ("3 changes detected")."""
    return [line for line in lines if "detected" in line and "change" in line]


async def test_a_log_file_next_to_channels_yaml_triggers_nothing_and_a_save_reloads_once(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    sim.channel("alpha_sim", 1, joined=False)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    await open_db(env.url).upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await daemon.wait_for_event("monitor_started")
    log_file = tmp_path / "monitor.log"

    async def write_log(times: int) -> None:
        for i in range(times):
            with log_file.open("a") as f:
                f.write(f"line {i}\n")
            await asyncio.sleep(0.02)  # spread over several of the watcher's 300 ms batches

    await write_log(100)
    assert _watch_lines(daemon.lines) == [], daemon.log_tail()
    assert daemon.named("watchlist_reloaded") == []

    env.channels_file.write_text(channels_yaml("alpha_sim", poll_every="20s"))
    await daemon.wait_for_event("watchlist_reloaded")
    await write_log(50)
    code = await daemon.stop(signal.SIGTERM)

    assert code == 0, daemon.log_tail()
    assert len(daemon.named("watchlist_reloaded")) == 1, daemon.log_tail()
    assert "1 watchlist reloads" in daemon.stdout
    assert len(_watch_lines(daemon.lines)) == 1, daemon.log_tail()  # the save, and only it
