"""`monitor channels add` with a Telegram session (here the simulator over loopback TCP, as
`MONITOR_TELEGRAM_SERVER`) resolves the handle first: one Telegram does not know is refused,
named, and nothing is written."""

from __future__ import annotations

from pathlib import Path

from monitor.config import load_watchlist
from tests.daemon.conftest import Env, channels_yaml


async def test_a_known_handle_is_added_an_unknown_one_refused(sim, tmp_path: Path) -> None:
    sim.channel("alpha_sim", 1)
    beta = sim.channel("beta_sim", 1)
    sim.backend.rename_channel(beta.id, title="Beta [link=https://evil.example]x[/link]")
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))

    code, out, err = await env.monitor("channels", "add", "https://t.me/beta_sim")
    assert code == 0, err
    # Telegram's title is printed literally, never as Rich markup.
    assert "Telegram knows @beta_sim: 'Beta [link=https://evil.example]x[/link]'" in err
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


async def test_telegram_unreachable_refuses_the_add(tmp_path: Path) -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = Env(tmp_path, server=f"127.0.0.1:{port}")
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    before = env.channels_file.read_bytes()
    code, out, err = await env.monitor("channels", "add", "@beta_sim")
    assert code != 0
    assert "cannot connect to Telegram" in err
    assert "@beta_sim was not added" in err
    assert "--no-resolve" in err
    assert env.channels_file.read_bytes() == before
