"""A worker killed between claiming a channel for its account and Telegram's answer to the
join: the claim stays provisional (`monitor workers --live` says joining), no other account
joins the channel meanwhile, and the account's next worker settles it against the account's
dialogs: released and joined again if the join never happened, confirmed if it did."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.daemon.conftest import Env, until
from tests.daemon.joins_env import joined_in_telegram, joins_yaml, live_rows, tails, truth
from tests.daemon.workers_env import start_worker


async def _setup(sim, tmp_path: Path, db_url: str, open_db, prefix: str):  # noqa: ANN001, ANN202
    for account in ("acct_a", "acct_b"):
        sim.backend.add_account(account)
    names = [f"{prefix}_{i}" for i in range(4)]
    ids = [sim.channel(name, 2, joined=False).id for name in names]
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(joins_yaml(names, ["acct_a", "acct_b"]))
    await open_db(env.url).upgrade()
    return env, names, ids


async def test_a_claim_whose_join_never_happened_is_released_and_joined_again(
    db_url: str, backend: str, sim, daemons, open_db, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("several workers need PostgreSQL")
    env, names, ids = await _setup(sim, tmp_path, db_url, open_db, "cut")
    held = sim.backend.faults.hold("JoinChannelRequest", account="acct_a")
    first = await start_worker(env, "w1", "--account", "acct_a")
    daemons.append(first)
    await until(held.arrived.is_set, "acct_a's first join", context=first.log_tail)
    await first.kill()  # kill -9 while Telegram has not answered: the join never happens
    held.release()
    (claimed,) = [n for n, (state, _) in (await live_rows(env)).items() if state == "joining"]
    assert (await live_rows(env))[claimed] == ("joining", "acct_a")
    # acct_b's worker joins up to its limit, but not the channel acct_a claimed.
    second = await start_worker(env, "w2", "--account", "acct_b")
    daemons.append(second)

    async def b_full() -> bool:
        return sum("acct_b" in a for a in joined_in_telegram(sim, ids).values()) == 2

    await until(b_full, "acct_b's two joins", context=second.log_tail)
    assert joined_in_telegram(sim, ids)[ids[names.index(claimed)]] == set()
    # acct_a's next worker: the channel is not in its dialogs, so the claim is released; the
    # channel is then joined for real (by acct_a: acct_b is at its limit).
    third = await start_worker(env, "w3", "--account", "acct_a")
    daemons.append(third)

    async def all_joined() -> bool:
        return all(joined_in_telegram(sim, ids).values())

    await until(all_joined, "every channel joined", context=lambda: tails([second, third]))
    await asyncio.sleep(2.0)  # a few heartbeats more: nothing changes
    assert joined_in_telegram(sim, ids)[ids[names.index(claimed)]] == {"acct_a"}
    assert await live_rows(env) == truth(sim, names, ids)
    assert third.named("join_claim_released")


async def test_a_join_that_happened_before_the_kill_is_confirmed_not_repeated(
    db_url: str, backend: str, sim, daemons, open_db, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("several workers need PostgreSQL")
    env, names, ids = await _setup(sim, tmp_path, db_url, open_db, "late")
    held = sim.backend.faults.hold("JoinChannelRequest", account="acct_a", applied=True)
    first = await start_worker(env, "w1", "--account", "acct_a")
    daemons.append(first)
    await until(held.arrived.is_set, "acct_a's first join", context=first.log_tail)
    await first.kill()  # Telegram joined; the worker never heard so
    held.release()
    (claimed,) = [i for i, a in joined_in_telegram(sim, ids).items() if a == {"acct_a"}]
    second = await start_worker(env, "w2", "--account", "acct_a")
    daemons.append(second)

    async def two_live() -> bool:
        rows = await live_rows(env)
        return sum(state == "live" for state, _ in rows.values()) == 2

    await until(two_live, "acct_a's two joins recorded", context=second.log_tail)
    rows = await live_rows(env)
    assert rows[names[ids.index(claimed)]] == ("live", "acct_a")
    assert rows == truth(sim, names, ids)
    joins_of_claimed = [
        e
        for e in sim.backend.requests.entries
        if e.name == "JoinChannelRequest" and e.channel == claimed
    ]
    assert len(joins_of_claimed) == 1, "the confirmed join was made again"
    assert second.named("join_confirmed")
