"""Several `monitor run --worker` processes, each with its own Telegram account, on one
PostgreSQL database: channels are shared out by leases, a killed worker's channels are taken
over, a flood-waited account's channels move to another account. On SQLite a second worker is
refused."""

from __future__ import annotations

import asyncio
import json
import signal
import zlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from tests.alerts.conftest import Receiver
from tests.daemon.conftest import Env, Sim, channels_yaml
from tests.daemon.workers_env import (
    archive,
    channels_by_owner,
    expected_archive,
    history_readers,
    start_worker,
    until,
    workers_yaml,
)
from tests.simulator.conftest import make_jpeg

ACCOUNTS = ["acct_a", "acct_b", "acct_c"]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """The desk's webhook: every alert the workers deliver arrives here."""
    server = Receiver()
    server.start()
    yield server
    server.stop()


def _postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("several workers need PostgreSQL (SQLite: see the single-worker test)")


def _setup(sim: Sim, n: int, accounts: list[str], *, photos: bool = False) -> list[int]:
    for account in accounts:
        sim.backend.add_account(account)
    ids = []
    for i in range(n):
        channel = sim.channel(f"wk_chan_{i:02d}", 2, joined=False)
        if photos and i % 3 == 0:
            sim.backend.post(channel.id, "a photo", photo=make_jpeg(seed=i))
        ids.append(channel.id)
    return ids


def _post_round(sim: Sim, ids: list[int], tag: str, *, photos: bool = False) -> set[int]:
    """One new post per channel; every fifth names Cui Wei. Returns the flagged channels."""
    flagged = set()
    for i, channel_id in enumerate(ids):
        if i % 5 == 0:
            sim.backend.post(channel_id, f"Ambassador Cui Wei met the delegation ({tag}).")
            flagged.add(channel_id)
        elif photos and i % 4 == 1:
            sim.backend.post(
                channel_id, f"photo {tag}", photo=make_jpeg(seed=zlib.crc32(f"{tag} {i}".encode()))
            )
        else:
            sim.backend.post(channel_id, f"routine bulletin {tag} {i}")
    return flagged


async def _start(env: Env, names: list[str], daemons: list) -> list:
    workers = [await start_worker(env, name) for name in names]
    daemons.extend(workers)
    return workers


def _at_least(receiver: Receiver, n: int) -> Callable[[], Awaitable[bool]]:
    return _now_true(lambda: len(receiver.accepted) >= n)


def _now_true(check: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def condition() -> bool:
        return check()

    return condition


def _tails(workers: list) -> str:
    return "\n".join(w.log_tail() for w in workers)


async def test_three_workers_three_accounts_share_sixty_channels_each_post_stored_once(
    db_url: str, backend: str, sim, daemons, open_db, receiver: Receiver, tmp_path: Path
) -> None:
    _postgres_only(backend)
    ids = _setup(sim, 60, ACCOUNTS)
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    names = [f"wk_chan_{i:02d}" for i in range(60)]
    env.channels_file.write_text(workers_yaml(names, ACCOUNTS, route_url=receiver.url()))
    db = open_db(env.url)
    await db.upgrade()

    workers = await _start(env, ["w1", "w2", "w3"], daemons)
    await until(
        lambda: db.has_posts(sim.message_keys(*map(sim.backend.channel, ids))),
        "every channel's history",
        context=lambda: _tails(workers),
    )

    async def shared_fairly() -> bool:
        owners = await channels_by_owner(db)
        return sorted(len(owners.get(w, ())) for w in ("w1", "w2", "w3")) == [20, 20, 20]

    await until(shared_fairly, "20 channels per worker", context=lambda: _tails(workers))
    # A channel handed over during the start-up is finished by its old owner before the new
    # one reads it; from now on each channel is read by one account only.
    await asyncio.sleep(1.0)
    mark = len(sim.backend.requests.entries)
    flagged = _post_round(sim, ids, "live")
    await until(
        lambda: db.has_posts(sim.message_keys(*map(sim.backend.channel, ids))),
        "the live posts",
        context=lambda: _tails(workers),
    )

    stored = await db.post_keys()
    assert len(stored) == len(set(stored)), "a post was stored twice"
    assert set(stored) == sim.message_keys(*map(sim.backend.channel, ids))
    readers = history_readers(sim.backend, mark)
    assert set(readers) == set(ids), "some channel was not polled after the live posts"
    assert all(len(accounts) == 1 for accounts in readers.values()), readers
    per_account = Counter(next(iter(a)) for a in readers.values())
    assert per_account == dict.fromkeys(ACCOUNTS, 20)
    # Flags and alerts: once per flagged post, whichever worker stored it.
    flags = await db.flags()
    assert {c for c, _, _ in flags} == flagged and len(flags) == len(flagged)
    await until(_at_least(receiver, len(flagged)), "one alert per flagged post")
    await asyncio.sleep(1.0)
    assert len(receiver.accepted) == len(flagged)
    assert len({r.key for r in receiver.accepted}) == len(flagged)

    code, out, err = await env.monitor("workers", "--json")
    assert code == 0, err
    listed = {w["name"]: w for w in map(json.loads, out.splitlines())}
    assert {n: (listed[n]["account"], len(listed[n]["channels"])) for n in listed} == {
        "w1": (listed["w1"]["account"], 20),
        "w2": (listed["w2"]["account"], 20),
        "w3": (listed["w3"]["account"], 20),
    }
    assert sorted(w["account"] for w in listed.values()) == ACCOUNTS
    # `monitor status` names the worker holding each channel: the same leases.
    code, out, err = await env.monitor("status", "--json")
    assert code == 0, err
    holders = {row["channel"]: row["worker"] for row in map(json.loads, out.splitlines())}
    assert holders == {key: w for w in listed for key in listed[w]["channels"]}
    assert Counter(holders.values()) == {"w1": 20, "w2": 20, "w3": 20}

    for worker in workers:
        assert await worker.stop(signal.SIGTERM) == 0, worker.log_tail()
    # A clean stop gives every lease back at once.
    assert set((await channels_by_owner(db)).keys()) <= {None}


async def test_worker_killed_mid_batch_its_channels_are_taken_over_archive_as_uninterrupted(
    db_url: str, backend: str, sim, daemons, open_db, receiver: Receiver, tmp_path: Path
) -> None:
    _postgres_only(backend)
    ids = _setup(sim, 30, ACCOUNTS, photos=True)
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    names = [f"wk_chan_{i:02d}" for i in range(30)]
    env.channels_file.write_text(workers_yaml(names, ACCOUNTS, route_url=receiver.url()))
    db = open_db(env.url)
    await db.upgrade()
    workers = await _start(env, ["w1", "w2", "w3"], daemons)

    async def balanced() -> bool:
        owners = await channels_by_owner(db)
        return sorted(len(owners.get(w, ())) for w in ("w1", "w2", "w3")) == [10, 10, 10]

    await until(balanced, "10 channels per worker", context=lambda: _tails(workers))
    victim = workers[1]
    victims_channels = (await channels_by_owner(db))["w2"]
    victim_account = next(
        e["account"] for e in victim.named("worker_account_taken") if e.get("worker") == "w2"
    )
    # Slow history reads, so the kill lands while w2 is inside a pass.
    sim.backend.faults.slow("GetHistoryRequest", 0.3)
    mark = len(sim.backend.requests.entries)
    flagged = _post_round(sim, ids, "round one", photos=True)
    await until(
        _now_true(
            lambda: any(
                e.account == victim_account and e.name == "GetHistoryRequest"
                for e in sim.backend.requests.entries[mark:]
            )
        ),
        "w2 reading a channel",
        context=victim.log_tail,
    )
    victim.proc.kill()  # kill -9: no clean-up, its leases simply stop being renewed
    await victim.proc.wait()
    flagged |= _post_round(sim, ids, "round two", photos=True)

    survivors = [workers[0], workers[2]]
    await until(
        lambda: db.has_posts(sim.message_keys(*map(sim.backend.channel, ids))),
        "every post, the dead worker's channels included",
        context=lambda: _tails(survivors),
    )
    owners = await channels_by_owner(db)
    assert victims_channels <= owners.get("w1", set()) | owners.get("w3", set())
    assert "w2" not in owners
    assert await archive(db) == expected_archive(sim.backend, ids)
    flags = await db.flags()
    assert len(flags) == len({(c, m) for c, m, _ in flags})
    assert {c for c, _, _ in flags} == flagged
    await until(_at_least(receiver, len(flags)), "one alert per flagged post")
    await asyncio.sleep(1.0)
    assert len({r.key for r in receiver.accepted}) == len(receiver.accepted) == len(flags)
    for worker in survivors:
        assert await worker.stop(signal.SIGTERM) == 0, worker.log_tail()


async def test_account_in_a_long_flood_wait_its_channels_continue_on_the_other_account(
    db_url: str, backend: str, sim, daemons, open_db, receiver: Receiver, tmp_path: Path
) -> None:
    _postgres_only(backend)
    accounts = ["acct_a", "acct_b"]
    ids = _setup(sim, 20, accounts)
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    names = [f"wk_chan_{i:02d}" for i in range(20)]
    env.channels_file.write_text(workers_yaml(names, accounts, route_url=receiver.url()))
    db = open_db(env.url)
    await db.upgrade()
    workers = await _start(env, ["w1", "w2"], daemons)

    async def balanced() -> bool:
        owners = await channels_by_owner(db)
        return sorted(len(owners.get(w, ())) for w in ("w1", "w2")) == [10, 10]

    await until(balanced, "10 channels per worker", context=lambda: _tails(workers))
    taken = {e["worker"]: e["account"] for w in workers for e in w.named("worker_account_taken")}
    flooded_worker = next(w for w, a in taken.items() if a == "acct_a")
    other_worker = next(w for w in taken if w != flooded_worker)
    # Every history read of acct_a from now on: FLOOD_WAIT_600.
    sim.backend.faults.flood_wait("GetHistoryRequest", 600, account="acct_a", repeat=True)
    mark = len(sim.backend.requests.entries)
    _post_round(sim, ids, "during the flood")

    async def moved() -> bool:
        # A post pushed to the flood-waited account may be stored from its update (no read):
        # done once every channel is the other worker's and read by its account.
        owners = await channels_by_owner(db)
        return (
            await db.has_posts(sim.message_keys(*map(sim.backend.channel, ids)))
            and owners.get(other_worker) == set(names)
            and set(history_readers(sim.backend, mark)) == set(ids)
        )

    await until(
        moved,
        "every post, and every channel read by the other account",
        context=lambda: _tails(workers),
    )
    readers = history_readers(sim.backend, mark)
    assert set(readers) == set(ids) and all(a == {"acct_b"} for a in readers.values())
    stored = await db.post_keys()
    assert len(stored) == len(set(stored))
    for worker in workers:
        assert await worker.stop(signal.SIGTERM) == 0, worker.log_tail()


async def test_second_worker_on_sqlite_exits_1_saying_why_and_the_first_keeps_working(
    sim, daemons, open_db, tmp_path: Path
) -> None:
    alpha = sim.channel("alpha_sim", 3)
    env = Env(tmp_path, server=sim.address)
    env.channels_file.write_text(channels_yaml("alpha_sim"))
    assert (await env.monitor("db", "upgrade"))[0] == 0
    db = open_db(env.url)
    first = await start_worker(env, "first")
    daemons.append(first)
    await first.wait_for_event("monitor_started")

    code, out, err = await env.monitor("run", "--worker", "second")

    assert code == 1
    output = out + err
    assert "another worker (worker first" in output and "SQLite" in output, output
    assert "PostgreSQL" in output and "Traceback" not in output
    live = sim.backend.post(alpha.id, "still collecting")
    await until(
        lambda: db.has_posts({(alpha.id, live.id)}),
        "the first worker's next post",
        context=first.log_tail,
    )
    assert await first.stop(signal.SIGTERM) == 0
    # Once the first stopped, a worker may start again.
    again = await start_worker(env, "second")
    daemons.append(again)
    await again.wait_for_event("monitor_started")
    assert await again.stop(signal.SIGTERM) == 0
