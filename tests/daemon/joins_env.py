"""Helpers of the live-update (join) tests: channels.yaml with join limits, what Telegram says
each account joined, and what `monitor workers --live` says."""

from __future__ import annotations

import json

from tests.daemon.conftest import Env
from tests.daemon.workers_env import workers_yaml

#: Long enough that no scheduled poll comes during a test: a post stored is a pushed one.
POLL_EVERY = "1h"


def joins_yaml(names: list[str], accounts: list[str], *, join_limit: int = 2) -> str:
    text = workers_yaml(names, accounts, route_url="unused").split("alerts:")[0]
    text = text.replace("poll_every: 10s", f"poll_every: {POLL_EVERY}")
    return text.replace(
        "history_per_30s: 600", f"history_per_30s: 600\n    join_limit: {join_limit}"
    )


def joined_in_telegram(sim, ids: list[int]) -> dict[int, set[str]]:  # noqa: ANN001
    """Channel id -> the accounts the simulated Telegram counts as members."""
    return {i: set(sim.backend.channel(i).joined) for i in ids}


async def live_rows(env: Env) -> dict[str, tuple[str, str | None]]:
    """`monitor workers --live --json`: channel -> (live / joining / polled, account)."""
    code, out, err = await env.monitor("workers", "--live", "--json")
    assert code == 0, err
    rows = map(json.loads, out.splitlines())
    return {
        row["channel"]: (
            "live" if row["live"] else "joining" if row["joining"] else "polled",
            row["account"],
        )
        for row in rows
    }


def truth(sim, names: list[str], ids: list[int]) -> dict[str, tuple[str, str | None]]:  # noqa: ANN001
    """What `--live` should say: each channel live by the one account in it, else polled."""
    out: dict[str, tuple[str, str | None]] = {}
    for name, members in zip(names, joined_in_telegram(sim, ids).values(), strict=True):
        assert len(members) <= 1, f"{name} joined by {sorted(members)}"
        out[name] = ("live", next(iter(members))) if members else ("polled", None)
    return out


def tails(workers) -> str:  # noqa: ANN001
    return "\n".join(w.log_tail() for w in workers)
