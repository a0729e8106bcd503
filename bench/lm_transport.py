"""Benchmark of the runtime's LM transport against the fixture server (run as a subprocess).

Reproduce: `.venv/bin/python bench/lm_transport.py` from the repository root
(`--quick` for fewer calls). Prints per-call latency of the sync `LMClient.complete` on the
native path and the litellm path (zero server delay, cache off), the alternatives the design
was chosen against, a cache hit, and the wall time of 500 calls to a 100 ms server at 32 in
flight against the ideal 500 / 32 x 0.1 s = 1.5625 s. Targets: native per-call median <= 1.5 ms;
throughput within x1.1 of ideal.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import aiohttp  # noqa: E402
from fixtures.lm_server import ServerProcess  # noqa: E402

from dspx_lang.runtime.lm import LMClient, LMRequest, ModelSpec  # noqa: E402

IDEAL_S = 500 / 32 * 0.1
TARGET_MS = 1.5


def request(i: int) -> LMRequest:
    return LMRequest(messages=[{"role": "user", "content": f"question number {i}"}], max_tokens=16)


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[int(len(ordered) * 0.95)] * 1e3


def timed(call: Callable[[int], object], n: int, warmup: int) -> tuple[float, float]:
    for i in range(warmup):
        call(-1 - i)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def report(label: str, median_ms: float, p95_ms: float, note: str = "") -> None:
    print(f"  {label:<52} median {median_ms:7.3f} ms   p95 {p95_ms:7.3f} ms  {note}")


def sync_latency(client: LMClient, model: ModelSpec, calls: int) -> tuple[float, float]:
    return timed(lambda i: client.complete(model, request(i)), calls, 50)


def async_latency(client: LMClient, model: ModelSpec, calls: int) -> tuple[float, float]:
    loop = asyncio.new_event_loop()
    try:
        return timed(
            lambda i: loop.run_until_complete(client.acomplete(model, request(i))), calls, 50
        )
    finally:
        loop.close()


def per_call(base: str, n: int) -> dict[str, float]:
    print(f"per-call latency, zero server delay, cache off ({n} native calls, {n // 5} litellm):")
    medians: dict[str, float] = {}
    for transport in ("native", "litellm"):
        model = ModelSpec(
            name="bench", model_id="openai/gpt-4o-mini", api_base=base, transport=transport
        )
        with LMClient(cache=False) as client:
            median, p95 = sync_latency(client, model, n if transport == "native" else n // 5)
            medians[transport] = median
            report(f"LMClient.complete, {transport} path", median, p95)
            if transport == "native":
                median, p95 = async_latency(client, model, n)
                report("await LMClient.acomplete (caller's loop -> engine)", median, p95)
    ratio = medians["litellm"] / medians["native"]
    print(
        f"  native median {medians['native']:.3f} ms = x{medians['native'] / TARGET_MS:.2f} "
        f"of the {TARGET_MS} ms target; the litellm path takes x{ratio:.1f} the native path"
    )
    return medians


def alternatives(base: str, n: int) -> None:
    print("design alternatives for the sync path (raw aiohttp, no retries/cache):")
    url = f"{base}/chat/completions"
    body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
    headers = {"Content-Type": "application/json"}

    async def fresh(_: int) -> None:
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, data=body, headers=headers) as r,
        ):
            await r.read()

    median, p95 = timed(lambda i: asyncio.run(fresh(i)), max(50, n // 5), 10)
    report("asyncio.run + new session per call", median, p95)

    loop = asyncio.new_event_loop()
    session = loop.run_until_complete(_session())

    async def reuse(_: int) -> None:
        async with session.post(url, data=body, headers=headers) as r:
            await r.read()

    median, p95 = timed(lambda i: loop.run_until_complete(reuse(i)), n, 50)
    report("one loop + one session, same thread (floor)", median, p95)
    loop.run_until_complete(session.close())
    loop.close()


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


def cache_hit(base: str, n: int) -> None:
    model = ModelSpec(name="bench", model_id="openai/gpt-4o-mini", api_base=base)
    with tempfile.TemporaryDirectory() as directory, LMClient(cache_dir=directory) as client:
        client.complete(model, request(0))
        median, p95 = timed(lambda i: client.complete(model, request(0)), n, 20)
        report("cache hit (SQLite, no HTTP)", median, p95)


async def gather_calls(client: LMClient, model: ModelSpec, n: int = 500) -> None:
    await asyncio.gather(*(client.acomplete(model, request(i)) for i in range(n)))


def threaded_calls(client: LMClient, model: ModelSpec) -> None:
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda i: client.complete(model, request(i)), range(500)))


def throughput(base: str, runs: int) -> None:
    print(
        f"throughput: 500 calls, server delay 100 ms, 32 in flight (ideal {IDEAL_S:.4f} s), "
        f"median of {runs} runs after a warm-up round:"
    )
    for transport in ("native", "litellm"):
        model = ModelSpec(
            name="bench",
            model_id="openai/gpt-4o-mini",
            api_base=base,
            transport=transport,
            concurrency=32,
        )
        with LMClient(cache=False) as client:
            # Warm-up: opens the 32 keep-alive connections the timed runs reuse.
            asyncio.run(gather_calls(client, model, 64))
            walls = []
            for _ in range(runs):
                started = time.perf_counter()
                asyncio.run(gather_calls(client, model))
                walls.append(time.perf_counter() - started)
            wall_line(f"{transport} path, acomplete x500 (gather)", walls)
            if transport == "native":
                walls = []
                for _ in range(runs):
                    started = time.perf_counter()
                    threaded_calls(client, model)
                    walls.append(time.perf_counter() - started)
                wall_line("native path, complete x500 from 32 threads", walls)


def wall_line(label: str, walls: list[float]) -> None:
    wall = statistics.median(walls)
    runs = " ".join(f"{w:.3f}" for w in walls)
    print(f"  {label:<46} {wall:6.3f} s  x{wall / IDEAL_S:.3f} of ideal  (runs: {runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer calls")
    quick = parser.parse_args().quick
    n = 300 if quick else 2000
    print("reproduce: .venv/bin/python bench/lm_transport.py")
    with ServerProcess() as server:
        per_call(server.base_url, n)
        alternatives(server.base_url, n)
        cache_hit(server.base_url, min(n, 1000))
    with ServerProcess(delay_s=0.1) as server:
        throughput(server.base_url, 1 if quick else 3)


if __name__ == "__main__":
    main()
