"""Fault and limit injection: flood waits, rate limits, slow answers, dropped connections, bans.

Rules are checked by the request handler before a request is answered. Request names are TL class
names as the request log shows them (``"GetHistoryRequest"``); ``None`` matches every request.
"""

from __future__ import annotations

import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

__all__ = ["Faults", "FloodRule", "RateRule"]


@dataclass
class FloodRule:
    """FLOOD_WAIT_<seconds> on the k-th call (1-based) of ``request``, counted from the rule."""

    request: str | None
    on_call: int
    seconds: int
    account: str | None = None
    repeat: bool = False  # True: also every later call from the k-th on
    seen: int = 0


@dataclass
class RateRule:
    """Like Telegram: more than ``calls`` of ``request`` per ``window`` seconds per account
    answers FLOOD_WAIT for the rest of the window (at least ``seconds`` if given)."""

    request: str | None
    calls: int
    window: float
    seconds: int | None = None
    history: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))


class Faults:
    def __init__(self) -> None:
        self.flood_rules: list[FloodRule] = []
        self.rate_rules: list[RateRule] = []
        self.delays: dict[str | None, float] = {}
        self.banned: dict[int, set[str] | None] = {}  # channel id -> accounts (None = everyone)
        self._drops: list[tuple[str | None, int]] = []  # (request, remaining calls before drop)

    # -- configuration ---------------------------------------------------------------------------

    def flood_wait(
        self,
        request: str | None,
        seconds: int,
        *,
        on_call: int = 1,
        account: str | None = None,
        repeat: bool = False,
    ) -> FloodRule:
        rule = FloodRule(request, on_call, seconds, account, repeat)
        self.flood_rules.append(rule)
        return rule

    def rate_limit(
        self, request: str | None, calls: int, window: float, *, seconds: int | None = None
    ) -> RateRule:
        rule = RateRule(request, calls, window, seconds)
        self.rate_rules.append(rule)
        return rule

    def slow(self, request: str | None, seconds: float) -> None:
        """Delay every answer to ``request`` (None: every request) by ``seconds``."""
        self.delays[request] = seconds

    def drop_connection(self, request: str | None = None, *, after: int = 1) -> None:
        """Close the client's connection instead of answering the ``after``-th matching call."""
        self._drops.append((request, after))

    def ban(self, channel_id: int, *, account: str | None = None) -> None:
        """Requests touching the channel answer CHANNEL_PRIVATE (for one account or everyone)."""
        if account is None:
            self.banned[channel_id] = None
        else:
            accounts = self.banned.setdefault(channel_id, set())
            if accounts is not None:
                accounts.add(account)

    def unban(self, channel_id: int) -> None:
        self.banned.pop(channel_id, None)

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    # -- checks (used by the handler) -------------------------------------------------------------

    def is_banned(self, channel_id: int, account: str) -> bool:
        if channel_id not in self.banned:
            return False
        accounts = self.banned[channel_id]
        return accounts is None or account in accounts

    def delay_for(self, request: str) -> float:
        return self.delays.get(request, 0.0) + self.delays.get(None, 0.0)

    def should_drop(self, request: str) -> bool:
        for i, (name, remaining) in enumerate(self._drops):
            if name is None or name == request:
                if remaining <= 1:
                    del self._drops[i]
                    return True
                self._drops[i] = (name, remaining - 1)
        return False

    def flood_seconds(self, request: str, account: str, clock: float | None = None) -> int | None:
        """Seconds of FLOOD_WAIT this call must get, or None to answer normally."""
        wait: int | None = None
        for rule in self.flood_rules:
            if rule.request not in (None, request) or rule.account not in (None, account):
                continue
            rule.seen += 1
            if rule.seen == rule.on_call or (rule.repeat and rule.seen > rule.on_call):
                wait = max(wait or 0, rule.seconds)
        now = time.monotonic() if clock is None else clock
        for rate in self.rate_rules:
            if rate.request not in (None, request):
                continue
            calls = rate.history[account]
            while calls and calls[0] <= now - rate.window:
                calls.popleft()
            if len(calls) >= rate.calls:
                left = int(calls[0] + rate.window - now + 0.999)
                wait = max(wait or 0, rate.seconds or max(left, 1))
            else:
                calls.append(now)
        return wait
