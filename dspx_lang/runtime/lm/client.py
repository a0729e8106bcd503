"""`LMClient`: chat calls to any model, with cache, retries, timeouts and concurrency limits.

Contract:
- No global mutable state: the event loop, connection pool, semaphores, cache connection and
  counters live on the client instance. Two clients share nothing but the cache file.
- Each client runs one background event-loop thread (its engine), started on the first call.
  Both `complete` (sync, any thread, also inside a running event loop) and `acomplete` (any
  loop) run the call on the engine. Why: one connection pool and one semaphore per model for
  every caller, whichever thread or loop it is on, and keep-alive connections across
  `asyncio.run` calls; a sync call costs one thread hand-off instead of a new loop and a new
  connection (see bench/lm_transport.py for the measured difference).
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
import os
import random
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

from dspx_lang.modelfacts import ModelFacts, lookup, user_cache_dir
from dspx_lang.runtime.errors import DspxConfigError, DspxProviderError, DspxTimeoutError
from dspx_lang.runtime.lm.cache import ResponseCache
from dspx_lang.runtime.lm.native import NativeTransport, proxy_for
from dspx_lang.runtime.lm.retry import RetryPolicy
from dspx_lang.runtime.lm.types import LMRequest, LMResponse, ModelSpec, TransportName, Usage
from dspx_lang.runtime.lm.via_litellm import LiteLLMTransport
from dspx_lang.runtime.lm.wire import Completion, cache_key, encode_body, request_params
from dspx_lang.runtime.loop import new_event_loop

__all__ = ["LMClient", "LMStats"]

_OPENAI_DEFAULT_BASE = "https://api.openai.com/v1"
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
    slots: dict[tuple[str, str, str, int], asyncio.Semaphore] = field(default_factory=dict)

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
        self._engine: _Engine | None = None
        self._forked_from: list[tuple[_Engine, ResponseCache | None]] = []
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._routes: dict[ModelSpec, _Route] = {}
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

    def complete(self, model: ModelSpec, request: LMRequest, *, cache: bool = True) -> LMResponse:
        """Make one call and wait for it; safe from any thread, blocking the caller only."""
        engine = self._ensure_engine()
        if threading.get_ident() == engine.thread.ident:
            raise DspxConfigError(
                "LMClient.complete() was called on the client's own event-loop thread; "
                "use `await client.acomplete(...)` there"
            )
        future = asyncio.run_coroutine_threadsafe(
            self._call(engine, model, request, cache), engine.loop
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
        engine = self._ensure_engine()
        call = self._call(engine, model, request, cache)
        if asyncio.get_running_loop() is engine.loop:
            return await call
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(call, engine.loop))

    def close(self) -> None:
        """Cancel calls in flight, close connections and the cache; the client is then done."""
        with self._lock:
            self._closed = True
            engine, self._engine = self._engine, None
            cache, self._cache = self._cache, None
        if engine is not None:
            if threading.get_ident() == engine.thread.ident:
                raise DspxConfigError("LMClient.close() cannot run on the client's own thread")
            engine.shutdown()
        if cache is not None:
            cache.close()

    async def aclose(self) -> None:
        await asyncio.to_thread(self.close)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    def _ensure_engine(self) -> _Engine:
        with self._lock:
            if self._closed:
                raise DspxConfigError("this LMClient is closed; create a new one")
            engine = self._engine
            if engine is not None and engine.pid == os.getpid():
                return engine
            if engine is not None:
                # Forked child: the parent's loop thread and SQLite connection are not ours.
                # Closing them here would warn (aiohttp) or checkpoint the parent's WAL file
                # (SQLite closes the last connection that way): keep them, unused.
                self._forked_from.append((engine, self._cache))
                self._cache = None
                self._routes = {}
            loop = new_event_loop()
            ready = threading.Event()
            thread = threading.Thread(
                target=_run_loop, args=(loop, ready), name="dspx-lm-engine", daemon=True
            )
            thread.start()
            ready.wait()
            engine = _Engine(loop=loop, thread=thread, pid=os.getpid())
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
        self, engine: _Engine, model: ModelSpec, request: LMRequest, use_cache: bool
    ) -> LMResponse:
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
        if route.transport == "litellm" and not engine.litellm.loaded:
            await engine.litellm.ready()
            # The one-time import of litellm (seconds) is not the provider's latency.
            started = time.perf_counter()
        slot = engine.slots.get(route.slot)
        if slot is None:
            slot = engine.slots[route.slot] = asyncio.Semaphore(model.concurrency)
        attempt = 0
        while True:
            attempt += 1
            try:
                api_key = self._api_key(model, route)
                async with slot, asyncio.timeout(model.timeout_s):
                    result = await self._send(
                        engine,
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
        engine: _Engine,
        model: ModelSpec,
        route: _Route,
        *,
        request: LMRequest,
        params: dict[str, Any],
        body: bytes,
        api_key: str | None,
    ) -> Completion:
        if route.transport == "native":
            return await engine.native.send(model, route.url, body, api_key, route.proxy)
        return await engine.litellm.send(model, request, params, api_key, model.timeout_s)

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
