"""`Slots`: a concurrency limit shared by event loops on different threads."""

from __future__ import annotations

import asyncio
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from dspx_lang.runtime.lm.slots import Slots


def test_limit_holds_across_loops_on_many_threads() -> None:
    slots = Slots(3)
    guard = threading.Lock()
    held = 0
    peak = 0

    async def hold(rng: random.Random) -> None:
        nonlocal held, peak
        async with slots:
            with guard:
                held += 1
                peak = max(peak, held)
            await asyncio.sleep(rng.random() / 200)
            with guard:
                held -= 1

    async def many(seed: int) -> None:
        rng = random.Random(seed)
        await asyncio.gather(*(hold(rng) for _ in range(25)))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda seed: asyncio.run(many(seed)), range(4)))
    assert (peak, held, slots.free) == (3, 0, 3)


def test_a_freed_slot_goes_to_the_longest_waiter_on_its_own_loop() -> None:
    slots = Slots(1)
    order: list[str] = []
    ready = threading.Barrier(3)

    async def wait_then_take(tag: str, delay: float) -> None:
        await asyncio.sleep(delay)
        async with slots:
            order.append(tag)

    async def holder() -> None:
        async with slots:
            ready.wait()  # both waiters exist on their loops before the slot is freed
            await asyncio.sleep(0.2)
            order.append("holder")

    def waiter(tag: str, delay: float) -> None:
        ready.wait()
        asyncio.run(wait_then_take(tag, delay))

    with ThreadPoolExecutor(3) as pool:
        jobs = [
            pool.submit(asyncio.run, holder()),
            pool.submit(waiter, "first", 0.0),
            pool.submit(waiter, "second", 0.1),
        ]
        for job in jobs:
            job.result(timeout=10)
    assert order == ["holder", "first", "second"]
    assert slots.free == 1


def test_a_cancelled_waiter_takes_no_slot_and_loses_none() -> None:
    async def main() -> int:
        slots = Slots(1)
        await slots.__aenter__()
        waiting = asyncio.ensure_future(slots.__aenter__())
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        slots.release()
        async with slots:  # the slot is free again, not lost to the cancelled waiter
            return slots.free

    assert asyncio.run(main()) == 0


def test_a_slot_granted_as_the_waiter_is_cancelled_is_passed_on() -> None:
    async def main() -> int:
        slots = Slots(1)
        await slots.__aenter__()
        waiting = asyncio.ensure_future(slots.__aenter__())
        await asyncio.sleep(0.01)
        slots.release()  # grants the waiter (its callback is queued) ...
        waiting.cancel()  # ... which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await waiting
        return slots.free

    assert asyncio.run(main()) == 1
