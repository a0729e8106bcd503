"""The event loops the runtime creates: uvloop's where it is installed, else asyncio's.

Why: an evaluation at 32 calls in flight is bound by per-request CPU on a small machine, and
uvloop's loop (libuv, in C) halves the loop's share of it; see bench/eval_throughput.py for
the measured difference. `DSPX_LOOP=asyncio` forces asyncio's own loop (to debug, or to
compare). Only loops the runtime owns are affected: the LM engine thread's and the ones that
`dspxc` and `Program`'s sync calls run; a caller's own running loop is left alone.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["new_event_loop", "run"]

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    if os.environ.get("DSPX_LOOP", "").strip().lower() != "asyncio":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)` on a loop from `new_event_loop`."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(coro)
