"""`monitor collect` and `monitor status` as a user runs them, against the simulator over TCP."""

from __future__ import annotations

import json
from pathlib import Path

from tests.daemon.conftest import Env, channels_yaml


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
