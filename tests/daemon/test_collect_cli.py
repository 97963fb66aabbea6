"""`monitor collect` and `monitor status` as a user runs them, against the simulator over TCP."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from monitor.cli.collect_cmd import DEFAULT_RECHECK
from monitor.config import parse_duration
from monitor.pipeline import RECHECK_WINDOW
from storage.models import alert_outbox, post, post_version
from tests.alerts.conftest import Receiver
from tests.daemon.conftest import Env, channels_yaml

ROUTE = """\
alerts:
  routes:
    - name: desk
      url: "{url}"
"""


async def test_collect_one_channel_with_backfill_then_status(sim, open_db, tmp_path: Path):
    alpha = sim.channel("alpha_sim", 30)
    sim.channel("beta_sim", 5)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim", "beta_sim"))
    assert (await env.monitor("db", "upgrade"))[0] == 0

    code, out, err = await env.monitor(
        "collect", "--channel", "@alpha_sim", "--backfill", "10", "--json"
    )

    assert code == 0, err
    [report] = [json.loads(line) for line in out.splitlines()]
    assert report == {
        "channel": "alpha_sim",
        "channel_id": alpha.id,
        "new": 10,  # the ten newest of thirty
        "changed": 0,
        "deleted": 0,
        "photos": 0,
        "parked_until": None,
        "error": None,
    }
    code, out, err = await env.monitor("status", "--json")
    assert code == 0, err
    rows = {row["channel"]: row for row in map(json.loads, out.splitlines())}
    assert rows["alpha_sim"]["posts"] == 10 and rows["alpha_sim"]["errors"] == 0
    assert rows["beta_sim"]["note"] == "never polled"

    code, out, err = await env.monitor("collect", "--json")  # every channel; alpha is up to date
    assert code == 0, err
    news = {r["channel"]: r["new"] for r in map(json.loads, out.splitlines())}
    assert news == {"alpha_sim": 0, "beta_sim": 5}


async def test_collect_names_an_unknown_channel(sim, tmp_path: Path):
    sim.channel("alpha_sim", 1)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    assert (await env.monitor("db", "upgrade"))[0] == 0

    code, _, err = await env.monitor("collect", "--channel", "@nobody_here")

    assert code != 0
    assert "no channel '@nobody_here'" in err and "Traceback" not in err


async def _versions_and_deletions(db, channel_id: int) -> tuple[dict[int, int], set[int]]:
    async with db.engine.connect() as conn:
        versions = dict(
            (
                await conn.execute(
                    select(post.c.message_id, func.count())
                    .join(post_version, post_version.c.post_id == post.c.id)
                    .where(post.c.channel_id == channel_id)
                    .group_by(post.c.message_id)
                )
            ).all()
        )
        deleted = set(
            (
                await conn.execute(
                    select(post.c.message_id).where(
                        post.c.channel_id == channel_id, post.c.deleted_at.is_not(None)
                    )
                )
            ).scalars()
        )
    return versions, deleted


async def test_collect_recheck_records_edits_and_deletions_that_plain_collect_misses(
    sim, open_db, tmp_path: Path
):
    alpha = sim.channel("alpha_sim", 5)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    db = open_db(env.url)
    assert (await env.monitor("collect"))[0] == 0
    sim.backend.edit(alpha.id, 2, "alpha_sim routine bulletin 1, corrected")
    sim.backend.delete(alpha.id, [4])

    code, out, err = await env.monitor("collect", "--json")  # new posts only: nothing re-read
    assert code == 0, err
    assert json.loads(out)["changed"] == 0 and json.loads(out)["deleted"] == 0
    assert await _versions_and_deletions(db, alpha.id) == (dict.fromkeys(range(1, 6), 1), set())

    code, out, err = await env.monitor("collect", "--recheck", "--json")

    assert code == 0, err
    report = json.loads(out)
    assert (report["new"], report["changed"], report["deleted"]) == (0, 1, 1)
    versions, deleted = await _versions_and_deletions(db, alpha.id)
    assert versions == {1: 1, 2: 2, 3: 1, 4: 1, 5: 1}  # the edit is a second version of post 2
    assert deleted == {4}
    async with db.engine.connect() as conn:
        text = (
            await conn.execute(
                select(post.c.text).where(post.c.channel_id == alpha.id, post.c.message_id == 2)
            )
        ).scalar_one()
    assert text == "alpha_sim routine bulletin 1, corrected"


async def test_collect_recheck_window_leaves_older_posts_alone(sim, open_db, tmp_path: Path):
    from datetime import timedelta

    alpha = sim.channel("alpha_sim", 0)
    old = sim.backend.post(alpha.id, "an old bulletin", date=sim.backend.now() - timedelta(days=3))
    recent = sim.backend.post(alpha.id, "a recent bulletin")
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    db = open_db(env.url)
    assert (await env.monitor("collect"))[0] == 0
    sim.backend.edit(alpha.id, old.id, "an old bulletin, edited")
    sim.backend.edit(alpha.id, recent.id, "a recent bulletin, edited")

    code, out, err = await env.monitor("collect", "--recheck", "1d", "--json")

    assert code == 0, err
    assert json.loads(out)["changed"] == 1
    versions, _ = await _versions_and_deletions(db, alpha.id)
    assert versions == {old.id: 1, recent.id: 2}

    code, out, err = await env.monitor("collect", "--recheck", "4d", "--json")
    assert code == 0, err
    assert (await _versions_and_deletions(db, alpha.id))[0] == {old.id: 2, recent.id: 2}


def test_collect_recheck_defaults_to_the_daemon_window():
    assert parse_duration(DEFAULT_RECHECK) == RECHECK_WINDOW


async def test_collect_rejects_a_bad_recheck_window(sim, tmp_path: Path):
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))

    code, _, err = await env.monitor("collect", "--recheck", "soon")

    assert code != 0 and "--recheck" in err and "Traceback" not in err


def _flagging_channels_yaml(url: str) -> str:
    return channels_yaml("alpha_sim") + ROUTE.format(url=url)


async def test_collect_delivers_the_alerts_it_queued_before_exiting(sim, open_db, tmp_path: Path):
    alpha = sim.channel("alpha_sim", 2)
    sim.backend.post(alpha.id, "Cui Wei met the delegation today")
    receiver = Receiver()
    receiver.start()
    try:
        env = Env(tmp_path, server=sim.address)
        env.channels_file.write_text(_flagging_channels_yaml(receiver.url()))

        code, out, err = await env.monitor("collect")

        assert code == 0, err
        [request] = receiver.accepted  # before `collect` returned, not later
        assert "Cui Wei" in json.dumps(request.body, ensure_ascii=False)
        assert "alerts: 1 delivered" in out and "still queued" not in out
    finally:
        receiver.stop()
    db = open_db(env.url)
    async with db.engine.connect() as conn:
        statuses = (await conn.execute(select(alert_outbox.c.status))).scalars().all()
    assert statuses == ["delivered"]


async def test_collect_with_the_webhook_down_exits_and_leaves_the_alert_queued(
    sim, open_db, tmp_path: Path
):
    alpha = sim.channel("alpha_sim", 0)
    sim.backend.post(alpha.id, "Cui Wei met the delegation today")
    down = Receiver()  # never started: the port refuses connections
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(_flagging_channels_yaml(down.url()))

    code, out, err = await env.monitor("collect", "--alert-timeout", "1s")

    assert code == 0, err  # the posts are archived; the alert waits for the next run
    assert "alerts: 0 delivered, 1 still queued" in out
    assert "monitor run" in out
    db = open_db(env.url)
    async with db.engine.connect() as conn:
        rows = (await conn.execute(select(alert_outbox.c.status, alert_outbox.c.attempts))).all()
    assert [(status, attempts > 0) for status, attempts in rows] == [("pending", True)]
