"""Keep the server alive: a failing feature answers neutrally instead of crashing.

Contract: `guarded(default)` wraps a handler (sync or async) so that any
exception is logged with its traceback on stderr (the client's output panel)
and the handler returns `default()` - an empty or neutral result for that
request. Cancellation is not an error and is re-raised, and so is a
`RequestFailed`: a deliberate refusal whose message the editor shows the user
("cannot rename: ...").
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar, cast

from pygls.exceptions import JsonRpcException

P = ParamSpec("P")
T = TypeVar("T")

log = logging.getLogger("dspx_lsp")


class RequestFailed(JsonRpcException):
    """A request the server refuses, with a message for the user (LSP RequestFailed)."""

    CODE = -32803


def guarded(default: Callable[[], Any]) -> Callable[[Callable[P, T]], Callable[P, T]]:
    def wrap(handler: Callable[P, T]) -> Callable[P, T]:
        if inspect.iscoroutinefunction(handler):
            async_handler = cast(Callable[P, Awaitable[Any]], handler)

            @functools.wraps(handler)
            async def run_async(*args: P.args, **kwargs: P.kwargs) -> Any:
                try:
                    return await async_handler(*args, **kwargs)
                except (asyncio.CancelledError, RequestFailed):
                    raise
                except Exception:
                    log.exception("dspx: %s failed; answering with an empty result", _name(handler))
                    return default()

            return cast(Callable[P, T], run_async)

        @functools.wraps(handler)
        def run(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return handler(*args, **kwargs)
            except RequestFailed:
                raise
            except Exception:
                log.exception("dspx: %s failed; answering with an empty result", _name(handler))
                return cast(T, default())

        return run

    return wrap


def _name(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", repr(handler))
