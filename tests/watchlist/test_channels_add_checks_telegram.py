"""`monitor channels add` with a Telegram session (here the simulator over loopback TCP, as
`MONITOR_TELEGRAM_SERVER`) resolves the handle first: one Telegram does not know is refused,
named, and nothing is written."""

from __future__ import annotations

from pathlib import Path

from monitor.config import load_watchlist
from tests.daemon.conftest import Env, channels_yaml


async def test_a_known_handle_is_added_an_unknown_one_refused(sim, tmp_path: Path) -> None:
    sim.channel("alpha_sim", 1)
    sim.channel("beta_sim", 1)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))

    code, out, err = await env.monitor("channels", "add", "https://t.me/beta_sim")
    assert code == 0, err
    assert "Telegram knows @beta_sim: 'Beta Sim'" in err
    assert "added @beta_sim" in out
    assert load_watchlist(env.channels_file).channel("beta_sim").enabled

    before = env.channels_file.read_bytes()
    code, out, err = await env.monitor("channels", "add", "@gamma_sim", "--label", "Gamma")
    assert code != 0
    assert "no Telegram channel named @gamma_sim" in err
    assert env.channels_file.read_bytes() == before
    assert sim.backend.requests.count("ResolveUsernameRequest") == 2

    # --no-resolve: added unchecked, and it says so; Telegram is not asked.
    code, out, err = await env.monitor("channels", "add", "@gamma_sim", "--no-resolve")
    assert code == 0, err
    assert "not checked with Telegram (--no-resolve)" in err
    assert sim.backend.requests.count("ResolveUsernameRequest") == 2
