"""`Slots`: a model's concurrency limit, shared by every event loop the client runs calls on.

Why not `asyncio.Semaphore`: it belongs to one loop, and an `LMClient` runs calls on its
engine loop and directly on the loops its sync callers run (`LMClient.run`), so the limit
must hold across loops and threads. Waiters are served first come, first served; a slot
freed while others wait passes straight to the next waiter, so a new arrival cannot take it.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from types import TracebackType

__all__ = ["Slots"]


class Slots:
    """`async with slots:` holds one of `limit` slots; safe from any thread and loop."""

    def __init__(self, limit: int) -> None:
        self._lock = threading.Lock()
        self._free = limit
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    @property
    def free(self) -> int:
        with self._lock:
            return self._free

    async def __aenter__(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append((loop, waiter))
        try:
            await waiter
        except asyncio.CancelledError:
            with self._lock:
                try:
                    self._waiters.remove((loop, waiter))
                    granted = False
                except ValueError:
                    granted = True  # a release handed us the slot as we were cancelled
            if granted:
                self.release()
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        """Free a held slot: it goes to the longest waiter whose loop still runs."""
        with self._lock:
            while self._waiters:
                loop, waiter = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(_grant, waiter)
                except RuntimeError:  # its loop is closed: nobody will take the slot there
                    continue
                return
            self._free += 1


def _grant(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
