"""Helpers for runtime tests: compile a .dspx text whose models point at the fixture server.

`write_program(tmp_path, body, base_url)` writes `kit.dspx` (the kit's models, types and
tool, then `body`) and `kit_tools.py` next to it; `build(...)` compiles it and returns the
runtime `Program`. Replies are written with `dspx_lang.prompts.format_outputs`, the format
the runtime asks the LM for.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dspx_lang.codegen.build import compile_source, render_errors
from dspx_lang.prompts import FieldSpec, format_outputs
from dspx_lang.runtime.lm import LMClient
from dspx_lang.runtime.program import Program

# fx: a model the price map knows (function calling, structured output); plain: one it does
# not know (text protocols); fxl, plainl: the same through litellm.
MODELS = """\
model fx = "openai/gpt-4o-mini" {{
  api_base: "{base}"
  retries: 1
  timeout: 10s
}}
model fxl = "openai/gpt-4o-mini" {{
  api_base: "{base}"
  transport: "litellm"
  retries: 1
  timeout: 10s
}}
model plain = "openai/fixture-plain" {{
  api_base: "{base}"
  retries: 1
  timeout: 10s
}}
model plainl = "openai/fixture-plain" {{
  api_base: "{base}"
  transport: "litellm"
  retries: 1
  timeout: 10s
}}

enum Mood {{
  happy "glad about it"
  sad
}}

class Item {{
  name: string
  qty: int @range(0, 100)
}}

/// Add numbers up.
tool add(numbers: list<float>) -> float = "kit_tools:add"
"""

TOOLS = '''\
"""Tools of the runtime tests (found next to kit.dspx)."""

CALLS = []


def add(numbers):
    CALLS.append(numbers)
    return float(sum(numbers))
'''

RATE = """
signature Rate {
  \"\"\"Rate the text.\"\"\"
  in text: string
  out mood: Mood
  out score: float @range(0, 1)
  out items: list<Item>
}

program rate {
  in text: string
  out mood: Mood
  out score: float
  out items: list<Item>

  var module: [predict, cot, pot, react] = predict
  var model: [fx, fxl, plain, plainl] = fx
  var adapter: [chat, json, markdown] = chat

  step r = module Rate(text) {
    model: model
    adapter: adapter
    tools: [add]
    max_iters: 2
  }

  return r
}
"""

RATE_VALUES: dict[str, Any] = {
    "mood": "happy",
    "score": 0.5,
    "items": [{"name": "apple", "qty": 3}],
}
RATE_FIELDS = (
    FieldSpec("reasoning", "string"),
    FieldSpec("mood", "Mood"),
    FieldSpec("score", "float"),
    FieldSpec("items", "list<Item>"),
)


def write_program(directory: Path, body: str, base_url: str) -> Path:
    path = directory / "kit.dspx"
    path.write_text(MODELS.format(base=base_url) + body, encoding="utf-8")
    (directory / "kit_tools.py").write_text(TOOLS, encoding="utf-8")
    return path


def build(
    directory: Path,
    body: str,
    base_url: str,
    client: LMClient | None = None,
    program: str | None = None,
) -> Program:
    path = write_program(directory, body, base_url)
    result = compile_source(path)
    assert result.package is not None, render_errors(result.compilation)
    name = program or next(iter(result.package.programs))
    return Program(result.package, name, client=client)


def reply(adapter: str, values: dict[str, Any], names: tuple[str, ...] | None = None) -> str:
    """An answer in `adapter`'s format with `values` (fields in the order given)."""
    fields = [FieldSpec(n, "string") for n in (names or tuple(values))]
    return format_outputs(adapter, fields, values)  # type: ignore[arg-type]
