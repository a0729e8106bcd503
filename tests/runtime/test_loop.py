"""The runtime's own event loops are uvloop's (installed on Linux with dspx) unless
`DSPX_LOOP=asyncio` asks for asyncio's; either way calls over real HTTP work on them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import uvloop
from fixtures.lm_server import FakeLMServer

from dspx_lang.runtime.lm import LMClient, LMRequest, ModelSpec
from dspx_lang.runtime.loop import new_event_loop, run


async def loop_kind() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


@pytest.mark.parametrize(("setting", "expected"), [("", uvloop.Loop), ("asyncio", None)])
def test_loop_choice_and_a_call_on_it(
    setting: str,
    expected: type[asyncio.AbstractEventLoop] | None,
    monkeypatch: pytest.MonkeyPatch,
    lm_server: FakeLMServer,
    lm_model: Callable[..., ModelSpec],
) -> None:
    monkeypatch.setenv("DSPX_LOOP", setting)
    kind = run(loop_kind())
    loop = new_event_loop()
    try:
        assert type(loop) is kind
    finally:
        loop.close()
    if expected is None:
        assert not issubclass(kind, uvloop.Loop)
    else:
        assert kind is expected
    with LMClient(cache=False) as client:
        request = LMRequest(messages=[{"role": "user", "content": "hi"}])
        assert run(client.acomplete(lm_model(), request)).text == "echo: hi"
        assert client.complete(lm_model(), request).text == "echo: hi"
