"""A running `monitor run` (a real process, against the simulated Telegram on loopback TCP)
starts collecting a channel added by `monitor channels add`, without a restart, and stops
collecting one `monitor channels disable` turns off."""

from __future__ import annotations

from pathlib import Path

from tests.daemon.conftest import Env, channels_yaml, until

LEASE = "MONITOR_WORKER_LEASE"


async def test_added_channel_is_collected_without_restart(
    sim, daemons, open_db, db_url: str, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 2)
    beta = sim.channel("beta_sim", 3, joined=True)
    # On PostgreSQL the daemon is a worker that takes a new channel's lease at its next
    # heartbeat (a third of the lease): a short lease keeps that wait short.
    env = Env(tmp_path, database_url=db_url, server=sim.address, extra={LEASE: "6"})
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(
        lambda: db.has_posts(sim.message_keys(alpha)), "the first channel", context=daemon.log_tail
    )
    assert not set(await db.post_keys()) & sim.message_keys(beta)

    code, out, err = await env.monitor("channels", "add", "@beta_sim", "--label", "Beta")
    assert code == 0, err
    await until(
        lambda: db.has_posts(sim.message_keys(beta)), "the added channel", context=daemon.log_tail
    )
    assert daemon.proc.returncode is None  # the same process: no restart
    assert len(daemon.named("monitor_started")) == 1

    # Disabled from the CLI: the daemon drops the channel's jobs; a later post is not fetched.
    reloads = len(daemon.named("watchlist_reloaded"))
    unscheduled = len(daemon.named("channel_unscheduled"))
    code, out, err = await env.monitor("channels", "disable", "@beta_sim")
    assert code == 0, err
    await daemon.wait_for_event("watchlist_reloaded", count=reloads + 1)
    await daemon.wait_for_event("channel_unscheduled", count=unscheduled + 1)
    assert await daemon.stop() == 0
