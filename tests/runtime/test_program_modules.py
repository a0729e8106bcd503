"""Every module x adapter path of a program, over real HTTP, natively and through litellm.

The fixture server answers in the format the runtime asked for; each test checks the typed
outputs and what reached the wire (structured output, tools, tool results, trajectories).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fixtures.lm_server import FakeLMServer, Reply
from program_kit import RATE, RATE_VALUES, build, reply

from dspx_lang.runtime import DspxOutputError
from dspx_lang.runtime.lm import LMClient

ADAPTERS = ["chat", "json", "markdown"]
MODELS = ["fx", "fxl", "plain", "plainl"]  # known to the price map or not, native or litellm
CODE = "mood = 'happy'\nscore = 0.5\nitems = [{'name': 'apple', 'qty': 3}]"


def run_rate(
    tmp_path: Path, server: FakeLMServer, client: LMClient, **config: Any
) -> dict[str, Any]:
    program = build(tmp_path, RATE, server.base_url, client).configure(**config)
    prediction = program(text="I got three apples!")
    return dict(prediction.outputs)


def system_prompt(request_json: dict[str, Any]) -> str:
    return str(request_json["messages"][0]["content"])


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("module", ["predict", "cot"])
def test_predict_and_cot(
    module: str,
    adapter: str,
    model: str,
    tmp_path: Path,
    lm_server: FakeLMServer,
    lm_client: LMClient,
) -> None:
    values = {"reasoning": "three apples", **RATE_VALUES} if module == "cot" else RATE_VALUES
    lm_server.script(reply(adapter, values))
    outputs = run_rate(tmp_path, lm_server, lm_client, module=module, adapter=adapter, model=model)
    assert outputs == RATE_VALUES
    [request] = lm_server.chat_requests
    body = request.json
    system = system_prompt(body)
    assert "Rate the text." in system
    if module == "cot":
        assert system.index("`reasoning`") < system.index("`mood`")
    else:
        assert "`reasoning`" not in system
    structured = adapter == "json" and model in ("fx", "fxl")
    assert ("response_format" in body) == structured
    if structured:
        schema = body["response_format"]["json_schema"]["schema"]
        assert schema["properties"]["mood"] == {"type": "string", "enum": ["happy", "sad"]}
        assert "JSON schema" not in system  # the provider enforces it
    elif adapter == "json":
        assert "The object must match this JSON schema" in system
    user = body["messages"][-1]["content"]
    marker = {"chat": "[[ ## text ## ]]", "json": "[[ ## text ## ]]", "markdown": "## text"}
    assert f"{marker[adapter]}\nI got three apples!" in user


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_pot_runs_the_code_in_the_sandbox(
    adapter: str, model: str, tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    code = CODE if adapter == "json" else f"```python\n{CODE}\n```"
    lm_server.script(reply(adapter, {"code": code}))
    program = build(tmp_path, RATE, lm_server.base_url, lm_client)
    prediction = program.configure(module="pot", adapter=adapter, model=model)(text="apples")
    assert dict(prediction.outputs) == RATE_VALUES
    assert prediction.steps[0].outputs["code"] == CODE
    [request] = lm_server.chat_requests
    assert "Assign every output to a variable of the same name" in system_prompt(request.json)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_pot_feeds_the_error_back(
    adapter: str, tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    broken = "mood = 'happy'\nscore = 1 / 0\nitems = []"
    lm_server.script(reply(adapter, {"code": broken}), reply(adapter, {"code": CODE}))
    program = build(tmp_path, RATE, lm_server.base_url, lm_client)
    outputs = program.configure(module="pot", adapter=adapter)(text="apples").outputs
    assert dict(outputs) == RATE_VALUES
    _, second = lm_server.chat_requests
    feedback = second.json["messages"][-1]["content"]
    assert "Running your code failed" in feedback
    assert "ZeroDivisionError" in feedback
    assert second.json["messages"][-2] == {
        "role": "assistant",
        "content": reply(adapter, {"code": broken}),
    }


@pytest.mark.parametrize("model", ["fx", "fxl"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_react_with_native_function_calling(
    adapter: str, model: str, tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.script(
        Reply.tools({"name": "add", "arguments": {"numbers": [1, 2]}, "id": "call_a"}),
        reply(adapter, {"reasoning": "1 + 2 = 3", **RATE_VALUES}),
    )
    outputs = run_rate(tmp_path, lm_server, lm_client, module="react", adapter=adapter, model=model)
    assert outputs == RATE_VALUES
    first, second = lm_server.chat_requests
    assert [t["function"]["name"] for t in first.json["tools"]] == ["add"]
    parameters = first.json["tools"][0]["function"]["parameters"]
    assert parameters["properties"]["numbers"] == {"type": "array", "items": {"type": "number"}}
    tool_message = second.json["messages"][-1]
    assert tool_message == {"role": "tool", "tool_call_id": "call_a", "content": "3.0"}
    assert second.json["messages"][-2]["tool_calls"][0]["function"]["name"] == "add"


@pytest.mark.parametrize("model", ["plain", "plainl"])
@pytest.mark.parametrize("adapter", ADAPTERS)
def test_react_text_protocol_without_function_calling(
    adapter: str, model: str, tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    turn = {
        "next_thought": "add them",
        "next_tool_name": "add",
        "next_tool_args": {"numbers": [1, 2]},
    }
    finish = {"next_thought": "done", "next_tool_name": "finish", "next_tool_args": {}}
    lm_server.script(
        reply(adapter, turn),
        reply(adapter, finish),
        reply(adapter, {"reasoning": "1 + 2 = 3", **RATE_VALUES}),
    )
    outputs = run_rate(tmp_path, lm_server, lm_client, module="react", adapter=adapter, model=model)
    assert outputs == RATE_VALUES
    first, second, extract = lm_server.chat_requests
    assert "tools" not in first.json
    assert "(1) add: Add numbers up." in system_prompt(first.json)
    assert "Observation 1: 3.0" in second.json["messages"][-1]["content"]
    assert "Observation 1: 3.0" in extract.json["messages"][-1]["content"]
    assert "`reasoning`" in system_prompt(extract.json)


def test_react_stops_after_max_iters_and_extracts(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    call = Reply.tools({"name": "add", "arguments": {"numbers": [2, 2]}})
    lm_server.script(call, call, reply("chat", {"reasoning": "4", **RATE_VALUES}))
    outputs = run_rate(tmp_path, lm_server, lm_client, module="react")
    assert outputs == RATE_VALUES
    requests = lm_server.chat_requests
    assert len(requests) == 3  # max_iters 2 tool turns, then the extraction
    last = requests[-1].json
    assert last["tool_choice"] == "none"
    assert last["messages"][-1]["content"].startswith("Stop calling tools now.")


def test_a_failing_tool_is_an_observation(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.script(
        Reply.tools({"name": "add", "arguments": {"numbers": "not a list"}}),
        Reply.tools({"name": "nope", "arguments": {}}),
        reply("chat", {"reasoning": "gave up", **RATE_VALUES}),
    )
    assert run_rate(tmp_path, lm_server, lm_client, module="react") == RATE_VALUES
    second, third = lm_server.chat_requests[1:]
    assert second.json["messages"][-1]["content"].startswith("error: argument numbers")
    # max_iters is 2: the second tool result comes just before the request to stop.
    assert "there is no tool 'nope'" in third.json["messages"][-2]["content"]


def test_independent_steps_run_concurrently(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    body = """
signature Echo {
  in text: string
  out said: string
}

program fan {
  in text: string
  out joined: string
  step a = predict Echo(text) { model: fx }
  step b = predict Echo(text) { model: fx }
  step c = predict Echo(text: a.said) { model: fx }
  return { joined: c.said }
}
"""
    lm_server.delay_s = 0.2
    lm_server.respond_with(lambda request: reply("chat", {"said": "hi"}))
    prediction = build(tmp_path, body, lm_server.base_url, lm_client)(text="x")
    assert prediction.joined == "hi"
    assert lm_server.max_in_flight == 2  # a and b together, then c alone
    requests = lm_server.chat_requests
    assert len(requests) == 3
    assert "[[ ## text ## ]]\nhi" in requests[-1].json["messages"][-1]["content"]
    assert [s.step for s in prediction.steps] == ["a", "b", "c"]


def test_history_keeps_messages_and_raw_answers(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    answer = reply("chat", RATE_VALUES)
    lm_server.script(Reply.text(answer, usage=(40, 10)))
    program = build(tmp_path, RATE, lm_server.base_url, lm_client)
    prediction = program(text="hello")
    [call] = program.history
    assert call.text == answer
    assert call.step == "r"
    assert call.model == "fx"
    assert call.messages[-1]["content"].startswith("[[ ## text ## ]]\nhello")
    assert (call.prompt_tokens, call.completion_tokens) == (40, 10)
    assert call.cost_usd == pytest.approx((40 * 0.15 + 10 * 0.6) / 1e6)
    assert prediction.usage()["prompt_tokens"] == 40
    assert prediction.cost_usd == pytest.approx(call.cost_usd)
    assert json.loads(json.dumps(prediction.usage()))["calls"] == 1
    assert program.configure(adapter="json").history == []  # a derived program starts afresh


def test_a_failing_step_stops_the_graph_and_is_named(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    body = """
signature Echo {
  in text: string
  out said: string
}

signature Count {
  in text: string
  out n: int
}

program fan {
  in text: string
  out joined: string
  step slow = predict Echo(text) { model: fx }
  step bad = predict Count(text) { model: fx }
  step last = predict Echo(text: slow.said) { model: fx }
  return { joined: last.said }
}
"""

    def respond(request: Any) -> Reply:
        if "`n`" in request.json["messages"][0]["content"]:
            return Reply.text(reply("chat", {"n": "many"}))
        return Reply.text(reply("chat", {"said": "hi"}), delay_s=0.5)

    lm_server.respond_with(respond)
    program = build(tmp_path, body, lm_server.base_url, lm_client)
    with pytest.raises(DspxOutputError) as caught:
        program(text="x")
    assert (caught.value.program, caught.value.step, caught.value.field) == ("fan", "bad", "n")
    # `last` never ran: its input comes from `slow`, cancelled when `bad` failed.
    assert not any("## text ## ]]\nhi" in str(r.json) for r in lm_server.chat_requests)
    assert len(lm_server.chat_requests) == 3  # slow once, bad twice (the retry)
