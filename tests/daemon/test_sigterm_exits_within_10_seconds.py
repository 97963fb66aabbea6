"""SIGTERM stops `monitor run` within the 10 s the README promises, whatever is in flight, and a
cancelled pass is not an error (no ERROR line, no traceback)."""

from __future__ import annotations

import io
import os
import signal
import time
from pathlib import Path

from tests.daemon.conftest import Env, channels_yaml, until

PROMISED = 10.0  # seconds, from the README: "exits within 10 s"


def _jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


async def test_sigterm_during_a_stalled_photo_download_exits_within_10_seconds_cleanly(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 2, joined=False)
    sim.backend.post(alpha.id, "a photo that never finishes downloading", photo=_jpeg())
    # Telegram stops answering file requests: the download hangs until cancelled.
    sim.backend.faults.slow("GetFileRequest", 300)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    await open_db(env.url).upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    # The request log records answers, so the stalled download never shows there: once history
    # has been answered, the pass is on its way into the download, which SIGTERM must cut short
    # whenever it lands.
    await until(
        lambda: sim.backend.requests.count("GetHistoryRequest") > 0,
        "the first history page",
        context=daemon.log_tail,
    )

    sent = time.monotonic()
    code = await daemon.stop(signal.SIGTERM)
    took = time.monotonic() - sent

    assert code == 0, daemon.log_tail()
    assert took < PROMISED, f"exited {took:.1f}s after SIGTERM\n{daemon.log_tail()}"
    output = "\n".join(daemon.lines) + daemon.stdout
    assert "Traceback" not in output, daemon.log_tail()
    assert not [e for e in daemon.events if e.get("level") in ("error", "critical")], output
    assert "stopped after" in daemon.stdout


async def test_sigterm_during_a_reload_that_never_finishes_reading_exits_within_10_seconds(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    sim.channel("alpha_sim", 2, joined=False)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    await open_db(env.url).upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await daemon.wait_for_event("monitor_started")
    # channels.yaml becomes a pipe nobody ever writes to: the reload's read blocks in its
    # thread for good, as reading a huge watchlist would for a long while.
    env.channels_file.unlink()
    os.mkfifo(env.channels_file)
    daemon.send(signal.SIGHUP)
    await until(
        lambda: sim.backend.requests.count("GetHistoryRequest") > 0,
        "the first poll",
        context=daemon.log_tail,
    )

    sent = time.monotonic()
    code = await daemon.stop(signal.SIGTERM)
    took = time.monotonic() - sent

    assert code == 0, daemon.log_tail()
    assert took < PROMISED, f"exited {took:.1f}s after SIGTERM\n{daemon.log_tail()}"
    assert "Traceback" not in "\n".join(daemon.lines), daemon.log_tail()
    assert "stopped after" in daemon.stdout
