"""W405 decides from the bound-based forecast when it fits `max_spend` and from the exact one
when it does not: the verdict is the exact forecast's either way, and checking the examples
(whose forecasts fit) never loads the tokenizer."""

from __future__ import annotations

from pathlib import Path

import pytest
from tokenizer_probe import check_loads_tiktoken

import dspx_lang
from dspx_lang.driver import Session
from dspx_lang.source import SourceFile

ROOT = Path(dspx_lang.__file__).parent.parent
SOURCE = """
model big = "openai/gpt-4o"

signature S {{
  in x: string
  out y: string
}}

dataset train = "../data/qa.jsonl" {{ x: "question", y: "answer" }}

program p {{
  in x: string
  out y: string
  var demos: int in 0..4 = 2
  step s = cot S(x) {{ demos: demos }}
  return s
  optimize {{
    trainset train
    trials 200
    max_spend ${cap}
  }}
}}
"""


def check(cap: str) -> tuple[float | None, list[str]]:
    path = ROOT / "tests" / "cases" / "space" / "forecast_edge.dspx"
    compilation = Session().check_source(SourceFile(str(path), SOURCE.format(cap=cap)))
    forecast = compilation.reports["p"].forecast
    assert forecast is not None
    warnings = [d.message for d in compilation.diagnostics if d.code == "W405"]
    return forecast.cost_usd, warnings


def test_the_verdict_is_the_exact_forecasts_at_the_edge() -> None:
    exact, warnings = check("1000")
    assert exact is not None
    assert exact > 0.02
    assert warnings == []
    above = f"{exact * 1.01:.4f}"  # over the exact forecast, under its upper bound
    below = f"{exact * 0.99:.4f}"
    assert check(above)[1] == []
    (message,) = check(below)[1]
    assert f"forecast to cost ${exact:.2f}, over max_spend ${float(below):.2f}" in message


# Not intent.dspx: its local model's context window is small enough that the window check
# (E406) needs the exact count at 8 demos.
@pytest.mark.parametrize("example", ["qa", "math", "count"])
def test_checking_an_example_with_an_optimize_block_never_loads_tiktoken(example: str) -> None:
    path = ROOT / "examples" / f"{example}.dspx"
    assert "max_spend" in path.read_text()
    assert check_loads_tiktoken(path) == (0, False)
