"""Watchlist reloads in a running daemon: on save (file watch), on SIGHUP, and a broken file."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from sqlalchemy import text

from tests.daemon.conftest import Env, channels_yaml, until

INCLUDED_ENTITY = """\
entities:
  - id: hezbollah
    name: Hezbollah
    kind: organization
    aliases: ["Hezbollah"]
"""

BROKEN = """\
defaults:
  poll_every: 10s
channels:
  - handle: "@alpha_sim"
    poll_every: 1s
"""


async def test_reloads_on_save_and_on_sighup_and_keeps_the_last_good_watchlist(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 2)
    beta = sim.channel("beta_sim", 2)
    gamma = sim.channel("gamma_sim", 3)
    env = Env(tmp_path, server=sim.address)
    (tmp_path / "entities").mkdir()
    env.channels_file.write_text(channels_yaml("alpha_sim", "beta_sim"))
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(
        lambda: db.has_posts(sim.message_keys(alpha, beta)),
        "the first two channels",
        context=daemon.log_tail,
    )
    assert not set(await db.post_keys()) & sim.message_keys(gamma)

    # 1. Saving channels.yaml with a third channel: collected without a restart. Saved the way
    # many editors do, by renaming a new file over the old one.
    saved = tmp_path / ".channels.yaml.swp"
    saved.write_text(
        channels_yaml("alpha_sim", "beta_sim", "gamma_sim") + "include: [entities/*.yaml]\n"
    )
    os.replace(saved, env.channels_file)
    await until(
        lambda: db.has_posts(sim.message_keys(gamma)), "the added channel", context=daemon.log_tail
    )
    reloads = len(daemon.named("watchlist_reloaded"))
    assert reloads >= 1

    # 2. SIGHUP: an included entity file (not channels.yaml itself, so no file event) takes
    # effect on the signal: the new entity flags the next post.
    (tmp_path / "entities" / "extra.yaml").write_text(INCLUDED_ENTITY)
    daemon.send(signal.SIGHUP)
    await daemon.wait_for_event("watchlist_reloaded", count=reloads + 1)
    live = sim.backend.post(beta.id, "Hezbollah statement on the border incident.")
    await until(
        lambda: db.has_flag((beta.id, live.id, "hezbollah")),
        "the SIGHUP-loaded entity's flag",
        context=daemon.log_tail,
    )

    # 3. A broken file: reported with file:line, and the daemon goes on with the last good one.
    env.channels_file.write_text(BROKEN)
    failed = await daemon.wait_for_event("watchlist_reload_failed")
    assert f"{env.channels_file}:5" in failed["error"], failed
    late = sim.backend.post(gamma.id, "Cui Wei and Hezbollah, in one sentence.")
    await until(
        lambda: db.has_posts({(gamma.id, late.id)}),
        "a post in a channel of the last good watchlist",
        context=daemon.log_tail,
    )
    await until(
        lambda: db.has_flag((gamma.id, late.id, "hezbollah")), "its flag", context=daemon.log_tail
    )

    assert await daemon.stop() == 0, daemon.log_tail()
    assert "Traceback" not in "\n".join(daemon.lines)
    assert daemon.proc.returncode == 0
    assert f"{reloads + 1} watchlist reloads" in daemon.stdout
    assert sorted(await db.post_keys()) == sorted(sim.message_keys(alpha, beta, gamma))


async def test_a_reload_that_fails_in_the_database_does_not_end_reloading(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 2)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(lambda: db.has_posts(sim.message_keys(alpha)), "the posts", context=daemon.log_tail)

    # The database fails the reload (the entity table is briefly gone)...
    async with db.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE entity RENAME TO entity_away"))
    daemon.send(signal.SIGHUP)
    failed = await daemon.wait_for_event("watchlist_reload_failed")
    assert "entity" in failed["error"], failed
    async with db.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE entity_away RENAME TO entity"))
    # ...and the next reload works: the new entity flags the next post.
    env.channels_file.write_text(channels_yaml("alpha_sim").replace("Cui Wei", "Cui Wei Ming"))
    await daemon.wait_for_event("watchlist_reloaded")
    live = sim.backend.post(alpha.id, "Cui Wei Ming arrived.")
    await until(
        lambda: db.has_flag((alpha.id, live.id, "cui-wei")), "the flag", context=daemon.log_tail
    )
    assert await daemon.stop() == 0, daemon.log_tail()


async def test_saving_an_included_entities_file_reloads_without_a_signal(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 1)
    env = Env(tmp_path, server=sim.address)
    (tmp_path / "entities").mkdir()
    (tmp_path / "entities" / "extra.yaml").write_text("entities: []\n")
    env.channels_file.write_text(channels_yaml("alpha_sim") + "include: [entities/*.yaml]\n")
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(
        lambda: db.has_posts(sim.message_keys(alpha)), "the channel", context=daemon.log_tail
    )

    (tmp_path / "entities" / "extra.yaml").write_text(INCLUDED_ENTITY)
    await daemon.wait_for_event("watchlist_reloaded")
    live = sim.backend.post(alpha.id, "Hezbollah statement on the border incident.")
    await until(
        lambda: db.has_flag((alpha.id, live.id, "hezbollah")),
        "the flag of the entity added in the included file",
        context=daemon.log_tail,
    )
    assert await daemon.stop() == 0, daemon.log_tail()
