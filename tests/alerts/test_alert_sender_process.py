"""`monitor alerts send`, the alert sender as a process of its own: a worker told not to send
queues alerts and delivers none; the sender delivers each once (two senders too); on PostgreSQL
a queued alert wakes the sender at once (NOTIFY), long before its sweep."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from alerts import Route, list_outbox
from storage.models import alert_outbox
from tests.alerts.conftest import Desk, Receiver
from tests.daemon import conftest as daemon_conftest
from tests.daemon.conftest import GUARDED_MONITOR, Daemon, Env, channels_yaml, until

# The daemon tests' fixtures: a simulated Telegram, processes killed at the end, database views.
sim = daemon_conftest.sim
daemons = daemon_conftest.daemons
open_db = daemon_conftest.open_db

MENTION = "Ambassador Cui Wei visited the port of Umm Qasr today."


def with_routes(yaml: str, receiver: Receiver, *names: str) -> str:
    """channels.yaml with one route per name, each to its own path of ``receiver``."""
    routes = "".join(
        f'    - name: {name}\n      url: "{receiver.url("/" + name)}"\n' for name in names
    )
    return yaml + "alerts:\n  routes:\n" + routes


async def start(env: Env, *args: str) -> Daemon:
    """A long-running `monitor ...` process (a worker or a sender) with its JSON log."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(GUARDED_MONITOR),
        *args,
        env=env.vars(),
        cwd=env.tmp_path,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    return Daemon(proc)


def delivered_count(stdout: str) -> int:
    found = re.search(r"stopped after \d+s: (\d+) alerts delivered", stdout)
    assert found is not None, stdout
    return int(found[1])


async def test_worker_with_sending_off_queues_and_the_sender_delivers_once(
    sim, daemons, open_db, db_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    alpha = sim.channel("alpha_sim", 2)
    env = Env(
        tmp_path, database_url=db_url, server=sim.address, extra={"MONITOR_SEND_ALERTS": "false"}
    )
    env.channels_file.write_text(with_routes(channels_yaml("alpha_sim"), receiver, "desk"))
    code, _, err = await env.monitor("db", "upgrade")
    assert code == 0, err
    db = open_db(env.url)

    worker = await env.start_daemon()
    daemons.append(worker)
    await until(lambda: db.has_posts(sim.message_keys(alpha)), "history", context=worker.log_tail)
    live = sim.backend.post(alpha.id, MENTION)

    async def queued() -> bool:
        return len(await list_outbox(db.engine)) == 1

    await until(queued, "the live post's alert queued", context=worker.log_tail)
    # A worker that sends would deliver now, or at the latest in its shutdown drain.
    assert await worker.stop(signal.SIGTERM) == 0, worker.log_tail()
    assert await db.has_flag((alpha.id, live.id, "cui-wei"))
    assert receiver.requests == []
    [row] = await list_outbox(db.engine)
    assert row.status == "pending" and row.attempts == 0
    assert ", 0 alerts sent," in worker.stdout

    code, out, err = await env.monitor("alerts", "send", "--once")

    assert code == 0, err
    assert [r.key for r in receiver.requests] == [row.idempotency_key]
    assert "Cui Wei" in receiver.requests[0].body["message"]
    assert receiver.requests[0].path == "/desk"
    assert [r.status for r in await list_outbox(db.engine)] == ["delivered"]
    assert delivered_count(out) == 1
    # Run again: nothing is sent twice.
    code, out, err = await env.monitor("alerts", "send", "--once")
    assert code == 0, err
    assert len(receiver.requests) == 1 and delivered_count(out) == 0


async def test_two_senders_deliver_every_alert_once(
    engine: AsyncEngine, migrated_url: str, daemons, tmp_path: Path, receiver: Receiver
) -> None:
    names = [f"desk_{c}" for c in "abcdef"]
    desk = Desk(engine, [Route.of(n, [receiver.url("/" + n)]) for n in names])
    for i in range(10):
        await desk.flag_post(f"Bulletin {i}: Hezbollah", ["hezbollah"], message_id=100 + i)
    queued = {row.idempotency_key for row in await list_outbox(engine)}
    assert len(queued) == 60  # 10 posts x 6 routes
    env = Env(tmp_path, database_url=migrated_url)
    env.channels_file.write_text(with_routes(channels_yaml("alpha_sim"), receiver, *names))

    senders = [await start(env, "alerts", "send", "--poll", "0.2") for _ in range(2)]
    daemons.extend(senders)

    async def all_delivered() -> bool:
        return {r.status for r in await list_outbox(engine)} == {"delivered"}

    def tails() -> str:
        return "\n".join(s.log_tail() for s in senders)

    await until(all_delivered, "every alert delivered", context=tails)
    assert [await s.stop(signal.SIGTERM) for s in senders] == [0, 0], tails()

    sent = Counter(r.key for r in receiver.requests)
    assert set(sent) == queued
    assert max(sent.values()) == 1, [k for k, n in sent.items() if n > 1]
    assert sum(delivered_count(s.stdout) for s in senders) == 60
    # Each route's alerts arrived in the order they were queued.
    for name in names:
        order = [r.key for r in receiver.requests if r.path == "/" + name]
        assert order == sorted(order, key=lambda k: int(k.split(":m")[1].split(":")[0]))


async def test_a_queued_alert_wakes_the_sender_long_before_its_sweep(
    sim, daemons, open_db, db_url: str, backend: str, tmp_path: Path, receiver: Receiver
) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite the sender polls")
    alpha = sim.channel("alpha_sim", 2)
    env = Env(tmp_path, database_url=db_url, server=sim.address)
    env.channels_file.write_text(with_routes(channels_yaml("alpha_sim"), receiver, "desk"))
    code, _, err = await env.monitor("db", "upgrade")
    assert code == 0, err
    db = open_db(env.url)

    # A sweep far longer than this test's waits (30 s): only a wake-up delivers in time.
    sender = await start(env, "alerts", "send", "--poll", "600")
    daemons.append(sender)
    await sender.wait_for_event("alert_listen_started")
    worker = await start(env, "run", "--no-alerts")
    daemons.append(worker)
    await until(lambda: db.has_posts(sim.message_keys(alpha)), "history", context=worker.log_tail)
    await sender.wait_for_event("alert_worker_started")
    live = sim.backend.post(alpha.id, MENTION)

    await until(
        lambda: len(receiver.accepted) >= 1,
        "the alert at the sender",
        context=lambda: worker.log_tail() + "\n" + sender.log_tail(),
    )
    assert await db.has_flag((alpha.id, live.id, "cui-wei"))
    assert await worker.stop(signal.SIGTERM) == 0, worker.log_tail()
    assert await sender.stop(signal.SIGTERM) == 0, sender.log_tail()
    assert len(receiver.requests) == 1
    assert delivered_count(sender.stdout) == 1
    assert ", 0 alerts sent," in worker.stdout


async def test_a_sender_killed_mid_send_leaves_its_alert_to_the_next_sender(
    engine: AsyncEngine, migrated_url: str, daemons, tmp_path: Path, receiver: Receiver
) -> None:
    desk = Desk(engine, [Route.of("desk", [receiver.url("/desk")])])
    for i in range(3):
        await desk.flag_post(f"Bulletin {i}: Hezbollah", ["hezbollah"], message_id=200 + i)
    env = Env(tmp_path, database_url=migrated_url)
    env.channels_file.write_text(with_routes(channels_yaml("alpha_sim"), receiver, "desk"))
    receiver.mode = "hang"  # take the first alert and never answer

    first = await start(env, "alerts", "send", "--poll", "0.2")
    daemons.append(first)
    assert await asyncio.to_thread(receiver.arrived.wait, 30), first.log_tail()
    await first.kill()  # SIGKILL in the middle of the send
    rows = sorted(await list_outbox(engine), key=lambda r: r.id)
    assert [r.status for r in rows] == ["sending", "pending", "pending"]
    receiver.mode = "ok"
    receiver.release.set()

    # Started on the same host, the next sender takes back the dead one's lease at once
    # (not after the two minutes of the lease, far beyond this test's waits).
    second = await start(env, "alerts", "send", "--poll", "0.2")
    daemons.append(second)

    async def all_delivered() -> bool:
        return {r.status for r in await list_outbox(engine)} == {"delivered"}

    await until(all_delivered, "every alert delivered", context=second.log_tail)
    assert await second.stop(signal.SIGTERM) == 0, second.log_tail()
    keys = [r.key for r in receiver.requests]
    first_key = rows[0].idempotency_key
    # The one repeat is the alert cut short, with the same key (the desk dedupes on it).
    assert keys == [first_key, first_key, rows[1].idempotency_key, rows[2].idempotency_key]
    assert delivered_count(second.stdout) == 3


async def test_a_route_added_to_channels_yaml_is_sent_by_a_running_sender(
    engine: AsyncEngine, migrated_url: str, daemons, tmp_path: Path, receiver: Receiver
) -> None:
    env = Env(tmp_path, database_url=migrated_url)
    base = channels_yaml("alpha_sim")
    env.channels_file.write_text(with_routes(base, receiver, "desk"))
    sender = await start(env, "alerts", "send", "--poll", "0.2")
    daemons.append(sender)
    await sender.wait_for_event("alert_worker_started")

    # A worker reloads channels.yaml with a new route and queues an alert for it at once.
    env.channels_file.write_text(with_routes(base, receiver, "desk", "late"))
    late = Desk(engine, [Route.of("late", [receiver.url("/late")])])
    await late.flag_post("Bulletin: Hezbollah", ["hezbollah"], message_id=300)

    async def settled() -> bool:
        return {r.status for r in await list_outbox(engine)} <= {"delivered", "failed"}

    await until(settled, "the new route's alert settled", context=sender.log_tail)
    [row] = await list_outbox(engine)
    assert row.status == "delivered", row.last_error
    assert [r.path for r in receiver.requests] == ["/late"]
    assert await sender.stop(signal.SIGTERM) == 0, sender.log_tail()
    assert sender.named("alert_routes_reloaded")


async def test_monitor_alerts_retry_wakes_a_running_sender(
    engine: AsyncEngine,
    migrated_url: str,
    backend: str,
    daemons,
    tmp_path: Path,
    receiver: Receiver,
) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite the sender polls")
    desk = Desk(engine, [Route.of("desk", [receiver.url("/desk")])])
    await desk.flag_post("Bulletin: Hezbollah", ["hezbollah"], message_id=400)
    async with engine.begin() as conn:  # it gave up earlier: the desk's webhook was down
        await conn.execute(
            update(alert_outbox).values(status="failed", attempts=12, last_error="down")
        )
    env = Env(tmp_path, database_url=migrated_url)
    env.channels_file.write_text(with_routes(channels_yaml("alpha_sim"), receiver, "desk"))
    sender = await start(env, "alerts", "send", "--poll", "600")
    daemons.append(sender)
    await sender.wait_for_event("alert_listen_started")
    await sender.wait_for_event("alert_worker_started")

    code, _, err = await env.monitor("alerts", "retry", "--all-failed")

    assert code == 0, err
    await until(lambda: len(receiver.accepted) == 1, "the retried alert", context=sender.log_tail)

    async def settled() -> bool:  # the sender marks the row once the webhook has answered
        return [r.status for r in await list_outbox(engine)] != ["sending"]

    await until(settled, "the retried alert settled", context=sender.log_tail)
    assert [r.status for r in await list_outbox(engine)] == ["delivered"]
    assert len(receiver.accepted) == 1  # sent once
    assert await sender.stop(signal.SIGTERM) == 0, sender.log_tail()
