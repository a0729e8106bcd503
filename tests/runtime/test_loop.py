"""The runtime's own event loops are asyncio's unless `DSPX_LOOP=uvloop` asks for uvloop's;
either way calls over real HTTP work on them, and a value that names no loop is refused."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import uvloop
from fixtures.lm_server import FakeLMServer

from dspx_lang.runtime import DspxConfigError
from dspx_lang.runtime.lm import LMClient, LMRequest, ModelSpec
from dspx_lang.runtime.loop import new_event_loop, run


async def loop_kind() -> type[asyncio.AbstractEventLoop]:
    return type(asyncio.get_running_loop())


@pytest.mark.parametrize(
    ("setting", "uv"), [("", False), ("asyncio", False), ("uvloop", True), (" UVLOOP ", True)]
)
def test_loop_choice_and_a_call_on_it(
    setting: str,
    uv: bool,
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
    assert issubclass(kind, uvloop.Loop) is uv
    with LMClient(cache=False) as client:
        request = LMRequest(messages=[{"role": "user", "content": "hi"}])
        assert run(client.acomplete(lm_model(), request)).text == "echo: hi"
        assert client.complete(lm_model(), request).text == "echo: hi"


def test_a_setting_that_names_no_loop_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DSPX_LOOP", "trio")
    with pytest.raises(DspxConfigError, match=r"DSPX_LOOP='trio'.*'asyncio' or 'uvloop'"):
        new_event_loop()
    coro = loop_kind()
    with pytest.raises(DspxConfigError):
        run(coro)
    assert coro.cr_frame is None  # closed, so Python does not warn it was never awaited
