"""A channel that goes private and one that falls silent each give exactly one health alert and,
once back, exactly one "back to normal" alert, delivered to a loopback webhook by a running
`monitor run` (a real process against the simulated Telegram). The problems survive a restart
of the daemon without being alerted again, and `monitor status` shows them."""

from __future__ import annotations

import json
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.alerts.conftest import Receiver
from tests.daemon.conftest import Env, until

CHANNELS = """\
defaults:
  poll_every: 10s
  backfill: 100
channels:
  - handle: "@alpha_sim"
    label: Alpha desk
  - handle: "@beta_sim"
    label: Beta desk
    silent_after: 1h
entities:
  - id: cui-wei
    name: Cui Wei
    kind: person
    aliases: ["Cui Wei"]
alerts:
  routes:
    - name: desk
      url: "{url}"
      entities: [cui-wei]
      health: true
    - name: flags-only
      url: "{url2}"
"""


def health_alerts(receiver: Receiver, path: str = "/hook") -> list[tuple[str, str]]:
    """(title, idempotency key) of each health alert the webhook accepted, in order."""
    return [
        (r.body["title"], r.key)
        for r in receiver.accepted
        if r.path == path and ":health:" in r.key
    ]


async def test_private_and_silent_give_one_alert_and_one_recovery_each(
    sim, daemons, open_db, db_url: str, receiver: Receiver, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 3)
    beta = sim.channel("beta_sim", 3)
    sim.backend.silence(beta.id, since=datetime.now(UTC) - timedelta(hours=2))
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(
        CHANNELS.format(url=receiver.url("/hook"), url2=receiver.url("/flags"))
    )
    db = open_db(env.url)
    await db.upgrade()
    daemon = await env.start_daemon()
    daemons.append(daemon)

    # Silent: beta's newest post is two hours old, its silent_after one hour.
    await until(
        lambda: any("Beta" in t for t, _ in health_alerts(receiver)),
        "beta's silence alert",
        context=daemon.log_tail,
    )
    await until(lambda: db.has_posts(sim.message_keys(alpha)), "alpha's posts")
    # Private: Telegram answers CHANNEL_PRIVATE from now on; polls keep failing, one alert.
    sim.backend.make_private(alpha.id)
    await until(
        lambda: (
            len([e for e in daemon.named("channel_backoff") if e["channel"] == "alpha_sim"]) >= 2
        ),
        "two failed polls of alpha",
        context=daemon.log_tail,
    )
    await until(
        lambda: any("Alpha" in t for t, _ in health_alerts(receiver)),
        "alpha's private alert",
        context=daemon.log_tail,
    )
    assert [t for t, _ in health_alerts(receiver)] == [
        "Channel health: Beta desk fell silent",
        "Channel health: Alpha desk went private",
    ]
    code, out, err = await env.monitor("status", "--json")
    assert code == 0, err
    status = {row["channel"]: row for row in map(json.loads, out.splitlines())}
    assert status["alpha_sim"]["health"] == "private"
    assert status["beta_sim"]["health"] == "silent"
    assert "posted nothing for 2h" in status["beta_sim"]["health_detail"]
    assert status["alpha_sim"]["note"].startswith("health: private")

    # A restart: the open problems are known, not alerted again.
    assert await daemon.stop(signal.SIGTERM) == 0
    restarted = datetime.now(UTC)
    daemon = await env.start_daemon()
    daemons.append(daemon)
    await until(
        lambda: any(e["channel"] == "alpha_sim" for e in daemon.named("channel_backoff")),
        "a failed poll of alpha after the restart",
        context=daemon.log_tail,
    )
    await until(  # beta polled (and still silent) by the new process
        lambda: any(
            e.name == "GetHistoryRequest" and e.error is None and e.at > restarted
            for e in sim.backend.requests.entries
        ),
        "a poll of beta after the restart",
        context=daemon.log_tail,
    )
    assert len(health_alerts(receiver)) == 2

    # Back to normal: alpha public again, beta posts.
    sim.backend.make_public(alpha.id)
    sim.backend.post(beta.id, "beta is back with a bulletin")
    await until(
        lambda: len(health_alerts(receiver)) >= 4,
        "both recoveries",
        context=daemon.log_tail,
    )
    assert await daemon.stop(signal.SIGTERM) == 0
    alerts = health_alerts(receiver)
    assert sorted(t for t, _ in alerts[2:]) == [
        "Back to normal: Alpha desk",
        "Back to normal: Beta desk",
    ]
    assert len(alerts) == 4
    assert len({key for _, key in alerts}) == 4
    # Only the route that asked for health alerts got them.
    assert not [r for r in receiver.accepted if r.path == "/flags"]
    recovered = next(
        r for r in receiver.accepted if r.body["title"] == "Back to normal: Alpha desk"
    )
    assert "it was private since" in recovered.body["message"]
    code, out, err = await env.monitor("status", "--json")
    assert {json.loads(line)["health"] for line in out.splitlines()} == {"ok"}
