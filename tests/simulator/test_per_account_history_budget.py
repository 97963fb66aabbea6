"""Several simulated accounts: each its own getHistory budget, and the request log names the
account and the channel of every read."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from telethon import errors, types

from monitor.simulator import Backend, SimChannel, tcp_client
from tests.simulator.conftest import fill

REPO = Path(__file__).resolve().parents[2]
WAIT = 30.0

SCENARIO = """
synthetic: true
seed: 3
channels:
  - {key: a, username: plain_sim, title: "Plain"}
timeline:
  - generate: a
    count: 5
    between: [2019-01-01T00:00:00Z, 2019-02-01T00:00:00Z]
    templates: ["post {n}"]
"""


async def test_request_log_names_account_and_channel_of_each_read(
    backend: Backend, channel: SimChannel, connect
) -> None:
    fill(backend, channel, 3)
    backend.add_account("second")
    first = await connect(flood_sleep_threshold=0)
    second = await connect(account="second", flood_sleep_threshold=0)
    backend.requests.reset()
    await first.get_messages("militia_media", limit=2)
    await second.get_messages("militia_media", limit=2)
    reads = [
        (e.account, e.channel) for e in backend.requests.entries if e.name == "GetHistoryRequest"
    ]
    assert reads == [("default", channel.id), ("second", channel.id)]


async def test_serve_history_budget_floods_each_account_on_its_own(tmp_path: Path) -> None:
    (tmp_path / "plain.yaml").write_text(SCENARIO)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "from monitor.cli import main; main()",
        "simulator",
        "serve",
        "--port",
        "0",
        "--scenario",
        str(tmp_path / "plain.yaml"),
        "--account",
        "second",
        "--history-budget",
        "3",
        cwd=tmp_path,
        env=os.environ | {"PYTHONPATH": str(REPO), "MONITOR_DATA_DIR": str(tmp_path)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    clients = []
    try:
        banner = (await asyncio.wait_for(proc.stdout.readline(), WAIT)).decode()
        address = banner.split("MONITOR_TELEGRAM_SERVER=")[1].split(")")[0]
        for account in ("default", "second"):
            client = tcp_client(address, account=account, flood_sleep_threshold=0)
            await client.connect()
            clients.append(client)
        first, second = clients
        for _ in range(3):
            await first.get_messages("plain_sim", limit=1)
        with pytest.raises(errors.FloodWaitError) as caught:
            await first.get_messages("plain_sim", limit=1)
        assert 1 <= caught.value.seconds <= 30
        # The second account's budget is untouched by the first's.
        assert len(await second.get_messages("plain_sim", limit=1)) == 1
    finally:
        for client in clients:
            await client.disconnect()
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.communicate(), WAIT)
    assert proc.returncode == 0


# Like Telegram, each account gets its own access hash for a channel.


async def test_an_access_hash_learnt_by_one_account_is_invalid_for_another(
    backend: Backend, channel: SimChannel, connect
) -> None:
    backend.add_account("second")
    first = await connect()
    second = await connect(account="second")
    mine = await first.get_input_entity("militia_media")
    theirs = await second.get_input_entity("militia_media")
    assert isinstance(mine, types.InputPeerChannel) and mine.channel_id == channel.id
    assert theirs.channel_id == channel.id and theirs.access_hash != mine.access_hash
    assert mine.access_hash == channel.access_hash  # the first account's is the scenario's

    with pytest.raises(errors.ChannelInvalidError):
        await second.get_messages(mine, limit=1)
    assert await second.get_messages(theirs, limit=1) is not None
