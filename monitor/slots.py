"""The account's worker slots, with a lane for pushed work that goes ahead of scheduled polls.

Scheduled passes share ``general`` slots and wait in order. A pass caused by a pushed update
(a new post, an edit, a deletion) waits in its own lane, which is always served first, and may
also use ``reserved`` slots that scheduled work never takes: however many scheduled polls are
queued or running, a pushed one starts at once or as soon as any slot frees.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

__all__ = ["Slots", "Ticket"]


@dataclass(eq=False)
class Ticket:
    """One pass's place in line: waiting in a lane, then holding a slot."""

    pushed: bool
    promoted: bool = False  # a scheduled pass moved to the pushed lane while it waited
    granted: bool = False
    reserved: bool = False  # holds one of the slots kept for pushed work
    waiter: asyncio.Future[None] | None = field(default=None, repr=False)


class Slots:
    """``async with slots.hold(ticket):`` runs the pass once the ticket's turn comes."""

    def __init__(self, general: int, *, reserved: int = 1) -> None:
        if general < 1 or reserved < 0:
            raise ValueError("need at least one general slot and no negative reserve")
        self.general = general
        self.reserved = reserved
        self._free_general = general
        self._free_reserved = reserved
        self._pushed: deque[Ticket] = deque()
        self._scheduled: deque[Ticket] = deque()

    def ticket(self, *, pushed: bool = False) -> Ticket:
        return Ticket(pushed)

    @property
    def waiting(self) -> int:
        return len(self._pushed) + len(self._scheduled)

    @property
    def busy(self) -> int:
        return (self.general - self._free_general) + (self.reserved - self._free_reserved)

    def promote(self, ticket: Ticket) -> None:
        """A scheduled pass still waiting became urgent (a pushed update named its channel)."""
        if ticket.pushed or ticket.granted:
            return
        ticket.pushed = ticket.promoted = True
        if ticket in self._scheduled:
            self._scheduled.remove(ticket)
            self._pushed.append(ticket)
            self._dispatch()

    async def acquire(self, ticket: Ticket) -> None:
        lane = self._pushed if ticket.pushed else self._scheduled
        if not lane and self._grant(ticket):
            return
        ticket.waiter = asyncio.get_running_loop().create_future()
        lane.append(ticket)
        try:
            await ticket.waiter
        except asyncio.CancelledError:
            if ticket.granted:
                self.release(ticket)
            else:
                for queue in (self._pushed, self._scheduled):
                    if ticket in queue:
                        queue.remove(ticket)
            raise
        finally:
            ticket.waiter = None

    def release(self, ticket: Ticket) -> None:
        if not ticket.granted:
            return
        ticket.granted = False
        if ticket.reserved:
            self._free_reserved += 1
        else:
            self._free_general += 1
        self._dispatch()

    def hold(self, ticket: Ticket) -> _Held:
        return _Held(self, ticket)

    def _grant(self, ticket: Ticket) -> bool:
        if ticket.pushed and self._free_reserved:
            self._free_reserved -= 1
            ticket.reserved = True
        elif self._free_general:
            self._free_general -= 1
            ticket.reserved = False
        else:
            return False
        ticket.granted = True
        return True

    def _dispatch(self) -> None:
        for lane in (self._pushed, self._scheduled):
            while lane and self._grant(lane[0]):
                ticket = lane.popleft()
                if ticket.waiter is not None and not ticket.waiter.done():
                    ticket.waiter.set_result(None)


class _Held:
    def __init__(self, slots: Slots, ticket: Ticket) -> None:
        self.slots = slots
        self.ticket = ticket

    async def __aenter__(self) -> Ticket:
        await self.slots.acquire(self.ticket)
        return self.ticket

    async def __aexit__(self, *_exc: object) -> None:
        self.slots.release(self.ticket)
