"""A reload in a running daemon is all or nothing: a hostile file or an unusable alert URL is
refused with its place, and the daemon goes on with the last good watchlist."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.daemon.conftest import Env, channels_yaml, until

NEW_ENTITY = """\
  - id: hezbollah
    name: Hezbollah
    kind: organization
    aliases: ["Hezbollah"]
"""


def billion_laughs() -> str:
    lines = ["x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"x-{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
    return "\n".join(lines) + "\nentities:\n  - {id: x, name: X, aliases: *i}\n"


def with_route(url: str) -> str:
    return (
        channels_yaml("alpha_sim")
        + NEW_ENTITY
        + f'alerts:\n  routes:\n    - name: desk\n      url: "{url}"\n'
    )


async def test_hostile_yaml_saved_while_running_is_refused_and_polling_goes_on(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 1)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(lambda: db.has_posts(sim.message_keys(alpha)), "the posts", context=daemon.log_tail)

    hostile = {
        "billion laughs": (billion_laughs(), "expand to more than"),
        "deep nesting": ("entities: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than"),
        "huge file": ("# padding\n" * 1_800_000, "MiB limit"),
    }
    for count, (what, (text, says)) in enumerate(hostile.items(), start=1):
        saved = tmp_path / ".channels.yaml.new"  # renamed over it whole, as editors save
        saved.write_text(text)
        os.replace(saved, env.channels_file)
        failed = await daemon.wait_for_event("watchlist_reload_failed", count=count)
        assert f"{env.channels_file}:" in failed["error"] and says in failed["error"], (
            what,
            failed,
        )
        live = sim.backend.post(alpha.id, f"After the {what}: Cui Wei spoke.")
        await until(
            lambda live=live: db.has_flag((alpha.id, live.id, "cui-wei")),
            f"a post flagged by the last good watchlist after the {what}",
            context=daemon.log_tail,
        )
    assert await daemon.stop(signal.SIGTERM) == 0, daemon.log_tail()
    assert "Traceback" not in "\n".join(daemon.lines)


async def test_a_reload_with_an_unusable_alert_url_changes_nothing_until_fixed(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 1)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(lambda: db.has_posts(sim.message_keys(alpha)), "the posts", context=daemon.log_tail)

    # A new entity and a route Apprise cannot use: refused whole, the entity included.
    env.channels_file.write_text(with_route("nosuchscheme://desk.example/hook"))
    failed = await daemon.wait_for_event("watchlist_reload_failed")
    assert "not a usable" in failed["error"], failed
    before = sim.backend.post(alpha.id, "Hezbollah and Cui Wei, in one sentence.")
    await until(
        lambda: db.has_flag((alpha.id, before.id, "cui-wei")),
        "the post, flagged by the old watchlist",
        context=daemon.log_tail,
    )
    assert not await db.has_flag((alpha.id, before.id, "hezbollah"))

    # The URL fixed: the whole watchlist takes over.
    env.channels_file.write_text(with_route(f"jsonl://{tmp_path / 'alerts.jsonl'}"))
    await daemon.wait_for_event("watchlist_reloaded")
    after = sim.backend.post(alpha.id, "Hezbollah statement on the border incident.")
    await until(
        lambda: db.has_flag((alpha.id, after.id, "hezbollah")),
        "the new entity's flag",
        context=daemon.log_tail,
    )
    alerts = tmp_path / "alerts.jsonl"  # and the new route carries its alert
    await until(
        lambda: alerts.exists() and "border incident" in alerts.read_text(encoding="utf-8"),
        "the alert on the new route",
        context=daemon.log_tail,
    )
    assert await daemon.stop() == 0, daemon.log_tail()
