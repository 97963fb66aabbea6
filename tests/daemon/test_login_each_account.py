"""`monitor login --account NAME` logs in that account of `accounts:`, not the default one."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from monitor.simulator.handlers import LOGIN_CODE
from tests.daemon.conftest import GUARDED_MONITOR, WAIT, Env


async def test_login_account_signs_in_the_named_account_only(sim, tmp_path: Path) -> None:
    second = sim.backend.add_account("desk_two", phone="15550002", authorized=False)
    sim.backend.add_account("desk_three", phone="15550003", authorized=False)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(
        'channels:\n  - handle: "@alpha_sim"\naccounts:\n  - name: desk_two\n  - name: desk_three\n'
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(GUARDED_MONITOR),
        "login",
        "--account",
        "desk_two",
        "--phone",
        "+15550002",
        env=env.vars(),
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(f"{LOGIN_CODE}\n".encode()), WAIT)

    assert proc.returncode == 0, err.decode()
    printed = out.decode().replace("\n", "")  # the console wraps long lines
    assert "logged in as Desk_two" in printed
    assert str(tmp_path / "data" / "desk_two.session") in printed
    assert second.authorized and not sim.backend.account("desk_three").authorized


async def test_login_unknown_account_names_the_known_ones(tmp_path: Path) -> None:
    env = Env(tmp_path, server="127.0.0.1:9")
    env.channels_file.write_text(
        'channels:\n  - handle: "@alpha_sim"\naccounts:\n  - name: desk_two\n'
    )
    code, out, err = await env.monitor("login", "--account", "desk_nine")
    assert code == 2
    assert "no account named 'desk_nine'" in out + err and "desk_two" in out + err
