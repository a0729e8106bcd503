"""The one prompt renderer: the chat messages of every LM call dspx makes.

Contract:
- Standard library only and no dspx imports: the runtime (the real calls) and the compiler's
  estimator (token estimates) both render with this module, so estimates are made from the
  very prompts that are sent.
- Deterministic: the same spec, inputs and demos give the same messages, byte for byte.
- `render_messages` returns OpenAI chat messages: a system message (fields, structure,
  instructions), then one user/assistant pair per demo, then the user message with the inputs.
- What the LM is asked to write is `lm_outputs(spec)`: `cot` puts `reasoning` first, `pot`
  asks only for `code` (Python that assigns the outputs), `react` ends with `reasoning` and the
  outputs. The react text protocol (models without function calling) is two derived specs:
  `react_turn_spec` (one turn: thought, tool, arguments) and `react_extract_spec` (the outputs
  from the trajectory).
- `format_outputs` writes values exactly as the adapter asks the LM to write them (demos,
  tests); the runtime's parser reads that format back.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "ADAPTERS",
    "MODULES",
    "Adapter",
    "Demo",
    "FieldSpec",
    "Module",
    "PromptSpec",
    "ToolSpec",
    "chat_marker",
    "format_outputs",
    "format_trajectory",
    "format_value",
    "lm_outputs",
    "output_schema",
    "pot_retry_message",
    "react_extract_spec",
    "react_stop_message",
    "react_turn_spec",
    "render_messages",
    "retry_message",
    "tool_schemas",
]

Module = Literal["predict", "cot", "pot", "react"]
Adapter = Literal["chat", "json", "markdown"]
MODULES: tuple[Module, ...] = ("predict", "cot", "pot", "react")
ADAPTERS: tuple[Adapter, ...] = ("chat", "json", "markdown")
Message = dict[str, str]

COMPLETED = "completed"
FINISH_TOOL = "finish"
_STRUCTURED = frozenset({"array", "object"})


# The note after an output's placeholder in chat/markdown templates; small models sometimes
# copy it into their answer, and the parser removes that copy (it is our text, not theirs).
VALUE_NOTE = "# note: the value you produce"


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One input or output field as the LM sees it.

    `type` is the dspx type text (`list<string>`, `Intent`, `"yes" | "no"`, `float?`);
    `choices` the allowed values of an enum or literal union, with `choice_descriptions`
    parallel to it ("" where a value has none); `json_schema` the value's JSON schema;
    `hints` human phrasings of the field checks ("between 0 and 1").
    """

    name: str
    type: str
    description: str | None = None
    choices: tuple[str, ...] = ()
    choice_descriptions: tuple[str, ...] = ()
    json_schema: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)
    hints: tuple[str, ...] = ()
    # The schema's canonical text stands in for it in == and hash (a dict is unhashable).
    _schema_key: str = field(init=False, repr=False, default="")

    def __post_init__(self) -> None:
        if self.json_schema is not None:
            key = json.dumps(self.json_schema, sort_keys=True, separators=(",", ":"))
            object.__setattr__(self, "_schema_key", key)


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the `react` module may call; `parameters_schema` is a JSON object schema."""

    name: str
    description: str
    parameters_schema: Mapping[str, Any] = field(hash=False, compare=False)
    _schema_key: str = field(init=False, repr=False, default="")

    def __post_init__(self) -> None:
        key = json.dumps(self.parameters_schema, sort_keys=True, separators=(",", ":"))
        object.__setattr__(self, "_schema_key", key)


@dataclass(frozen=True, slots=True)
class PromptSpec:
    """Everything that shapes the prompt of one step (inputs and demos aside)."""

    instructions: str
    inputs: tuple[FieldSpec, ...]
    outputs: tuple[FieldSpec, ...]
    module: Module = "predict"
    adapter: Adapter = "chat"
    tools: tuple[ToolSpec, ...] = ()


@dataclass(frozen=True)
class Demo:
    """A worked example shown before the real inputs (field name -> value)."""

    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]


REASONING = FieldSpec("reasoning", "string", "your step-by-step reasoning before the answer")


def chat_marker(name: str) -> str:
    return f"[[ ## {name} ## ]]"


def lm_outputs(spec: PromptSpec) -> tuple[FieldSpec, ...]:
    """The fields the LM is asked to write for `spec`'s module."""
    if spec.module in ("cot", "react"):
        return (REASONING, *(f for f in spec.outputs if f.name != REASONING.name))
    if spec.module == "pot":
        return (_code_field(spec),)
    return spec.outputs


def _code_field(spec: PromptSpec) -> FieldSpec:
    inputs = ", ".join(f"`{f.name}` ({f.type})" for f in spec.inputs) or "none"
    outputs = ", ".join(f"`{f.name}` ({f.type})" for f in spec.outputs)
    return FieldSpec(
        "code",
        "string",
        "Python 3 code that computes the outputs. The inputs are already defined as "
        f"variables: {inputs}. Assign every output to a variable of the same name: {outputs}. "
        "Use only the standard library; do not read files, use the network or call input().",
    )


def format_value(value: Any) -> str:
    """An input or output value as text: strings as they are, anything else as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def output_schema(fields: Sequence[FieldSpec]) -> dict[str, Any]:
    """The JSON schema of the object the `json` adapter asks for (structured output)."""
    return {
        "title": "outputs",
        "type": "object",
        "properties": {f.name: dict(f.json_schema or _scalar_schema(f)) for f in fields},
        "required": [f.name for f in fields],
        "additionalProperties": False,
    }


def _scalar_schema(spec: FieldSpec) -> dict[str, Any]:
    if spec.choices:
        return {"type": "string", "enum": list(spec.choices)}
    kind = {"int": "integer", "float": "number", "bool": "boolean"}.get(spec.type, "string")
    return {"type": kind}


def tool_schemas(tools: Sequence[ToolSpec]) -> list[dict[str, Any]]:
    """OpenAI `tools` entries for native function calling."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": dict(tool.parameters_schema),
            },
        }
        for tool in tools
    ]


# --------------------------------------------------------------------------- messages


def render_messages(
    spec: PromptSpec,
    inputs: Mapping[str, Any],
    demos: Sequence[Demo] = (),
    *,
    native_structured: bool = False,
    native_tools: bool = False,
) -> list[Message]:
    """The chat messages of the first call of a step.

    `native_structured`: the provider enforces the `json` adapter's schema (`response_format`),
    so the prompt does not repeat it. `native_tools`: `react` uses function calling; otherwise
    `react` renders its text-protocol turn with an empty trajectory.
    """
    if spec.module == "react" and not native_tools:
        return render_messages(
            react_turn_spec(spec), {**inputs, "trajectory": ""}, demos, native_structured=False
        )
    outputs = lm_outputs(spec)
    messages: list[Message] = [
        {"role": "system", "content": _system(spec, native_structured, native_tools)}
    ]
    for demo in demos:
        shown = [f for f in outputs if f.name in demo.outputs]
        if not shown:
            continue
        messages.append({"role": "user", "content": _user(spec, demo.inputs, outputs)})
        messages.append(
            {"role": "assistant", "content": format_outputs(spec.adapter, shown, demo.outputs)}
        )
    messages.append({"role": "user", "content": _user(spec, inputs, outputs)})
    return messages


def retry_message(spec: PromptSpec, error: str) -> Message:
    """The user message sent after an answer that could not be parsed or validated."""
    outputs = lm_outputs(spec)
    return {
        "role": "user",
        "content": f"Your last response could not be used: {error}\n\n"
        + _respond_line(spec.adapter, outputs),
    }


def pot_retry_message(spec: PromptSpec, error: str) -> Message:
    """The user message sent after `pot` code failed in the sandbox."""
    return {
        "role": "user",
        "content": f"Running your code failed:\n{error}\n\nFix the code. "
        + _respond_line(spec.adapter, lm_outputs(spec)),
    }


def react_stop_message(spec: PromptSpec) -> Message:
    """The user message that ends react's tool turns (function calling) and asks for the
    outputs."""
    return {
        "role": "user",
        "content": "Stop calling tools now. " + _respond_line(spec.adapter, lm_outputs(spec)),
    }


@functools.lru_cache(maxsize=512)
def _system(spec: PromptSpec, native_structured: bool, native_tools: bool) -> str:
    outputs = lm_outputs(spec)
    parts = [_field_list("Your output fields are:", outputs, describe_type=True)]
    if spec.inputs:
        parts.insert(0, _field_list("Your input fields are:", spec.inputs, describe_type=False))
    if spec.adapter == "json":
        keys = ", ".join(json.dumps(f.name) for f in outputs)
        parts.append(
            f"The inputs arrive as sections headed {chat_marker('name')}. Respond with one JSON "
            f"object and nothing else, with these keys in this order: {keys}."
        )
        if not native_structured:
            schema = json.dumps(output_schema(outputs), ensure_ascii=False, separators=(",", ":"))
            parts.append(f"The object must match this JSON schema: {schema}")
    else:
        sections = [_section(spec.adapter, f.name, f"{{{f.name}}}") for f in spec.inputs]
        for f in outputs:
            note = _value_note(f)
            body = f"{{{f.name}}}" + (f"        {VALUE_NOTE} {note}" if note else "")
            sections.append(_section(spec.adapter, f.name, body))
        if spec.adapter == "chat":
            sections.append(chat_marker(COMPLETED))
        # This sentence, as DSPy words it, measurably keeps small models in the format: with
        # Qwen2.5-0.5B, 40 of 40 intent answers parsed, against 35 with other wordings.
        parts.append(
            "All interactions will be structured in the following way, with the appropriate "
            "values filled in.\n\n" + "\n\n".join(sections)
        )
    if native_tools and spec.tools:
        parts.append(
            "You can call the tools you are given, several times if needed. When you have what "
            "you need, stop calling tools and respond with the output fields as described."
        )
    parts.append(f"Your task: {spec.instructions.strip() or _default_task(spec)}")
    return "\n\n".join(parts)


def _default_task(spec: PromptSpec) -> str:
    """The task of a signature without instructions, from its field names."""
    outputs = ", ".join(f"`{f.name}`" for f in spec.outputs)
    if not spec.inputs:
        return f"Produce {outputs}."
    return f"Given {', '.join(f'`{f.name}`' for f in spec.inputs)}, produce {outputs}."


def _field_list(title: str, fields: Sequence[FieldSpec], *, describe_type: bool) -> str:
    lines = [title]
    for index, spec in enumerate(fields, 1):
        notes = [spec.description] if spec.description else []
        if describe_type:
            notes.extend(_type_notes(spec))
        notes.extend(spec.hints)
        line = f"{index}. `{spec.name}` ({spec.type})"
        lines.append(f"{line}: {'; '.join(notes)}" if notes else line)
    return "\n".join(lines)


def _type_notes(spec: FieldSpec) -> list[str]:
    if spec.choices:
        labels = [
            f"{value} ({spec.choice_descriptions[i]})"
            if i < len(spec.choice_descriptions) and spec.choice_descriptions[i]
            else value
            for i, value in enumerate(spec.choices)
        ]
        notes = ["one of: " + ", ".join(labels)]
    else:
        base = spec.type.removesuffix("?")
        simple = {"int": "an integer", "float": "a single number", "bool": "true or false"}
        schema = spec.json_schema or {}
        if base in simple:
            notes = [simple[base]]
        elif _is_structured(schema):
            compact = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
            notes = [f"JSON matching the schema {compact}"]
        else:
            notes = []
    if spec.type.endswith("?"):
        notes.append("null when there is no value")
    return notes


def _value_note(spec: FieldSpec) -> str | None:
    """What an output's value must look like, said where the LM writes it."""
    base = spec.type.removesuffix("?")
    if spec.choices:
        note = "must be exactly one of: " + ", ".join(spec.choices)
    elif base in _SCALAR_NOTES:
        note = f"must be {_SCALAR_NOTES[base]}"
    elif _is_structured(spec.json_schema or {}):
        note = "must be valid JSON matching its schema above"
    else:
        return None
    return note + " (or null)" if spec.type.endswith("?") else note


_SCALAR_NOTES = {"int": "a single integer", "float": "a single number", "bool": "true or false"}


def _is_structured(schema: Mapping[str, Any]) -> bool:
    if schema.get("type") in _STRUCTURED:
        return True
    options = schema.get("anyOf")
    return isinstance(options, list) and any(
        isinstance(o, Mapping) and o.get("type") in _STRUCTURED for o in options
    )


def _section(adapter: Adapter, name: str, body: str) -> str:
    header = f"## {name}" if adapter == "markdown" else chat_marker(name)
    return f"{header}\n{body}"


def _user(spec: PromptSpec, inputs: Mapping[str, Any], outputs: Sequence[FieldSpec]) -> str:
    adapter: Adapter = "markdown" if spec.adapter == "markdown" else "chat"
    sections = [
        _section(adapter, f.name, format_value(inputs[f.name]))
        for f in spec.inputs
        if f.name in inputs
    ]
    return "\n\n".join([*sections, _respond_line(spec.adapter, outputs)])


def _respond_line(adapter: Adapter, outputs: Sequence[FieldSpec]) -> str:
    if adapter == "json":
        keys = ", ".join(json.dumps(f.name) for f in outputs)
        return f"Respond with a JSON object with the keys {keys}, in this order."
    if adapter == "markdown":
        heads = ", then ".join(f"`## {f.name}`" + _reminder(f) for f in outputs)
        return f"Respond with the output sections {heads}."
    markers = ", then ".join(f"`{chat_marker(f.name)}`" + _reminder(f) for f in outputs)
    return (
        f"Respond with the output fields, each after its marker: {markers}, "
        f"and end with the marker `{chat_marker(COMPLETED)}`."
    )


def _reminder(spec: FieldSpec) -> str:
    if spec.choices:
        return f" (exactly one of: {', '.join(spec.choices)})"
    base = spec.type.removesuffix("?")
    return f" ({_SCALAR_NOTES[base]})" if base in _SCALAR_NOTES else ""


def format_outputs(adapter: Adapter, fields: Sequence[FieldSpec], values: Mapping[str, Any]) -> str:
    """Output values written the way `adapter` asks the LM to write them."""
    present = [f for f in fields if f.name in values]
    if adapter == "json":
        return json.dumps({f.name: values[f.name] for f in present}, ensure_ascii=False)
    body = "\n\n".join(_section(adapter, f.name, format_value(values[f.name])) for f in present)
    return f"{body}\n\n{chat_marker(COMPLETED)}" if adapter == "chat" else body


# ----------------------------------------------------------------- react, text protocol


def react_turn_spec(spec: PromptSpec) -> PromptSpec:
    """One turn of the react text protocol: think, then name a tool and its arguments."""
    tools = [*spec.tools, _finish_tool(spec)]
    listing = "\n".join(
        f"({i}) {t.name}: {t.description} Arguments (JSON schema): "
        + json.dumps(dict(t.parameters_schema), ensure_ascii=False, separators=(",", ":"))
        for i, t in enumerate(tools, 1)
    )
    instructions = (
        f"{spec.instructions.strip()}\n\nYou are an agent. In each turn you see the inputs and "
        "your trajectory so far; think, then choose the next tool to call and its arguments. "
        f"The tools are:\n{listing}"
    )
    names = tuple(t.name for t in tools)
    return PromptSpec(
        instructions=instructions,
        inputs=(*spec.inputs, _TRAJECTORY),
        outputs=(
            FieldSpec("next_thought", "string", "what you know so far and what to do next"),
            FieldSpec(
                "next_tool_name", " | ".join(json.dumps(n) for n in names), None, choices=names
            ),
            FieldSpec(
                "next_tool_args",
                "map<string, any>",
                "the tool's arguments",
                json_schema={"type": "object"},
            ),
        ),
        module="predict",
        adapter=spec.adapter,
    )


def react_extract_spec(spec: PromptSpec) -> PromptSpec:
    """The last call of the react text protocol: the outputs, from the trajectory."""
    return PromptSpec(
        instructions=spec.instructions,
        inputs=(*spec.inputs, _TRAJECTORY),
        outputs=spec.outputs,
        module="cot",
        adapter=spec.adapter,
    )


def format_trajectory(turns: Sequence[tuple[str, str, str, str]]) -> str:
    """(thought, tool, arguments JSON, observation) per turn, as the trajectory input."""
    lines = []
    for index, (thought, tool, arguments, observation) in enumerate(turns, 1):
        lines.append(f"Thought {index}: {thought}")
        lines.append(f"Tool {index}: {tool}({arguments})")
        lines.append(f"Observation {index}: {observation}")
    return "\n".join(lines)


_TRAJECTORY = FieldSpec("trajectory", "string", "the tools called so far and what they returned")


def _finish_tool(spec: PromptSpec) -> ToolSpec:
    names = ", ".join(f.name for f in spec.outputs)
    return ToolSpec(
        FINISH_TOOL,
        f"call it once you have everything needed to produce the outputs ({names}).",
        {"type": "object", "properties": {}},
    )
