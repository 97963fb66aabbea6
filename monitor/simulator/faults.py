"""Fault and limit injection: flood waits, rate limits, slow answers, dropped connections, bans.

Rules are checked by the request handler before a request is answered. Request names are TL class
names as the request log shows them (``"GetHistoryRequest"``); ``None`` matches every request.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

__all__ = ["Faults", "FloodRule", "Hold", "RateRule"]


@dataclass
class FloodRule:
    """FLOOD_WAIT_<seconds> on the k-th call (1-based) of ``request``, counted from the rule.

    ``error`` names Telegram's other flood errors, e.g. ``FLOOD_PREMIUM_WAIT`` (downloads and
    uploads of non-Premium accounts)."""

    request: str | None
    on_call: int
    seconds: int
    account: str | None = None
    repeat: bool = False  # True: also every later call from the k-th on
    seen: int = 0
    error: str = "FLOOD_WAIT"


@dataclass
class RateRule:
    """Like Telegram: more than ``calls`` of ``request`` per ``window`` seconds per account
    answers FLOOD_WAIT for the rest of the window (at least ``seconds`` if given)."""

    request: str | None
    calls: int
    window: float
    seconds: int | None = None
    history: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))


@dataclass
class Hold:
    """The next call of ``request`` (by ``account``) waits for :meth:`release` before it is
    answered: before it takes effect, or after (``applied``: Telegram did it, the answer is
    late). ``arrived`` is set when the call comes; a client that disconnects meanwhile (killed)
    never gets an answer, and an unapplied call never takes effect."""

    request: str
    account: str | None
    applied: bool
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self.released.set()


class Faults:
    def __init__(self) -> None:
        self.flood_rules: list[FloodRule] = []
        self.rate_rules: list[RateRule] = []
        self.delays: dict[str | None, float] = {}
        self.banned: dict[int, set[str] | None] = {}  # channel id -> accounts (None = everyone)
        self._drops: list[tuple[str | None, int]] = []
        self._holds: list[Hold] = []
        self._failures: list[
            list
        ] = []  # [request, error, code, remaining calls]  # (request, remaining calls before drop)

    # -- configuration ---------------------------------------------------------------------------

    def flood_wait(
        self,
        request: str | None,
        seconds: int,
        *,
        on_call: int = 1,
        account: str | None = None,
        repeat: bool = False,
        error: str = "FLOOD_WAIT",
    ) -> FloodRule:
        rule = FloodRule(request, on_call, seconds, account, repeat, error=error)
        self.flood_rules.append(rule)
        return rule

    def rate_limit(
        self, request: str | None, calls: int, window: float, *, seconds: int | None = None
    ) -> RateRule:
        rule = RateRule(request, calls, window, seconds)
        self.rate_rules.append(rule)
        return rule

    def fail(self, request: str | None, error: str, *, code: int = 400, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``request`` with RPC error ``error`` (e.g.
        ``FILE_ID_INVALID``, code 400, or ``INTERNAL``, code 500)."""
        self._failures.append([request, error, code, times])

    def failure_for(self, request: str) -> tuple[int, str] | None:
        """The (code, error) this call must get from :meth:`fail`, or None."""
        for i, (name, error, code, times) in enumerate(self._failures):
            if name is None or name == request:
                if times <= 1:
                    del self._failures[i]
                else:
                    self._failures[i][3] = times - 1
                return code, error
        return None

    def slow(self, request: str | None, seconds: float) -> None:
        """Delay every answer to ``request`` (None: every request) by ``seconds``."""
        self.delays[request] = seconds

    def drop_connection(self, request: str | None = None, *, after: int = 1) -> None:
        """Close the client's connection instead of answering the ``after``-th matching call."""
        self._drops.append((request, after))

    def hold(self, request: str, *, account: str | None = None, applied: bool = False) -> Hold:
        """Hold the next call of ``request`` (see :class:`Hold`)."""
        rule = Hold(request, account, applied)
        self._holds.append(rule)
        return rule

    def hold_for(self, request: str, account: str) -> Hold | None:
        """The :class:`Hold` this call falls under (taken: it holds one call), or None."""
        for i, rule in enumerate(self._holds):
            if rule.request == request and rule.account in (None, account):
                del self._holds[i]
                rule.arrived.set()
                return rule
        return None

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
        found = self.flood_error(request, account, clock)
        return None if found is None else found[1]

    def flood_error(
        self, request: str, account: str, clock: float | None = None
    ) -> tuple[str, int] | None:
        """The flood error (``FLOOD_WAIT``...) and seconds this call must get, or None."""
        wait: int | None = None
        error = "FLOOD_WAIT"
        for rule in self.flood_rules:
            if rule.request not in (None, request) or rule.account not in (None, account):
                continue
            rule.seen += 1
            if rule.seen == rule.on_call or (rule.repeat and rule.seen > rule.on_call):
                if wait is None or rule.seconds > wait:
                    error = rule.error
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
                seconds = rate.seconds or max(left, 1)
                if wait is None or seconds > wait:
                    error = "FLOOD_WAIT"
                wait = max(wait or 0, seconds)
            else:
                calls.append(now)
        return None if wait is None else (error, wait)
