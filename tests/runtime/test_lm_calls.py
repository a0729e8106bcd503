"""LMClient over real HTTP on both transports: replies, usage, cost, and what reaches the wire."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import pytest
from fixtures.lm_server import FakeLMServer, Reply

from dspx_lang.runtime.errors import DspxConfigError
from dspx_lang.runtime.lm import LMClient, LMRequest, ModelSpec, ToolCall, Usage

TRANSPORTS = ["native", "litellm"]
MakeModel = Callable[..., ModelSpec]


def ask(text: str, **settings: Any) -> LMRequest:
    return LMRequest(messages=[{"role": "user", "content": text}], **settings)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_reply_text_usage_and_metadata(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(Reply.text("Paris", usage=(12, 3)))
    response = lm_client.complete(lm_model(transport=transport), ask("capital of France?"))
    assert response.text == "Paris"
    assert response.usage == Usage(prompt_tokens=12, completion_tokens=3)
    assert response.finish_reason == "stop"
    assert response.transport == transport
    assert response.cached is False
    assert response.attempts == 1
    assert response.latency_s > 0
    [request] = lm_server.chat_requests
    assert request.json["model"] == "gpt-4o-mini"
    assert request.json["messages"] == [{"role": "user", "content": "capital of France?"}]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_cost_from_price_map_override_and_unknown(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(*[Reply.text("x", usage=(1000, 500))] * 3)
    priced = lm_client.complete(lm_model(transport=transport), ask("a"))
    # litellm's map: gpt-4o-mini is $0.15 in / $0.60 out per 1M tokens.
    assert priced.cost_usd == pytest.approx((1000 * 0.15 + 500 * 0.60) / 1e6)
    declared = lm_model(transport=transport, input_cost=1.0, output_cost=2.0)
    assert lm_client.complete(declared, ask("b")).cost_usd == pytest.approx(2000 / 1e6)
    unknown = lm_model(transport=transport, model_id="openai/fixture-unknown-model")
    assert lm_client.complete(unknown, ask("c")).cost_usd is None
    stats = lm_client.stats()
    assert (stats.calls, stats.requests, stats.prompt_tokens) == (3, 3, 3000)
    assert stats.cost_usd == pytest.approx(0.00045 + 0.002)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_limit_reaches_the_request_body(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    # llama-cpp-python's server ignored max_tokens sent through litellm until it was also in
    # the body: the server's own log is the only honest witness.
    lm_client.complete(
        lm_model(transport=transport),
        ask("q", max_tokens=7, temperature=0.3, stop=["END"], seed=11),
    )
    body = lm_server.chat_requests[0].json
    assert body["max_tokens"] == 7
    assert body["temperature"] == 0.3
    assert body["stop"] == ["END"]
    assert body["seed"] == 11


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_model_defaults_apply_and_request_settings_override_them(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    model = lm_model(transport=transport, max_tokens=9, temperature=0.1)
    lm_client.complete(model, ask("defaults"))
    lm_client.complete(model, ask("overrides", max_tokens=3, temperature=0.0))
    first, second = (r.json for r in lm_server.chat_requests)
    assert (first["max_tokens"], first["temperature"]) == (9, 0.1)
    assert (second["max_tokens"], second["temperature"]) == (3, 0.0)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_structured_output_and_tools_on_the_wire_and_back(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    schema = {
        "title": "Answer",
        "type": "object",
        "properties": {"reasoning": {"type": "string"}, "answer": {"type": "integer"}},
        "required": ["reasoning", "answer"],
    }
    tools = [
        {
            "type": "function",
            "function": {
                "name": "search",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
            },
        }
    ]
    lm_server.script(Reply.tools({"name": "search", "arguments": {"q": "dspx"}, "id": "c1"}))
    response = lm_client.complete(
        lm_model(transport=transport),
        LMRequest(
            messages=[{"role": "user", "content": "find"}],
            response_format=schema,
            tools=tools,
            tool_choice="auto",
        ),
    )
    assert response.tool_calls == (ToolCall(id="c1", name="search", arguments='{"q": "dspx"}'),)
    assert response.finish_reason == "tool_calls"
    body = lm_server.chat_requests[0].json
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Answer", "schema": schema},
    }
    # Property order is kept: structured output follows it (reasoning before answer).
    assert list(body["response_format"]["json_schema"]["schema"]["properties"]) == [
        "reasoning",
        "answer",
    ]
    assert body["tools"] == tools
    assert body["tool_choice"] == "auto"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_empty_and_very_long_content_are_returned_as_is(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(Reply.empty(), Reply.long(300_000))
    model = lm_model(transport=transport)
    assert lm_client.complete(model, ask("empty")).text == ""
    assert lm_client.complete(model, ask("long")).text == "x" * 300_000


def test_api_key_is_sent_as_bearer_and_only_when_present(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    env = "DSPX_TEST_CALLS_KEY"
    os.environ[env] = "sk-fixture-bearer-0123456789"
    try:
        lm_client.complete(lm_model(api_key_env=env), ask("with key"))
    finally:
        del os.environ[env]
    lm_client.complete(lm_model(api_key_env=None, model_id="hosted_vllm/local"), ask("no key"))
    with_key, without = lm_server.chat_requests
    assert with_key.headers["Authorization"] == "Bearer sk-fixture-bearer-0123456789"
    assert "Authorization" not in without.headers
    assert without.json["model"] == "local"


def test_missing_declared_key_is_a_config_error_before_any_request(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    with pytest.raises(DspxConfigError, match="DSPX_TEST_UNSET_KEY"):
        lm_client.complete(lm_model(api_key_env="DSPX_TEST_UNSET_KEY"), ask("x"))
    assert lm_server.chat_requests == []


def test_acomplete_from_two_event_loops_and_sync_inside_a_running_loop(
    lm_model: MakeModel, lm_client: LMClient
) -> None:
    model = lm_model()
    first = asyncio.run(lm_client.acomplete(model, ask("one")))
    second = asyncio.run(lm_client.acomplete(model, ask("two")))

    async def sync_inside_async() -> str:
        return lm_client.complete(model, ask("three")).text

    third = asyncio.run(sync_inside_async())
    assert (first.text, second.text, third) == ("echo: one", "echo: two", "echo: three")


def test_default_echo_honours_max_tokens(lm_model: MakeModel, lm_client: LMClient) -> None:
    response = lm_client.complete(lm_model(), ask("one two three four", max_tokens=2))
    assert (response.text, response.finish_reason) == ("echo: one", "length")


def test_closed_client_refuses_calls(lm_model: MakeModel, lm_cache_dir: object) -> None:
    client = LMClient(cache=False)
    assert client.complete(lm_model(), ask("before")).text == "echo: before"
    client.close()
    with pytest.raises(DspxConfigError, match="closed"):
        client.complete(lm_model(), ask("after"))
