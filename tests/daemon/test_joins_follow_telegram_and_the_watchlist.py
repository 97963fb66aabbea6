"""`account_join` follows Telegram and the watchlist: a channel the account was removed from
(by the channel's admin) is recorded as left when a worker next takes the account, freeing its
slot; a channel dropped from channels.yaml is left (channels.LeaveChannel) by the account that
joined it, while one the account was in already stays in its dialogs, merely no longer counted;
an account dropped from `accounts:` frees its channels for the others. `monitor workers --live`
says what is true afterwards."""

from __future__ import annotations

import signal
from datetime import timedelta
from pathlib import Path

import pytest

from storage import joins
from tests.daemon.conftest import Env, until
from tests.daemon.joins_env import joined_in_telegram, joins_yaml, live_rows, tails, truth
from tests.daemon.workers_env import start_worker


async def _history(db) -> list[joins.Join]:  # noqa: ANN001
    async with db.engine.connect() as conn:
        return await joins.list_joins(conn=conn, history=True)


async def test_removal_is_recorded_on_takeover_and_unwatched_channels_are_left(
    db_url: str, backend: str, sim, daemons, open_db, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("workers on PostgreSQL")
    sim.backend.add_account("acct_a")
    names = [f"rc_chan_{i}" for i in range(4)]
    ids = [sim.channel(name, 2, joined=False).id for name in names]
    sim.backend.join("acct_a", ids[3])  # in its dialogs already: recorded, never joined by us
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(joins_yaml(names, ["acct_a"]))
    db = open_db(env.url)
    await db.upgrade()
    first = await start_worker(env, "w1", "--account", "acct_a")
    daemons.append(first)

    async def two_live() -> bool:
        rows = await live_rows(env)
        return sum(state == "live" for state, _ in rows.values()) == 2

    await until(two_live, "acct_a's two joins", context=first.log_tail)
    assert await live_rows(env) == truth(sim, names, ids)
    assert joined_in_telegram(sim, ids)[ids[0]] == {"acct_a"}
    assert await first.stop(signal.SIGTERM) == 0, first.log_tail()

    # The channel's admin removes acct_a from rc_chan_0 while no worker runs.
    sim.backend.remove_member("acct_a", ids[0])
    second = await start_worker(env, "w2", "--account", "acct_a")
    daemons.append(second)

    async def true_again() -> bool:
        return await two_live() and await live_rows(env) == truth(sim, names, ids)

    await until(true_again, "acct_a's joins true to Telegram again", context=second.log_tail)
    (left,) = [j for j in await _history(db) if j.state == "left"]
    assert (left.handle, left.account, left.left_reason) == (names[0], "acct_a", "not in dialogs")
    assert left.left_at is not None and left.left_at.utcoffset() == timedelta(0)

    # rc_chan_0 (joined by us) and rc_chan_3 (found) leave the watchlist.
    joined_before = joined_in_telegram(sim, ids)
    assert joined_before[ids[3]] == {"acct_a"}
    kept = names[1:3]
    env.channels_file.write_text(joins_yaml(kept, ["acct_a"]))

    async def settled() -> bool:
        members = joined_in_telegram(sim, ids)
        return all(members[i] == {"acct_a"} for i in ids[1:3])

    await until(
        settled,
        "the freed slots used for the channels still watched",
        context=lambda: tails([second]),
    )
    members = joined_in_telegram(sim, ids)
    # rc_chan_0 was free after the removal and joined again: the one channel left now.
    assert joined_before[ids[0]] == {"acct_a"}
    assert members[ids[0]] == set()
    assert sim.backend.requests.count("LeaveChannelRequest", account="acct_a") == 1
    assert members[ids[3]] == {"acct_a"}, "a channel the account was in already was left"
    assert await live_rows(env) == truth(sim, kept, ids[1:3])
    reasons = {(j.handle, j.left_reason) for j in await _history(db) if j.state == "left"}
    assert (names[3], "unwatched") in reasons
    assert all(j.state != "claimed" for j in await _history(db))
    assert await second.stop(signal.SIGTERM) == 0, second.log_tail()


async def test_an_account_dropped_from_the_configuration_frees_its_channels_for_the_others(
    db_url: str, backend: str, sim, daemons, open_db, tmp_path: Path
) -> None:
    """No worker uses an account no longer in `accounts:`: its joins are released (recorded
    as left, "account not configured") and the configured accounts join those channels, where
    they would otherwise never be live again."""
    if backend != "postgresql":
        pytest.skip("workers on PostgreSQL")
    for account in ("acct_a", "acct_b"):
        sim.backend.add_account(account)
    names = ["cf_chan_0", "cf_chan_1"]
    ids = [sim.channel(name, 2, joined=False).id for name in names]
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(joins_yaml(names, ["acct_a", "acct_b"], join_limit=1))
    db = open_db(env.url)
    await db.upgrade()
    old = await start_worker(env, "w_old", "--account", "acct_b")
    daemons.append(old)

    async def live_by(account: str, count: int) -> bool:
        rows = await live_rows(env)
        return sum(row == ("live", account) for row in rows.values()) == count

    await until(lambda: live_by("acct_b", 1), "acct_b's one join", context=old.log_tail)
    assert await old.stop(signal.SIGTERM) == 0, old.log_tail()
    (by_b,) = [j.handle for j in await _history(db) if j.account == "acct_b"]

    env.channels_file.write_text(joins_yaml(names, ["acct_a"], join_limit=2))
    new = await start_worker(env, "w_new", "--account", "acct_a")
    daemons.append(new)

    await until(lambda: live_by("acct_a", 2), "both channels live by acct_a", context=new.log_tail)
    assert all("acct_a" in members for members in joined_in_telegram(sim, ids).values())
    released = [
        (j.handle, j.state, j.left_reason) for j in await _history(db) if j.account == "acct_b"
    ]
    assert released == [(by_b, "left", "account not configured")]
    assert await new.stop(signal.SIGTERM) == 0, new.log_tail()
