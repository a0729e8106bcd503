"""`LMClient`: chat calls to any model, with cache, retries, timeouts and concurrency limits.

Contract:
- No global mutable state: the event loop, connection pool, semaphores, cache connection and
  counters live on the client instance. Two clients share nothing but the cache file.
- Each client runs one background event-loop thread (its engine), started on first need.
  `acomplete` from any loop runs the call on the engine: one connection pool per client,
  and keep-alive connections across `asyncio.run` calls.
- `run(coro)` runs a coroutine on the calling thread's own loop of the client (its lane,
  kept for the next `run`); native calls made there run on that loop directly, with a
  session of their own, instead of being handed to the engine thread and back — the two
  hand-offs took a program call from 0.71 ms to 1.03 ms (bench/runtime_call.py). `complete` (sync)
  is `run(acomplete(...))`, or an engine call when a loop already runs on the thread.
  litellm calls always run on the engine (litellm keeps clients per loop).
- A model's concurrency limit holds across the engine and every lane (`Slots`).
- Per attempt: a model's concurrency slot is held, and the whole request (connect, send,
  read) is bounded by `model.timeout_s`; a stuck read is cancelled and counts as a retryable
  timeout. Retryable failures are retried `model.retries` times with `RetryPolicy` backoff
  (Retry-After honoured); the slot is released while waiting. The last error is raised with
  `attempts` set.
- Cache (on unless `cache=False` or `DSPX_CACHE=0`, in `DSPX_CACHE_DIR` or the user cache
  dir): a hit makes no request and returns `cached=True`, cost 0, `attempts=0`. Only
  successful responses are stored.
- `latency_s` is the whole call (queueing for a slot, every attempt, backoff waits), minus
  the one-time import of litellm.
- Cost is `model.input_cost`/`output_cost` (USD per 1M tokens) where set, else litellm's price
  map (`dspx_lang.modelfacts`), else None.
- The API key is read from the environment for each attempt and handed only to the transport.
- After a fork the child starts its own engine and cache connection on first use.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import random
import threading
import time
import weakref
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self, TypeVar

from dspx_lang.modelfacts import ModelFacts, lookup, user_cache_dir
from dspx_lang.runtime.errors import DspxConfigError, DspxProviderError, DspxTimeoutError
from dspx_lang.runtime.lm.cache import ResponseCache
from dspx_lang.runtime.lm.native import NativeTransport, proxy_for
from dspx_lang.runtime.lm.retry import RetryPolicy
from dspx_lang.runtime.lm.slots import Slots
from dspx_lang.runtime.lm.types import LMRequest, LMResponse, ModelSpec, TransportName, Usage
from dspx_lang.runtime.lm.via_litellm import LiteLLMTransport
from dspx_lang.runtime.lm.wire import Completion, cache_key, encode_body, request_params
from dspx_lang.runtime.loop import new_event_loop

__all__ = ["LMClient", "LMStats"]

_OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"
T = TypeVar("T")
_PER_MILLION = 1_000_000


@dataclass(frozen=True, slots=True)
class LMStats:
    """Totals over a client's calls so far (cache hits cost nothing and make no request)."""

    calls: int = 0
    cache_hits: int = 0
    failures: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class _Route:
    """How calls to one ModelSpec are sent; computed once per spec."""

    transport: TransportName
    base: str | None
    url: str
    proxy: str | None
    key_required: bool
    input_cost: float | None
    output_cost: float | None
    slot: tuple[str, str, str, int]


@dataclass(slots=True)
class _Engine:
    """The client's event-loop thread and everything bound to that loop."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    pid: int
    native: NativeTransport = field(default_factory=NativeTransport)
    litellm: LiteLLMTransport = field(default_factory=LiteLLMTransport)

    def shutdown(self) -> None:
        """Close the session and stop the loop thread (idempotent, safe at exit)."""
        if self.loop.is_closed() or self.pid != os.getpid():
            return
        if self.loop.is_running():
            closing = asyncio.run_coroutine_threadsafe(self._aclose(), self.loop)
            try:
                closing.result(10)
            except (concurrent.futures.TimeoutError, RuntimeError):
                closing.cancel()
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        if not self.loop.is_running():
            self.loop.close()

    async def _aclose(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.native.aclose()


def _run_loop(loop: asyncio.AbstractEventLoop, ready: threading.Event) -> None:
    asyncio.set_event_loop(loop)
    loop.call_soon(ready.set)
    loop.run_forever()


@dataclass(slots=True)
class _Lane:
    """One caller thread's loop for `LMClient.run`, and the session bound to that loop.
    Not an `asyncio.Runner`: it installs a SIGINT handler on every run, and building the
    enum of the old handler reprs the task (~0.1 ms of a ~1 ms call, measured)."""

    loop: asyncio.AbstractEventLoop
    pid: int
    busy: threading.Lock = field(default_factory=threading.Lock)
    native: NativeTransport = field(default_factory=NativeTransport)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        task = self.loop.create_task(coro)
        try:
            return self.loop.run_until_complete(task)
        except BaseException:
            # Interrupted (Ctrl-C): cancel the run instead of leaving it pending on the loop.
            task.cancel()
            with contextlib.suppress(BaseException):
                self.loop.run_until_complete(task)
            raise

    def shutdown(self) -> None:
        """Close the session and the loop; the caller holds `busy` (or the lane is unused)."""
        if self.loop.is_closed() or self.pid != os.getpid():
            return
        # Collected while another loop runs on this thread: the loop cannot run to clean up.
        if not _loop_running():
            _cancel_tasks(self.loop)
            with contextlib.suppress(Exception):
                self.loop.run_until_complete(self.native.aclose())
                self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        if not self.loop.is_running():
            self.loop.close()


def _loop_running() -> bool:
    """Does an event loop run on this thread?"""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _cancel_tasks(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        task.cancel()


def _shut_lanes(lanes: dict[asyncio.AbstractEventLoop, _Lane]) -> None:
    """At exit or when the client is collected: close every lane not in a call."""
    for lane in list(lanes.values()):
        if lane.busy.acquire(blocking=False):
            try:
                lane.shutdown()
            finally:
                lane.busy.release()


class LMClient:
    """Sends chat requests for `ModelSpec`s; see the module docstring for the guarantees."""

    def __init__(
        self,
        *,
        cache: bool | None = None,
        cache_dir: str | os.PathLike[str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        """`cache`: None reads `DSPX_CACHE` (off when "0"); `cache_dir`: None reads
        `DSPX_CACHE_DIR`, else the user cache dir. Both are read here, once."""
        enabled = os.environ.get("DSPX_CACHE", "1").strip() != "0" if cache is None else cache
        self._cache_dir: Path | None = (
            (Path(cache_dir) if cache_dir is not None else user_cache_dir()) if enabled else None
        )
        self._cache: ResponseCache | None = None
        self._retry = retry or RetryPolicy()
        self._rng = random.Random()
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._engine: _Engine | None = None
        self._lanes: dict[asyncio.AbstractEventLoop, _Lane] = {}
        self._local = threading.local()
        self._forked_from: list[object] = []
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._lanes_finalizer = weakref.finalize(self, _shut_lanes, self._lanes)
        self._routes: dict[ModelSpec, _Route] = {}
        self._slots: dict[tuple[str, str, str, int], Slots] = {}
        self._stats = LMStats()
        self._closed = False

    @property
    def cache_path(self) -> Path | None:
        """The SQLite cache file, or None when caching is off."""
        return None if self._cache_dir is None else self._response_cache().path

    def stats(self) -> LMStats:
        """A snapshot of this client's totals."""
        with self._lock:
            return self._stats

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` to completion on this thread's loop of the client (no event loop may
        be running on this thread); its native calls run on that loop directly.
        Interrupted (Ctrl-C), the coroutine is cancelled, not left pending."""
        try:
            if _loop_running():
                raise DspxConfigError(
                    "LMClient.run() was called inside a running event loop; await the coroutine"
                )
            lane = self._lane()
        except DspxConfigError:
            coro.close()  # never started: close it so Python does not warn it was never awaited
            raise
        with lane.busy:
            if lane.loop.is_closed():
                coro.close()
                raise DspxConfigError("this LMClient is closed; create a new one")
            try:
                return lane.run(coro)
            except asyncio.CancelledError:
                if self._closed:
                    raise DspxConfigError("this LMClient was closed during the call") from None
                raise
            finally:
                if self._closed:  # closed by another thread during the run: ours to close
                    lane.shutdown()

    def complete(self, model: ModelSpec, request: LMRequest, *, cache: bool = True) -> LMResponse:
        """Make one call and wait for it; safe from any thread, blocking the caller only."""
        if not _loop_running():
            return self.run(self.acomplete(model, request, cache=cache))
        engine = self._ensure_engine()
        if threading.get_ident() == engine.thread.ident:
            raise DspxConfigError(
                "LMClient.complete() was called on the client's own event-loop thread; "
                "use `await client.acomplete(...)` there"
            )
        future = asyncio.run_coroutine_threadsafe(
            self._call(engine.native, engine, model, request, cache), engine.loop
        )
        try:
            return future.result()
        finally:
            # A no-op when done; stops the call if the caller was interrupted (Ctrl-C).
            future.cancel()

    async def acomplete(
        self, model: ModelSpec, request: LMRequest, *, cache: bool = True
    ) -> LMResponse:
        """Make one call from any event loop; cancelling the awaiting task cancels the call."""
        lane = self._lanes.get(asyncio.get_running_loop())
        if (
            lane is not None
            and lane.pid == os.getpid()
            and not self._closed
            and self._route(model).transport == "native"
        ):
            return await self._call(lane.native, None, model, request, cache)
        engine = self._ensure_engine()
        call = self._call(engine.native, engine, model, request, cache)
        if asyncio.get_running_loop() is engine.loop:
            return await call
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, engine.loop))

    def close(self) -> None:
        """Cancel calls in flight, close connections and the cache; the client is then done."""
        self._close(None)

    def _close(self, caller: asyncio.AbstractEventLoop | None) -> None:
        """`caller`: the loop that awaits the close (its run is left to finish)."""
        with self._lock:
            self._closed = True
            engine, self._engine = self._engine, None
            cache, self._cache = self._cache, None
            lanes = list(self._lanes.values())
            self._lanes.clear()
        if engine is not None:
            if threading.get_ident() == engine.thread.ident:
                raise DspxConfigError("LMClient.close() cannot run on the client's own thread")
            engine.shutdown()
        for lane in lanes:
            if lane.busy.acquire(blocking=False):
                try:
                    lane.shutdown()
                finally:
                    lane.busy.release()
            elif lane.loop is not caller:
                # A run is in progress on another thread: cancel it; that thread closes the lane.
                with contextlib.suppress(RuntimeError):  # it closed meanwhile
                    lane.loop.call_soon_threadsafe(_cancel_tasks, lane.loop)
        if cache is not None:
            cache.close()

    async def aclose(self) -> None:
        await asyncio.to_thread(self._close, asyncio.get_running_loop())

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _adopt_fork(self) -> None:
        """(Holding `_lock`.) In a forked child the parent's loop thread, lanes and SQLite
        connection are not ours. Closing them here would warn (aiohttp) or checkpoint the
        parent's WAL file (SQLite closes the last connection that way): keep them, unused."""
        if self._pid == os.getpid():
            return
        self._forked_from.append((self._engine, self._cache, dict(self._lanes)))
        self._pid = os.getpid()
        self._engine = None
        self._cache = None
        self._routes = {}
        self._slots = {}
        self._lanes.clear()
        self._local = threading.local()

    def _lane(self) -> _Lane:
        with self._lock:
            if self._closed:
                raise DspxConfigError("this LMClient is closed; create a new one")
            self._adopt_fork()
            lane: _Lane | None = getattr(self._local, "lane", None)
            if lane is None:
                lane = _Lane(loop=new_event_loop(), pid=self._pid)
                self._local.lane = lane
                self._lanes[lane.loop] = lane
            return lane

    def _ensure_engine(self) -> _Engine:
        with self._lock:
            if self._closed:
                raise DspxConfigError("this LMClient is closed; create a new one")
            self._adopt_fork()
            if self._engine is not None:
                return self._engine
            loop = new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=_run_loop, args=(loop, ready), name="dspx-lm-engine", daemon=True
            )
            thread.start()
            ready.wait()
            engine = _Engine(loop=loop, thread=thread, pid=self._pid)
            self._engine = engine
            if self._finalizer is not None:
                self._finalizer.detach()
            self._finalizer = weakref.finalize(self, engine.shutdown)
            return engine

    def _response_cache(self) -> ResponseCache:
        assert self._cache_dir is not None
        with self._lock:
            if self._cache is None:
                self._cache = ResponseCache(self._cache_dir)
            return self._cache

    def _route(self, model: ModelSpec) -> _Route:
        route = self._routes.get(model)
        if route is not None:
            return route
        transport = model.resolved_transport()
        base = model.native_base() if transport == "native" else model.api_base
        if transport == "native" and base is None:
            raise DspxConfigError(
                f"model '{model.name}' ({model.model_id}): the native transport needs an "
                "OpenAI-compatible endpoint; set `api_base` or use transport 'litellm'"
            )
        url = f"{base}/chat/completions" if base else ""
        facts = lookup(model.model_id)
        route = _Route(
            transport=transport,
            base=base,
            url=url,
            proxy=proxy_for(url) if url else None,
            key_required=base == _OPENAI_DEFAULT_BASE,
            input_cost=model.input_cost if model.input_cost is not None else _cost(facts, 0),
            output_cost=model.output_cost if model.output_cost is not None else _cost(facts, 1),
            slot=(transport, model.model_id, base or "", model.concurrency),
        )
        self._routes[model] = route
        return route

    def _api_key(self, model: ModelSpec, route: _Route) -> str | None:
        env = model.key_env()
        key = os.environ.get(env) if env else None
        if key:
            return key
        if model.api_key_env or (route.transport == "native" and route.key_required):
            raise DspxConfigError(
                f"model '{model.name}' ({model.model_id}): no API key: set the environment "
                f"variable {env}"
            )
        if route.transport == "litellm" and model.api_base and env is not None:
            # litellm's OpenAI-style clients refuse to send without a key; local servers
            # (llama.cpp, vLLM) need none.
            return "no-key-required"
        return None

    async def _call(
        self,
        native: NativeTransport,
        engine: _Engine | None,
        model: ModelSpec,
        request: LMRequest,
        use_cache: bool,
    ) -> LMResponse:
        """One call on the running loop: a lane's (`engine` None: native routes only) or
        the engine's."""
        started = time.perf_counter()
        route = self._route(model)
        params = request_params(model, request)
        body = encode_body(model, request, params)
        cache = self._response_cache() if use_cache and self._cache_dir is not None else None
        key = cache_key(model, route.base, body) if cache is not None else ""
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                response = replace(hit, latency_s=time.perf_counter() - started)
                self._record(response, requests=0)
                return response
        litellm = engine.litellm if engine is not None else None
        if route.transport == "litellm" and litellm is not None and not litellm.loaded:
            await litellm.ready()
            # The one-time import of litellm (seconds) is not the provider's latency.
            started = time.perf_counter()
        slot = self._slots.get(route.slot)
        if slot is None:
            with self._lock:
                slot = self._slots.setdefault(route.slot, Slots(model.concurrency))
        attempt = 0
        while True:
            attempt += 1
            try:
                api_key = self._api_key(model, route)
                async with slot, asyncio.timeout(model.timeout_s):
                    result = await self._send(
                        native,
                        litellm,
                        model,
                        route,
                        request=request,
                        params=params,
                        body=body,
                        api_key=api_key,
                    )
                break
            except TimeoutError:
                error: DspxProviderError = DspxTimeoutError(
                    f"model '{model.name}' ({model.model_id}): no complete answer within "
                    f"timeout_s={model.timeout_s:g}",
                    retryable=True,
                    provider=model.provider,
                    model=model.model_id,
                )
            except DspxProviderError as exc:
                error = exc
            except DspxConfigError:
                self._record(None, requests=attempt - 1)
                raise
            if not error.retryable or attempt > model.retries:
                error.attempts = attempt
                if error.retryable:
                    error.message += f" (gave up after {attempt} attempts)"
                    error.args = (error.message,)
                self._record(None, requests=attempt)
                raise error
            await asyncio.sleep(self._retry.delay(attempt, error.retry_after_s, self._rng))
        text, tool_calls, usage, finish = result
        response = LMResponse(
            text=text,
            tool_calls=tool_calls,
            usage=usage,
            cost_usd=_price(route, usage),
            latency_s=time.perf_counter() - started,
            cached=False,
            finish_reason=finish,
            transport=route.transport,
            attempts=attempt,
        )
        if cache is not None:
            cache.put(key, response)
        self._record(response, requests=attempt)
        return response

    async def _send(
        self,
        native: NativeTransport,
        litellm: LiteLLMTransport | None,
        model: ModelSpec,
        route: _Route,
        *,
        request: LMRequest,
        params: dict[str, Any],
        body: bytes,
        api_key: str | None,
    ) -> Completion:
        if route.transport == "native":
            return await native.send(model, route.url, body, api_key, route.proxy)
        assert litellm is not None, "litellm routes run on the engine"
        return await litellm.send(model, request, params, api_key, model.timeout_s)

    def _record(self, response: LMResponse | None, *, requests: int) -> None:
        with self._lock:
            s = self._stats
            self._stats = LMStats(
                calls=s.calls + 1,
                cache_hits=s.cache_hits + (response is not None and response.cached),
                failures=s.failures + (response is None),
                requests=s.requests + requests,
                prompt_tokens=s.prompt_tokens + (response.usage.prompt_tokens if response else 0),
                completion_tokens=s.completion_tokens
                + (response.usage.completion_tokens if response else 0),
                cost_usd=s.cost_usd + ((response.cost_usd or 0.0) if response else 0.0),
            )


def _cost(facts: ModelFacts | None, index: int) -> float | None:
    if facts is None:
        return None
    return facts.input_cost if index == 0 else facts.output_cost


def _price(route: _Route, usage: Usage) -> float | None:
    if route.input_cost is None or route.output_cost is None:
        return None
    return (
        usage.prompt_tokens * route.input_cost + usage.completion_tokens * route.output_cost
    ) / _PER_MILLION
