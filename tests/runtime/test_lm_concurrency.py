"""Concurrency: per-model limits as the server sees them, many threads, cancellation."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from fixtures.lm_server import FakeLMServer, Reply

from dspx_lang.runtime.errors import DspxConfigError
from dspx_lang.runtime.lm import LMClient, LMRequest, ModelSpec

TRANSPORTS = ["native", "litellm"]
MakeModel = Callable[..., ModelSpec]


def ask(text: str) -> LMRequest:
    return LMRequest(messages=[{"role": "user", "content": text}])


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_concurrency_limit_is_what_the_server_sees(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.delay_s = 0.2
    model = lm_model(transport=transport, concurrency=3)
    replies = await asyncio.gather(*(lm_client.acomplete(model, ask(f"q{i}")) for i in range(12)))
    assert [r.text for r in replies] == [f"echo: q{i}" for i in range(12)]
    assert lm_server.max_in_flight == 3


def test_limit_holds_across_threads_and_loops(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.delay_s = 0.2
    model = lm_model(concurrency=2)

    def one_loop(tag: str) -> list[str]:
        async def run() -> list[str]:
            got = await asyncio.gather(
                *(lm_client.acomplete(model, ask(f"{tag}{i}")) for i in range(3))
            )
            return [r.text for r in got]

        return asyncio.run(run())

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(one_loop, ["a", "b", "c"]))
    assert results == [[f"echo: {t}{i}" for i in range(3)] for t in "abc"]
    # Three threads with their own loops still share the model's two slots.
    assert lm_server.max_in_flight == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_sync_complete_from_fifty_threads_at_once(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.delay_s = 0.05
    model = lm_model(transport=transport)
    start = threading.Barrier(50)

    def call(i: int) -> str:
        start.wait()
        return lm_client.complete(model, ask(f"thread {i}")).text

    with ThreadPoolExecutor(50) as pool:
        texts = list(pool.map(call, range(50)))
    assert texts == [f"echo: thread {i}" for i in range(50)]
    assert len(lm_server.chat_requests) == 50
    assert lm_server.max_in_flight > 1
    assert lm_client.stats().calls == 50


async def test_cancelling_the_caller_cancels_the_request(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(Reply.hold())
    task = asyncio.ensure_future(lm_client.acomplete(lm_model(timeout_s=300), ask("held")))
    while not lm_server.chat_requests:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # The server sees the client go away: its held handler ends, and calls go on.
    for _ in range(1000):
        if lm_server.in_flight == 0:
            break
        await asyncio.sleep(0.01)
    assert lm_server.in_flight == 0
    assert (await lm_client.acomplete(lm_model(), ask("next"))).text == "echo: next"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_its_own_engine_and_shares_the_cache(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    model = lm_model()
    lm_client.complete(model, ask("before fork"))
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running pytest's teardown
        try:
            hit = lm_client.complete(model, ask("before fork"))
            fresh = lm_client.complete(model, ask("in child"))
            os.write(write_end, f"{hit.cached} {fresh.text}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        report = pipe.read()
    os.waitpid(pid, 0)
    assert report == "True echo: in child"
    assert lm_client.complete(model, ask("in child")).cached is True
    assert lm_client.complete(model, ask("after fork")).text == "echo: after fork"
    assert len(lm_server.chat_requests) == 3


def engine_threads() -> set[int | None]:
    return {t.ident for t in threading.enumerate() if t.name == "dspx-lm-engine"}


def test_sync_native_calls_run_on_the_callers_own_loop(
    lm_model: MakeModel, lm_client: LMClient
) -> None:
    before = engine_threads()
    first = lm_client.complete(lm_model(), ask("one"))

    async def two() -> list[str]:
        got = await asyncio.gather(*(lm_client.acomplete(lm_model(), ask(q)) for q in "ab"))
        return [r.text for r in got]

    assert (first.text, lm_client.run(two())) == ("echo: one", ["echo: a", "echo: b"])
    # No engine thread was needed: the calls ran on this thread's loop of the client.
    assert engine_threads() == before
    lm_client.complete(lm_model(transport="litellm"), ask("via litellm"))
    assert len(engine_threads() - before) == 1  # litellm calls run on the engine


def test_limit_holds_across_callers_loops_and_the_engine(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.delay_s = 0.2
    model = lm_model(concurrency=2)

    async def three(tag: str) -> list[str]:
        got = await asyncio.gather(
            *(lm_client.acomplete(model, ask(f"{tag}{i}")) for i in range(3))
        )
        return [r.text for r in got]

    def on_lane(tag: str) -> list[str]:
        return lm_client.run(three(tag))

    def on_engine(tag: str) -> list[str]:
        return asyncio.run(three(tag))

    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(on_lane, "a"),
            pool.submit(on_lane, "b"),
            pool.submit(on_engine, "c"),
        ]
        results = [f.result() for f in futures]
    assert results == [[f"echo: {t}{i}" for i in range(3)] for t in "abc"]
    assert lm_server.max_in_flight == 2


def test_close_from_another_thread_cancels_a_sync_call_in_flight(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_cache_dir: object
) -> None:
    lm_server.script(Reply.hold())
    client = LMClient(cache=False)
    with ThreadPoolExecutor(1) as pool:
        call = pool.submit(client.complete, lm_model(timeout_s=300), ask("held"))
        while not lm_server.chat_requests:
            threading.Event().wait(0.01)
        client.close()
        with pytest.raises(DspxConfigError, match="closed during the call"):
            call.result(timeout=10)
    for _ in range(1000):
        if lm_server.in_flight == 0:
            break
        threading.Event().wait(0.01)
    assert lm_server.in_flight == 0
    with pytest.raises(DspxConfigError, match="closed"):
        client.run(asyncio.sleep(0))


def test_run_inside_a_running_loop_is_refused_not_deadlocked(lm_client: LMClient) -> None:
    async def nested() -> str:
        with pytest.raises(DspxConfigError, match="inside a running event loop"):
            lm_client.run(asyncio.sleep(0))
        return "refused"

    assert lm_client.run(nested()) == "refused"
    assert asyncio.run(nested()) == "refused"
