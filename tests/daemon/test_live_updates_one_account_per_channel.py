"""Live updates: each channel is joined by at most one account, no account beyond its
`join_limit`; channels beyond every limit are polled only, and `monitor workers --live` says
which is which. A joined channel's new post arrives by push, without waiting for its poll."""

from __future__ import annotations

import asyncio
import json
import signal
from collections import Counter
from pathlib import Path

import pytest

from tests.daemon.conftest import Env, until
from tests.daemon.workers_env import channels_by_owner, start_worker, workers_yaml

ACCOUNTS = ["acct_a", "acct_b"]
#: Long enough that no scheduled poll comes during the test: a post stored is a pushed one.
POLL_EVERY = "1h"


def _yaml(names: list[str], accounts: list[str]) -> str:
    text = workers_yaml(names, accounts, route_url="unused").split("alerts:")[0]
    text = text.replace("poll_every: 10s", f"poll_every: {POLL_EVERY}")
    return text.replace("history_per_30s: 600", "history_per_30s: 600\n    join_limit: 2")


def _joined(sim, ids: list[int]) -> dict[int, set[str]]:
    return {i: set(sim.backend.channel(i).joined) for i in ids}


async def _live_rows(env: Env) -> dict[str, str | None]:
    code, out, err = await env.monitor("workers", "--live", "--json")
    assert code == 0, err
    return {row["channel"]: row["account"] for row in map(json.loads, out.splitlines())}


async def _pushed_only_to_joined(sim, db, ids: list[int], joined: dict[int, set[str]], workers):
    """A new post in every channel: the joined ones store it by push, the others wait for
    their poll (an hour away)."""
    before = set(await db.post_keys())
    new = {i: sim.backend.post(i, f"breaking {i}").id for i in ids}
    live = {(i, new[i]) for i in ids if joined[i]}

    async def arrived() -> bool:
        return live <= set(await db.post_keys())

    await until(arrived, "the joined channels' new posts", context=lambda: _tails(workers))
    await asyncio.sleep(1.5)
    stored = set(await db.post_keys()) - before
    assert stored == live, "a polled-only channel's post was stored without a poll"


def _tails(workers) -> str:
    return "\n".join(w.log_tail() for w in workers)


async def test_two_accounts_limit_two_six_channels_four_joined_two_polled_only(
    db_url: str, backend: str, sim, daemons, open_db, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("several workers need PostgreSQL (SQLite: the single-worker test)")
    for account in ACCOUNTS:
        sim.backend.add_account(account)
    names = [f"live_chan_{i}" for i in range(6)]
    ids = [sim.channel(name, 2, joined=False).id for name in names]
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(_yaml(names, ACCOUNTS))
    db = open_db(env.url)
    await db.upgrade()
    workers = [await start_worker(env, name) for name in ("w1", "w2")]
    daemons.extend(workers)

    async def four_joined() -> bool:
        return sum(len(a) for a in _joined(sim, ids).values()) >= 4

    await until(four_joined, "four channels joined", context=lambda: _tails(workers))
    await asyncio.sleep(3.0)  # a few more heartbeats: nothing more is joined
    joined = _joined(sim, ids)
    assert all(len(accounts) <= 1 for accounts in joined.values()), joined
    per_account = Counter(a for accounts in joined.values() for a in accounts)
    assert per_account == dict.fromkeys(ACCOUNTS, 2), per_account
    assert sum(per_account.values()) == 4
    assert sim.backend.requests.count("JoinChannelRequest") == 4
    # The database and `monitor workers --live` say the same.
    by_name = {n: next(iter(joined[i]), None) for n, i in zip(names, ids, strict=True)}
    assert await _live_rows(env) == by_name
    code, out, err = await env.monitor("workers", "--live")
    assert code == 0, err
    assert "4 live, 2 polled only" in out

    await _pushed_only_to_joined(sim, db, ids, joined, workers)
    for worker in workers:
        assert await worker.stop(signal.SIGTERM) == 0, worker.log_tail()


async def test_single_worker_records_a_channel_already_joined_and_joins_up_to_its_limit(
    db_url: str, backend: str, sim, daemons, open_db, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("the single worker of a SQLite archive")
    names = [f"solo_chan_{i}" for i in range(4)]
    # The account is in solo_chan_3 already (its dialogs): that counts towards its limit.
    ids = [sim.channel(name, 2, joined=(i == 3)).id for i, name in enumerate(names)]
    env = Env(tmp_path, server=sim.address, extra={"MONITOR_WORKER_LEASE": "3"})
    text = "\n".join(
        [
            "defaults:",
            f"  poll_every: {POLL_EVERY}",
            "channels:",
            *[f'  - handle: "@{n}"' for n in names],
            "accounts:",
            "  - name: default",
            "    join_limit: 2",
        ]
    )
    env.channels_file.write_text(text + "\n")
    db = open_db(env.url)
    daemon = await env.start_daemon()
    daemons.append(daemon)

    async def two_joined() -> bool:
        return sum(len(a) for a in _joined(sim, ids).values()) >= 2

    await until(two_joined, "two channels joined", context=daemon.log_tail)
    await asyncio.sleep(3.0)
    joined = _joined(sim, ids)
    assert joined[ids[3]] == {"default"}
    assert sum(len(a) for a in joined.values()) == 2, joined
    assert sim.backend.requests.count("JoinChannelRequest") == 1  # not solo_chan_3 again
    rows = await _live_rows(env)
    assert rows[names[3]] == "default"
    assert Counter(rows.values()) == {"default": 2, None: 2}
    assert {n for n, a in rows.items() if a} == {
        n for n, i in zip(names, ids, strict=True) if joined[i]
    }
    await _pushed_only_to_joined(sim, db, ids, joined, [daemon])
    assert await daemon.stop(signal.SIGTERM) == 0, daemon.log_tail()


async def test_a_worker_keeps_the_channels_its_account_joined_when_it_gives_some_back(
    db_url: str, backend: str, sim, daemons, open_db, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("several workers need PostgreSQL")
    for account in ACCOUNTS:
        sim.backend.add_account(account)
    names = [f"keep_chan_{i}" for i in range(6)]
    ids = [sim.channel(name, 2, joined=False).id for name in names]
    for i in ids[4:]:  # acct_a is in the last two already: its join limit is used up
        sim.backend.join("acct_a", i)
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(_yaml(names, ACCOUNTS))
    db = open_db(env.url)
    await db.upgrade()
    first = await start_worker(env, "w1", "--account", "acct_a")
    daemons.append(first)

    async def recorded() -> bool:
        return sum(a == "acct_a" for a in (await _live_rows(env)).values()) == 2

    await until(recorded, "acct_a's channels recorded", context=first.log_tail)
    second = await start_worker(env, "w2", "--account", "acct_b")
    daemons.append(second)

    async def settled() -> bool:
        owners = await channels_by_owner(db)
        joined = sum(len(a) for a in _joined(sim, ids).values())
        return len(owners.get("w1", ())) == 3 and len(owners.get("w2", ())) == 3 and joined == 4

    await until(
        settled, "three channels each, four joined", context=lambda: _tails([first, second])
    )
    owners = await channels_by_owner(db)
    assert set(names[4:]) <= owners["w1"], owners  # acct_a's joined channels stayed with it
    rows = await _live_rows(env)
    assert {n for n, a in rows.items() if a == "acct_a"} == set(names[4:])
    assert {n for n, a in rows.items() if a == "acct_b"} <= owners["w2"]
    assert sim.backend.requests.count("JoinChannelRequest", account="acct_a") == 0
    joined = _joined(sim, ids)
    await _pushed_only_to_joined(sim, db, ids, joined, [first, second])
