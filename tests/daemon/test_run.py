"""`monitor run` as a real process: collects, flags live posts, stops cleanly on SIGTERM, and
refuses to start (one clear line, no traceback) when something is missing."""

from __future__ import annotations

import io
import re
import signal
from pathlib import Path

import pytest

from tests.daemon.conftest import Env, channels_yaml, until


async def test_daemon_collects_flags_live_posts_and_stops_cleanly_on_sigterm(
    sim, daemons, open_db, db_url: str, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 4)
    beta = sim.channel("beta_sim", 3)
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim", "beta_sim"))
    code, _, err = await env.monitor("db", "upgrade")
    assert code == 0, err
    db = open_db(env.url)

    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(
        lambda: db.has_posts(sim.message_keys(alpha, beta)),
        "the posts of both channels",
        context=daemon.log_tail,
    )
    # A post arriving while the daemon runs is stored and flagged.
    live = sim.backend.post(alpha.id, "Ambassador Cui Wei visited the port of Umm Qasr today.")
    await until(
        lambda: db.has_posts({(alpha.id, live.id)}), "the live post", context=daemon.log_tail
    )
    await until(
        lambda: db.has_flag((alpha.id, live.id, "cui-wei")),
        "the live post's flag",
        context=daemon.log_tail,
    )

    code = await daemon.stop(signal.SIGTERM)

    assert code == 0, daemon.log_tail()
    assert "Traceback" not in "\n".join(daemon.lines)
    # One line, whatever the width of the (non-terminal) output.
    summary = [line for line in daemon.stdout.splitlines() if line.startswith("stopped after")]
    assert len(summary) == 1, daemon.stdout
    polls = re.fullmatch(
        r"stopped after \d+s: (\d+) polls, (\d+) new posts, .* reloads", summary[0]
    )
    assert polls is not None, daemon.stdout
    assert int(polls[1]) >= 2 and int(polls[2]) == 8  # 4 + 3 history posts + the live one
    # Nothing half-done: exactly the simulator's posts, each once.
    stored = await db.post_keys()
    assert sorted(stored) == sorted(sim.message_keys(alpha, beta))
    assert await db.flags() == {(alpha.id, live.id, "cui-wei")}


async def test_run_without_telegram_credentials_names_the_variables_and_the_demo(
    tmp_path: Path,
) -> None:
    env = Env(tmp_path)
    env.channels_file.write_text(channels_yaml("alpha_sim"))

    code, out, err = await env.monitor("run")

    assert code != 0
    output = out + err
    assert "MONITOR_TELEGRAM_API_ID" in output and "MONITOR_TELEGRAM_API_HASH" in output
    assert "monitor demo" in output
    assert "Traceback" not in output


async def test_run_on_a_database_never_migrated_asks_for_db_upgrade(
    sim, db_url: str, backend: str, tmp_path: Path
) -> None:
    if backend == "sqlite":
        pytest.skip("a brand-new SQLite archive is created: see tests/daemon/test_fresh_archive.py")
    sim.channel("alpha_sim", 2)
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))

    code, out, err = await env.monitor("run")

    assert code != 0
    assert "monitor db upgrade" in out + err
    assert "Traceback" not in out + err
    assert sim.backend.requests.count() == 0  # stopped before talking to Telegram


@pytest.mark.parametrize(
    ("configured", "on_disk"),
    [
        (None, "data/telegram.session"),
        # Telethon adds ".session" to a name without it: the check must look at that file.
        ("desk", "desk.session"),
    ],
)
async def test_run_refuses_a_session_file_others_can_read(
    open_db, tmp_path: Path, configured: str | None, on_disk: str
) -> None:
    extra = {"MONITOR_TELEGRAM_API_ID": "12345", "MONITOR_TELEGRAM_API_HASH": "0" * 32}
    if configured:
        extra["MONITOR_SESSION_FILE"] = str(tmp_path / configured)
    env = Env(tmp_path, extra=extra)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    await open_db(env.url).upgrade()
    session = tmp_path / on_disk
    session.write_bytes(b"")
    session.chmod(0o644)

    code, out, err = await env.monitor("run")

    assert code != 0
    assert f"chmod 600 {session}" in out + err
    assert "Traceback" not in out + err
    # Refused before any network: the loopback guard would have reported a refused connection.
    assert "network guard" not in out + err and "cannot connect" not in out + err
    assert session.stat().st_mode & 0o777 == 0o644  # left as it was, for the user to decide


async def test_sigterm_mid_pass_commits_whole_batches_and_a_restart_resumes(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    big = sim.channel("big_sim", 450, joined=False)
    # Every history page takes a moment, so SIGTERM lands while the pass is still fetching.
    sim.backend.faults.slow("GetHistoryRequest", 0.3)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("big_sim"))
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)

    async def some_stored() -> bool:
        return len(await db.post_keys()) > 0

    await until(some_stored, "the first batch", context=daemon.log_tail)
    code = await daemon.stop(signal.SIGTERM)

    assert code == 0, daemon.log_tail()
    stored = await db.post_keys()
    assert len(stored) % 100 == 0 or len(stored) == 450  # whole batches only
    summary = re.search(r"(\d+) new posts", daemon.stdout)
    assert summary is not None, daemon.stdout
    assert int(summary[1]) == len(stored)  # the summary accounts for every committed batch

    sim.backend.faults.clear()
    again = await env.start_daemon()
    daemons.append(again)
    await until(
        lambda: db.has_posts(sim.message_keys(big)),
        "the rest after restart",
        context=again.log_tail,
    )
    assert await again.stop() == 0, again.log_tail()
    assert sorted(await db.post_keys()) == sorted(sim.message_keys(big))


async def test_a_post_pushed_while_its_channel_is_being_polled_is_not_left_for_the_next_poll(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 1)
    env = Env(tmp_path, server=sim.address)
    # Polls are far apart: only the pushed updates can bring these posts in within the wait.
    env.channels_file.write_text(channels_yaml("alpha_sim", poll_every="1h"))
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(lambda: db.has_posts(sim.message_keys(alpha)), "the first post")
    await until(lambda: sim.backend.requests.count("GetHistoryRequest") > 0, "the first poll")
    # The photo download of the next post takes a while; a second post arrives meanwhile.
    sim.backend.faults.slow("GetFileRequest", 1.0)
    photo = sim.backend.post(alpha.id, "with a photo", photo=_jpeg())
    await until(
        lambda: sim.backend.requests.count("GetFileRequest") > 0,
        "the pass downloading the photo",
        context=daemon.log_tail,
    )
    text_post = sim.backend.post(alpha.id, "pushed during that pass")

    await until(
        lambda: db.has_posts({(alpha.id, photo.id), (alpha.id, text_post.id)}),
        "both pushed posts",
        context=daemon.log_tail,
    )
    assert await daemon.stop() == 0, daemon.log_tail()


def _jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(buffer, "JPEG")
    return buffer.getvalue()
