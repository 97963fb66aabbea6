"""The account's worker slots: pushed work first, a reserved slot, nothing leaked on cancel."""

from __future__ import annotations

import asyncio

from monitor.slots import Slots


async def _spin(times: int = 10) -> None:
    for _ in range(times):
        await asyncio.sleep(0)


async def test_scheduled_work_never_takes_the_reserved_slot_and_pushed_work_goes_first():
    slots = Slots(1, reserved=1)
    order: list[str] = []
    gate = asyncio.Event()

    async def run(name: str, *, pushed: bool) -> None:
        async with slots.hold(slots.ticket(pushed=pushed)):
            order.append(name)
            await gate.wait()

    tasks = [asyncio.ensure_future(run("s1", pushed=False))]
    await _spin()
    tasks.append(asyncio.ensure_future(run("s2", pushed=False)))
    await _spin()
    assert order == ["s1"]  # the second scheduled pass waits: the reserve is not for it
    tasks.append(asyncio.ensure_future(run("p1", pushed=True)))
    tasks.append(asyncio.ensure_future(run("p2", pushed=True)))
    await _spin()
    assert order == ["s1", "p1"]  # the reserved slot, at once
    gate.set()
    await asyncio.gather(*tasks)
    assert order == ["s1", "p1", "p2", "s2"]
    assert (slots.busy, slots.waiting) == (0, 0)


async def test_a_cancelled_pass_gives_back_its_slot_or_its_place_in_line():
    slots = Slots(1, reserved=0)
    gate = asyncio.Event()

    async def run() -> None:
        async with slots.hold(slots.ticket()):
            await gate.wait()

    holder = asyncio.ensure_future(run())
    waiter = asyncio.ensure_future(run())
    await _spin()
    assert (slots.busy, slots.waiting) == (1, 1)
    waiter.cancel()
    await _spin()
    assert (slots.busy, slots.waiting) == (1, 0)
    holder.cancel()
    await _spin()
    assert (slots.busy, slots.waiting) == (0, 0)
    assert all(t.cancelled() for t in (holder, waiter))
