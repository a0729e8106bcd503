"""The event loops the runtime creates: asyncio's, or uvloop's when `DSPX_LOOP=uvloop`.

Why asyncio by default: measured on bench/eval_throughput.py (500 calls, 32 in flight, 2
cores), dspx on uvloop's loops took 1.80 s where asyncio's took 1.73 s; the runtime's two
loops (the caller's and the LM engine thread's) hand calls across threads, which uvloop does
not make cheaper. `DSPX_LOOP=uvloop` (with uvloop installed) is there to measure it on your
machine. Only loops the runtime owns are affected: the LM engine thread's and the ones that
`dspxc` and `Program`'s sync calls run; a caller's own running loop is left alone.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from dspx_lang.runtime.errors import DspxConfigError

__all__ = ["new_event_loop", "run"]

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    choice = os.environ.get("DSPX_LOOP", "").strip().lower()
    if choice in ("", "asyncio"):
        return asyncio.new_event_loop()
    if choice != "uvloop":
        raise DspxConfigError(f"DSPX_LOOP={choice!r} is not a loop: use 'asyncio' or 'uvloop'")
    try:
        import uvloop
    except ImportError:
        raise DspxConfigError(
            "DSPX_LOOP=uvloop but uvloop is not installed: `pip install uvloop`, or unset DSPX_LOOP"
        ) from None
    return uvloop.new_event_loop()


def run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(coro)` on a loop from `new_event_loop`."""
    try:
        loop = new_event_loop()
    except DspxConfigError:
        coro.close()  # never started: close it so Python does not warn it was never awaited
        raise
    with asyncio.Runner(loop_factory=lambda: loop) as runner:
        return runner.run(coro)
