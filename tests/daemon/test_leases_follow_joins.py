"""Leases follow joins: a channel joined by an account is held by the worker holding that
account, so its pushed updates reach the worker collecting it. When that worker dies, the one
that next takes the account takes the account's joined channels back from whoever polled them
meanwhile; each channel is still held by one worker at a time and nothing is stored twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from tests.daemon.conftest import Env, until
from tests.daemon.joins_env import joined_in_telegram, joins_yaml, live_rows, tails
from tests.daemon.workers_env import channels_by_owner, history_readers, start_worker


async def test_the_accounts_next_worker_takes_its_joined_channels_back(
    db_url: str, backend: str, sim, daemons, open_db, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("several workers need PostgreSQL")
    for account in ("acct_a", "acct_b"):
        sim.backend.add_account(account)
    names = [f"lf_chan_{i}" for i in range(6)]
    ids = [sim.channel(name, 2, joined=False).id for name in names]
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(joins_yaml(names, ["acct_a", "acct_b"]))
    db = open_db(env.url)
    await db.upgrade()
    first = await start_worker(env, "w1", "--account", "acct_a")
    daemons.append(first)

    async def a_joined() -> bool:
        return sum("acct_a" in a for a in joined_in_telegram(sim, ids).values()) == 2

    await until(a_joined, "acct_a's two joins", context=first.log_tail)
    second = await start_worker(env, "w2", "--account", "acct_b")
    daemons.append(second)

    async def four_joined() -> bool:
        return sum(len(a) for a in joined_in_telegram(sim, ids).values()) == 4

    await until(four_joined, "acct_b's two joins", context=lambda: tails([first, second]))
    of_a = {n for n, (_, account) in (await live_rows(env)).items() if account == "acct_a"}
    of_b = {n for n, (_, account) in (await live_rows(env)).items() if account == "acct_b"}

    await first.kill()  # kill -9: w2 polls every channel once w1's leases expire

    async def w2_holds_all() -> bool:
        return (await channels_by_owner(db)).get("w2", set()) == set(names)

    await until(w2_holds_all, "w2 holding every channel", context=second.log_tail)
    third = await start_worker(env, "w3", "--account", "acct_a")
    daemons.append(third)
    since = len(sim.backend.requests.entries)

    async def followed() -> bool:
        owners = await channels_by_owner(db)
        return of_a <= owners.get("w3", set()) and of_b <= owners.get("w2", set())

    await until(
        followed, "acct_a's joined channels held by w3", context=lambda: tails([second, third])
    )
    by_id = dict(zip(names, ids, strict=True))

    async def read_by_w3() -> bool:  # w3's first passes over them are done
        readers = history_readers(sim.backend, since)
        return all("acct_a" in readers.get(by_id[n], set()) for n in of_a)

    await until(read_by_w3, "w3's first passes", context=third.log_tail)
    # A new post in each of acct_a's channels reaches w3 by push (polls are an hour apart).
    before = set(await db.post_keys())
    new = {(by_id[n], sim.backend.post(by_id[n], f"pushed {n}").id) for n in sorted(of_a)}

    async def arrived() -> bool:
        return new <= set(await db.post_keys())

    await until(arrived, "the pushed posts", context=lambda: tails([second, third]))
    await asyncio.sleep(1.0)
    stored = Counter(await db.post_keys())
    assert all(n == 1 for n in stored.values()), "a post stored twice"
    assert set(stored) - before == new
    owners = await channels_by_owner(db)
    assert owners.get("w2", set()) | owners.get("w3", set()) == set(names)
    assert not owners.get("w2", set()) & owners.get("w3", set())
