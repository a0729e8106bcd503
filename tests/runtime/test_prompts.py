"""The prompt renderer (`dspx_lang.prompts`): what each module and adapter asks for."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from dspx_lang.prompts import (
    Demo,
    FieldSpec,
    PromptSpec,
    ToolSpec,
    lm_outputs,
    output_schema,
    react_extract_spec,
    react_turn_spec,
    render_messages,
    retry_message,
    tool_schemas,
)

SPEC = PromptSpec(
    instructions="Answer the question.",
    inputs=(FieldSpec("question", "string", "what is asked"),),
    outputs=(
        FieldSpec("answer", "float", "the number", hints=("between 0 and 100",)),
        FieldSpec("label", "Kind", choices=("a", "b"), choice_descriptions=("first", "")),
    ),
)
TOOL = ToolSpec("add", "Add numbers.", {"type": "object", "properties": {}})


def test_rendering_is_deterministic_and_places_the_inputs() -> None:
    first = render_messages(SPEC, {"question": "Why?"})
    assert first == render_messages(replace(SPEC), {"question": "Why?"})
    system, user = first
    assert system["role"] == "system"
    assert user["role"] == "user"
    assert system["content"].endswith("Your task: Answer the question.")
    assert "1. `question` (string): what is asked" in system["content"]
    assert "`answer` (float): the number; a single number; between 0 and 100" in system["content"]
    assert "one of: a (first), b" in system["content"]
    assert user["content"].startswith("[[ ## question ## ]]\nWhy?\n\n")
    assert "`[[ ## label ## ]]` (exactly one of: a, b)" in user["content"]


def test_modules_change_what_the_lm_writes() -> None:
    assert [f.name for f in lm_outputs(SPEC)] == ["answer", "label"]
    assert [f.name for f in lm_outputs(replace(SPEC, module="cot"))] == [
        "reasoning",
        "answer",
        "label",
    ]
    [code] = lm_outputs(replace(SPEC, module="pot"))
    assert code.name == "code"
    assert "`question` (string)" in (code.description or "")
    assert "`answer` (float), `label` (Kind)" in (code.description or "")
    react = replace(SPEC, module="react", tools=(TOOL,))
    assert [f.name for f in lm_outputs(react)] == ["reasoning", "answer", "label"]


def test_json_adapter_puts_the_schema_in_the_prompt_unless_native() -> None:
    spec = replace(SPEC, adapter="json")
    prompt = render_messages(spec, {"question": "q"})[0]["content"]
    schema = json.dumps(output_schema(lm_outputs(spec)), separators=(",", ":"))
    assert f"The object must match this JSON schema: {schema}" in prompt
    native = render_messages(spec, {"question": "q"}, native_structured=True)[0]["content"]
    assert "JSON schema" not in native
    assert output_schema(lm_outputs(spec))["properties"]["label"] == {
        "type": "string",
        "enum": ["a", "b"],
    }


def test_demos_become_message_pairs_and_need_an_output() -> None:
    demos = [
        Demo({"question": "2+2?"}, {"answer": 4, "label": "a"}),
        Demo({"question": "no outputs"}, {"other": 1}),
    ]
    messages = render_messages(replace(SPEC, adapter="markdown"), {"question": "q"}, demos)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == "## answer\n4\n\n## label\na"


def test_react_text_protocol_specs() -> None:
    spec = replace(SPEC, module="react", tools=(TOOL,))
    turn = react_turn_spec(spec)
    assert [f.name for f in turn.outputs] == ["next_thought", "next_tool_name", "next_tool_args"]
    assert turn.outputs[1].choices == ("add", "finish")
    assert "(1) add: Add numbers." in turn.instructions
    assert [f.name for f in turn.inputs] == ["question", "trajectory"]
    extract = react_extract_spec(spec)
    assert extract.module == "cot"
    assert extract.inputs[-1].name == "trajectory"
    assert render_messages(spec, {"question": "q"}) == render_messages(
        turn, {"question": "q", "trajectory": ""}
    )
    [tool] = tool_schemas([TOOL])
    assert tool["function"]["name"] == "add"


@pytest.mark.parametrize("adapter", ["chat", "json", "markdown"])
def test_retry_message_shows_the_error_and_the_format(adapter: str) -> None:
    spec = replace(SPEC, adapter=adapter)  # type: ignore[arg-type]
    message = retry_message(spec, "field answer: expected a number")
    assert message["role"] == "user"
    assert message["content"].startswith(
        "Your last response could not be used: field answer: expected a number"
    )
    assert "answer" in message["content"].split("\n\n", 1)[1]


def test_a_signature_without_instructions_or_inputs() -> None:
    spec = PromptSpec("", (), (FieldSpec("joke", "string"),))
    system, user = render_messages(spec, {})
    assert "Your input fields" not in system["content"]
    assert system["content"].endswith("Your task: Produce `joke`.")
    assert user["content"].startswith("Respond with the output fields")
