"""Helpers for evaluation tests: a small intent program pointed at the fixture server.

`write_intent(directory, base_url, objectives=...)` writes `intent.dspx` (a one-step
`predict` classifier whose model `fx` is `openai/gpt-4o-mini` at the server, priced $0.5
and $2 per million prompt and completion tokens), `scoring.py` (Python metrics next to
it) and `dev.jsonl`; `build(...)` compiles it to a runtime `Program`. `answer(label)` is
the chat-adapter reply the runtime parses; `answer_by_utterance(table)` is a server
responder answering each utterance from a table (`"500"` answers HTTP 500, `"junk"` an
unparseable text, anything else a label), each answer reporting `USAGE` tokens.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fixtures.lm_server import RecordedRequest, Reply

from dspx_lang.codegen.build import compile_source, render_errors
from dspx_lang.prompts import FieldSpec, format_outputs
from dspx_lang.runtime.lm import LMClient
from dspx_lang.runtime.program import Program

INTENT = """\
model fx = "openai/gpt-4o-mini" {{
  api_base: "{base}"
  retries: {retries}
  timeout: {timeout}
  input_cost: 0.5
  output_cost: 2.0
}}

enum Intent {{
  weather
  music
  booking
}}

signature Classify {{
  \"\"\"Classify the request.\"\"\"
  in utterance: string
  out intent: Intent
}}

dataset dev = "dev.jsonl" {{ intent: "label" }}

program classify {{
  in utterance: string
  out intent: Intent

  var demos: int in 0..2 = 0

  step c = predict Classify(utterance) {{
    model: fx
    demos: demos
  }}

  return c
{objectives}
}}
"""

OBJECTIVES = """
  objective maximize exact_match(intent) weight 0.8
  objective minimize cost weight 0.2
  budget tokens <= 10000
"""

SCORING = '''\
"""Python metrics of the evaluation tests (found next to intent.dspx)."""


def is_weather(example, prediction):
    return prediction.intent == "weather" and example.intent == "weather"


def half(example, prediction):
    return 0.5


def broken(example, prediction):
    if example.utterance.startswith("break"):
        raise ValueError("metric bug")
    return 1.0


def not_a_number(example, prediction):
    return "yes"
'''

# utterance -> (label, what the server answers)
ROWS: tuple[tuple[str, str, str], ...] = (
    ("will it rain today", "weather", "weather"),
    ("play some jazz", "music", "music"),
    ("book a table for two", "booking", "music"),  # wrong
    ("is it sunny in rome", "weather", "weather"),
    ("put on the radio", "music", "weather"),  # wrong
)


def answer(label: str) -> str:
    return format_outputs("chat", [FieldSpec("intent", "string")], {"intent": label})


def user_text(request: RecordedRequest) -> str:
    messages = request.json["messages"]
    return "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")


USAGE = (100, 10)
COST = (100 * 0.5 + 10 * 2.0) / 1e6  # USD of one answered call


def answer_by_utterance(table: Mapping[str, str]) -> Callable[[RecordedRequest], Reply | str]:
    """A responder: finds which utterance the request is about and answers from `table`."""

    def respond(request: RecordedRequest) -> Reply | str:
        text = user_text(request)
        for utterance, reply in table.items():
            if utterance in text:
                if reply == "500":
                    return Reply.error(500, "server exploded")
                if reply == "junk":
                    return Reply(content="I cannot say.", usage=USAGE)
                return Reply(content=answer(reply), usage=USAGE)
        return Reply(content=answer("weather"), usage=USAGE)

    return respond


def write_rows(path: Path, rows: Sequence[Mapping[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_intent(
    directory: Path,
    base_url: str,
    *,
    objectives: str = OBJECTIVES,
    rows: Sequence[tuple[str, str, str]] = ROWS,
    retries: int = 1,
    timeout: str = "10s",
) -> Path:
    path = directory / "intent.dspx"
    path.write_text(
        INTENT.format(base=base_url, objectives=objectives, retries=retries, timeout=timeout),
        encoding="utf-8",
    )
    (directory / "scoring.py").write_text(SCORING, encoding="utf-8")
    write_rows(directory / "dev.jsonl", [{"utterance": u, "label": label} for u, label, _ in rows])
    return path


def build(path: Path, client: LMClient | None = None, name: str = "classify") -> Program:
    result = compile_source(path)
    assert result.package is not None, render_errors(result.compilation)
    return Program(result.package, name, client=client)
