"""Programs over real HTTP: retries with the error shown, typed errors, cache, configuration,
demos, instructions, endpoint overrides and rendering."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fixtures.lm_server import FakeLMServer, Reply
from program_kit import RATE, RATE_VALUES, build, reply

from dspx_lang.prompts import Demo
from dspx_lang.runtime import (
    DspxConfigError,
    DspxError,
    DspxOutputError,
    DspxProviderError,
    DspxRateLimitError,
)
from dspx_lang.runtime.lm import LMClient

QA = """
signature Answer {
  \"\"\"Answer the question.\"\"\"
  in question: string
  out answer: string @len(1, 20)
  out confidence: float @range(0, 1)
}

program qa {
  in question: string
  out answer: string
  out confidence: float

  var reasoning: [predict, cot] = predict
  var model: [fx, plain] = fx
  var temperature: float in 0.0..1.0 = 0.2
  var demos: int in 0..3 = 0
  var style: instructions(Answer)

  step answer = reasoning Answer(question) {
    model: model
    temperature: temperature
    demos: demos
    instructions: style
  }

  return answer

  constraint "plain answers directly": model == plain => reasoning == predict
  constraint reasoning == cot => temperature <= 0.5
}
"""
GOOD = {"answer": "Paris", "confidence": 0.9}


def test_invalid_answer_is_retried_with_the_error_shown(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    bad = reply("chat", {"answer": "Paris", "confidence": 7})
    lm_server.script(bad, reply("chat", GOOD))
    prediction = build(tmp_path, QA, lm_server.base_url, lm_client)(question="Capital?")
    assert dict(prediction.outputs) == GOOD
    first, second = lm_server.chat_requests
    messages = second.json["messages"]
    assert messages[: len(first.json["messages"])] == first.json["messages"]
    assert messages[-2] == {"role": "assistant", "content": bad}
    feedback = messages[-1]["content"]
    assert "field confidence: 7.0 is outside the range 0..1" in feedback
    assert "[[ ## answer ## ]]" in feedback
    assert len(prediction.steps[0].calls) == 2


def test_output_error_names_program_step_and_field(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    missing = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
    lm_server.script(missing, missing)
    program = build(tmp_path, QA, lm_server.base_url, lm_client)
    with pytest.raises(DspxOutputError) as caught:
        program(question="Capital?")
    error = caught.value
    assert (error.program, error.step, error.field) == ("qa", "answer", "confidence")
    assert str(error).startswith("program 'qa', step 'answer', field 'confidence': ")
    assert "no `confidence` field" in error.message
    assert error.raw == missing
    assert len(lm_server.chat_requests) == 2
    assert len(program.history) == 2


def test_provider_error_names_program_and_step(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.script(Reply.rate_limit(0), Reply.rate_limit(0))
    with pytest.raises(DspxRateLimitError) as caught:
        build(tmp_path, QA, lm_server.base_url, lm_client)(question="Capital?")
    assert (caught.value.program, caught.value.step) == ("qa", "answer")
    assert caught.value.attempts == 2  # the model's `retries: 1`
    assert isinstance(caught.value, DspxProviderError)


def test_rate_limit_then_success_is_retried_by_the_client(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.script(Reply.rate_limit(0), reply("chat", GOOD))
    prediction = build(tmp_path, QA, lm_server.base_url, lm_client)(question="Capital?")
    assert prediction.answer == "Paris"
    assert len(lm_server.chat_requests) == 2


def test_bad_inputs_are_config_errors(tmp_path: Path, lm_server: FakeLMServer) -> None:
    program = build(tmp_path, QA, lm_server.base_url)
    with pytest.raises(DspxConfigError, match="missing input 'question'") as missing:
        program()
    assert missing.value.field == "question"
    with pytest.raises(DspxConfigError, match=r"unknown input\(s\) questoin"):
        program(question="x", questoin="y")
    with pytest.raises(DspxConfigError, match="expected a string"):
        program(question=["a list"])
    assert lm_server.chat_requests == []


def test_cache_hit_makes_no_request_and_settings_miss(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.respond_with(lambda request: reply("chat", GOOD))
    program = build(tmp_path, QA, lm_server.base_url, lm_client)
    first = program(question="Capital?")
    second = program(question="Capital?")
    assert len(lm_server.chat_requests) == 1
    assert second.cache_hits == 1
    assert first.cache_hits == 0
    assert second.outputs == first.outputs
    assert second.cost_usd == 0.0
    program.configure(temperature=0.3)(question="Capital?")
    assert len(lm_server.chat_requests) == 2
    assert lm_server.chat_requests[-1].json["temperature"] == 0.3
    program(question="Another?")
    assert len(lm_server.chat_requests) == 3


def test_configure_validates_domains_and_constraints(
    tmp_path: Path, lm_server: FakeLMServer
) -> None:
    program = build(tmp_path, QA, lm_server.base_url)
    assert program.config["reasoning"] == "predict"
    cot = program.configure(reasoning="cot")
    assert cot.config["reasoning"] == "cot"
    assert program.config["reasoning"] == "predict"
    with pytest.raises(DspxConfigError) as violated:
        cot.configure(model="plain")
    message = str(violated.value)
    assert 'constraint "plain answers directly" (kit.dspx:' in message
    assert "model == plain => reasoning == predict" in message
    assert "model=plain, reasoning=cot" in message
    with pytest.raises(DspxConfigError, match=r"reasoning == cot => temperature <= 0\.5"):
        cot.configure(temperature=0.9)
    with pytest.raises(DspxConfigError, match=r"must be in float in 0.0..1.0, not 2"):
        program.configure(temperature=2)
    with pytest.raises(DspxConfigError, match=r"must be in \[predict, cot\], not react"):
        program.configure(reasoning="react")
    with pytest.raises(DspxConfigError, match=r"no variable 'temp'.*temperature"):
        program.configure(temp=0.1)
    assert program.configure(demos=2.0).config["demos"] == 2


def test_instructions_variable_and_override_reach_the_prompt(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.respond_with(lambda request: reply("chat", GOOD))
    program = build(tmp_path, QA, lm_server.base_url, lm_client)
    program(question="a")
    program.configure(style="Answer like a pirate.")(question="a")
    program.with_instructions({"answer": "Answer in French."})(question="a")
    systems = [r.json["messages"][0]["content"] for r in lm_server.chat_requests]
    assert systems[0].endswith("Your task: Answer the question.")
    assert systems[1].endswith("Your task: Answer like a pirate.")
    assert systems[2].endswith("Your task: Answer in French.")
    with pytest.raises(DspxConfigError, match="no step"):
        program.with_instructions({"nope": "x"})


def test_demos_are_shown_only_when_the_setting_asks(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.respond_with(lambda request: reply("chat", GOOD))
    demos = [
        Demo({"question": "Capital of Spain?"}, {"answer": "Madrid", "confidence": 1.0}),
        Demo({"question": "Capital of Italy?"}, {"answer": "Rome", "confidence": 1.0}),
    ]
    program = build(tmp_path, QA, lm_server.base_url, lm_client).with_demos({"answer": demos})
    program(question="q")
    program.configure(demos=1)(question="q")
    program.configure(demos=3)(question="q")
    counts = [len(r.json["messages"]) for r in lm_server.chat_requests]
    assert counts == [2, 4, 6]  # system + user, plus a user/assistant pair per demo shown
    shown = lm_server.chat_requests[1].json["messages"]
    assert shown[1]["content"].startswith("[[ ## question ## ]]\nCapital of Spain?")
    assert shown[2] == {"role": "assistant", "content": reply("chat", demos[0].outputs)}


def test_endpoint_override_by_environment_and_by_api(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    lm_server.respond_with(lambda request: reply("chat", GOOD))
    nowhere = "http://127.0.0.1:9/v1"  # nothing listens on the discard port
    program = build(tmp_path, QA, nowhere, lm_client)
    with pytest.raises(DspxProviderError):
        program.with_model("fx", retries=0)(question="a")
    assert program.with_model("fx", api_base=lm_server.base_url)(question="a").answer == "Paris"
    monkeypatch.setenv("DSPX_API_BASE_FX", lm_server.base_url)
    assert build(tmp_path, QA, nowhere, lm_client)(question="b").answer == "Paris"
    assert len(lm_server.chat_requests) == 2
    with pytest.raises(DspxConfigError, match="unknown override"):
        program.with_model("fx", api_bsae="x")
    with pytest.raises(DspxConfigError, match="api_base must be an http"):
        program.with_model("fx", api_base="ftp://x")


def test_render_shows_the_exact_first_call(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.script(reply("chat", {"reasoning": "r", **GOOD}))
    program = build(tmp_path, QA, lm_server.base_url, lm_client).configure(reasoning="cot")
    rendered = program.render({"question": "Capital?"})
    program(question="Capital?")
    assert rendered == {"answer": lm_server.chat_requests[0].json["messages"]}
    placeholders = program.render()["answer"]
    assert "[[ ## question ## ]]\n{question}" in placeholders[-1]["content"]
    assert "cot Answer, model fx" in program.describe_step("answer")


def test_every_error_is_a_dspx_error(tmp_path: Path, lm_server: FakeLMServer) -> None:
    program = build(tmp_path, RATE, lm_server.base_url)
    for bad in (lambda: program.configure(module="nope"), lambda: program(txt="x")):
        with pytest.raises(DspxError):
            bad()


def test_program_outputs_are_validated_too(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    body = """
signature Say {
  in text: string
  out said: string
}

program short {
  in text: string
  out said: string @len(1, 3)
  step s = predict Say(text) { model: fx }
  return s
}
"""
    lm_server.script(reply("chat", {"said": "far too long"}))
    with pytest.raises(DspxOutputError) as caught:
        build(tmp_path, body, lm_server.base_url, lm_client)(text="x")
    assert (caught.value.program, caught.value.field) == ("short", "said")
    assert "it must have 1 to 3" in caught.value.message


def test_json_adapter_values_are_coerced(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    items = '[{"name": "apple", "qty": "3"},]'
    lm_server.script(f'```json\n{{"Mood": "HAPPY", "score": "0.5", "items": {items},}}\n```')
    program = build(tmp_path, RATE, lm_server.base_url, lm_client).configure(adapter="json")
    assert dict(program(text="x").outputs) == RATE_VALUES


async def test_sync_call_from_async_code_and_threads(
    tmp_path: Path, lm_server: FakeLMServer, lm_client: LMClient
) -> None:
    lm_server.delay_s = 0.05
    lm_server.respond_with(lambda request: reply("chat", GOOD))
    program = build(tmp_path, QA, lm_server.base_url, lm_client)
    # A sync call inside a running event loop runs on a helper thread instead of failing.
    assert program(question="from async code").answer == "Paris"
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda i: program(question=f"q{i}").answer, range(12)))
    assert answers == ["Paris"] * 12
    assert lm_server.max_in_flight >= 2
    assert (await program.acall(question="awaited")).answer == "Paris"
    program.close()
    assert program(question="after close").answer == "Paris"  # loops are made again
