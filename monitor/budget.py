"""An account's messages.getHistory budget, kept on our side so Telegram never has to enforce it.

Telegram answers FLOOD_WAIT once an account reads history faster than it allows (the operator's
``history_per_30s`` estimate in ``accounts:``). Pacing the first passes (monitor.scheduler)
keeps start-up within it, but in steady state polls, catch-up re-checks and the polls that
pushed updates cause add up to more than any plan foresees. A :class:`HistoryBudget` is the
hard limit behind the plan: at most ``calls`` getHistory requests start in any ``window``
seconds; the next one waits for the oldest to leave the window. Requests made for a pushed
update (:data:`PUSHED` set in their task) go first, so an alert never queues behind scheduled
polls. A wait here is time a poll runs late, and shows as lag; a flood wait would park the
channel far longer and move it to another account.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable

__all__ = ["LIMIT_SHARE", "PUSHED", "HistoryBudget"]

#: Share of the configured budget the limiter lets through: the rest absorbs the difference
#: between when we start a request and when Telegram counts it.
LIMIT_SHARE = 0.9
#: Set to True in the task of a pass caused by a pushed update (it goes ahead in the queue).
PUSHED: contextvars.ContextVar[bool] = contextvars.ContextVar("pushed", default=False)


class HistoryBudget:
    """``async with budget.use():`` around each getHistory request.

    A request counts from when it starts until a full window after its answer came back: the
    server counted it somewhere in between, so however late it arrived there, no window as
    Telegram counts it holds more than ``calls``.
    """

    def __init__(
        self,
        per_30s: int,
        *,
        window: float = 30.0,
        share: float = LIMIT_SHARE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_30s < 1:
            raise ValueError("a budget needs at least one call per window")
        self.calls = max(1, int(per_30s * share))
        self.window = window
        self.clock = clock
        self.waited = 0  # requests that had to wait for room (for status and benchmarks)
        self._inflight = 0
        self._answered: deque[float] = deque()  # when the window's answered requests ended
        self._queue: list[tuple[int, int, asyncio.Future[None]]] = []  # (lane, order, waiter)
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[None]:
        await self._acquire()
        try:
            yield
        finally:
            self._inflight -= 1
            self._answered.append(self.clock())
            if self._queue:
                self._dispatch()

    async def _acquire(self) -> None:
        if not self._queue and self._room():
            self._inflight += 1
            return
        self.waited += 1
        waiter = asyncio.get_running_loop().create_future()
        heapq.heappush(self._queue, (0 if PUSHED.get() else 1, next(self._order), waiter))
        self._dispatch()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # let through as it was cancelled
                self._inflight -= 1
                self._dispatch()
            raise

    def _room(self) -> bool:
        now = self.clock()
        while self._answered and self._answered[0] <= now - self.window:
            self._answered.popleft()
        return self._inflight + len(self._answered) < self.calls

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._queue:
            if self._queue[0][2].done():  # cancelled while waiting
                heapq.heappop(self._queue)
                continue
            if not self._room():
                break
            _, _, waiter = heapq.heappop(self._queue)
            self._inflight += 1
            waiter.set_result(None)
        if self._queue and self._answered:  # else a request under way frees room when answered
            delay = max(0.0, self._answered[0] + self.window - self.clock())
            self._timer = asyncio.get_running_loop().call_later(delay, self._dispatch)
