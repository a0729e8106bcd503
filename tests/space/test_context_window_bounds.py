"""The context-window check decides from byte bounds when they fit and from tiktoken's exact
count when they do not: the verdict is the exact one either way, and a check whose bounds fit
never loads the tokenizer."""

from __future__ import annotations

import re
from pathlib import Path

from tokenizer_probe import check_loads_tiktoken

import dspx_lang
from dspx_lang.driver import Session
from dspx_lang.source import SourceFile

ROOT = Path(dspx_lang.__file__).parent.parent
SOURCE = """
model small = "openai/gpt-4o-mini" {{ context_window: {window} }}

signature S {{
  \"\"\"Answer the question in one short sentence, citing nothing.\"\"\"
  in question: string
  out answer: string
}}

program qa {{
  in question: string
  out answer: string
  step s = predict S(question) {{ model: small }}
  return s
}}
"""


def window_errors(window: int) -> list[str]:
    source = SourceFile(str(ROOT / "examples" / "window.dspx"), SOURCE.format(window=window))
    compilation = Session().check_source(source)
    return [d.message for d in compilation.diagnostics if d.code == "E406"]


def test_the_verdict_is_the_exact_counts_at_the_edge() -> None:
    (message,) = window_errors(1)
    match = re.search(r"needs about (\d+) tokens", message)
    assert match is not None, message
    exact = int(match.group(1))
    # Between the exact count and the byte bound: the bound does not fit, the count does.
    assert window_errors(exact) == []
    (below,) = window_errors(exact - 1)
    assert f"needs about {exact} tokens" in below


def test_a_check_whose_bounds_fit_never_loads_tiktoken(tmp_path: Path) -> None:
    budgets = "  budget cost <= $1\n  budget latency <= 60s\n}\n"
    path = tmp_path / "roomy.dspx"
    path.write_text(SOURCE.format(window=100_000).rstrip().removesuffix("}") + budgets)
    assert check_loads_tiktoken(path) == (0, False)
