"""Laws of the parser and formatter, checked by hypothesis.

- generated programs parse without errors;
- formatting is idempotent, keeps every comment, and parse(fmt(x)) == parse(x);
- the parser and the checker never raise, on arbitrary text and on random
  mutations of the examples (they report diagnostics instead).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syntax_strategies import programs

from dspx_lang.diagnostics import Sink
from dspx_lang.semantics import analyze
from dspx_lang.source import SourceFile
from dspx_lang.syntax import parse
from dspx_lang.syntax.format import format_module

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.dspx"))
SEEDS = [p.read_text(encoding="utf-8") for p in EXAMPLES] or ["program p { in x: string }"]
PROFILE = settings(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@PROFILE
@given(programs)
def test_generated_programs_parse_cleanly(text: str) -> None:
    result = parse(SourceFile("gen.dspx", text))
    assert result.diagnostics == [], text


@PROFILE
@given(programs)
def test_format_roundtrip_and_idempotence(text: str) -> None:
    source = SourceFile("gen.dspx", text)
    first = parse(source)
    formatted = format_module(source, first.module)
    second = parse(SourceFile("gen.dspx", formatted))
    assert second.diagnostics == [], formatted
    assert second.module == first.module
    assert [_lines(c.text) for c in second.module.comments] == [
        _lines(c.text) for c in first.module.comments
    ]
    assert format_module(second.source, second.module) == formatted


def _lines(comment: str) -> list[str]:
    """A comment's text as the formatter keeps it: trailing spaces dropped."""
    return [line.rstrip() for line in comment.split("\n")]


def _analyze(text: str) -> None:
    source = SourceFile("/nonexistent/fuzz.dspx", text)
    sink = Sink()
    analyze(source, sink)
    for d in sink:
        assert d.code in {"E001"} or d.code[0] in "EWI"


@settings(deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    _analyze(text)


@st.composite
def mutations(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 8))):
        if not text:
            break
        at = draw(st.integers(0, len(text) - 1))
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        chunk = draw(st.text(alphabet='{}()[]":,.=<>@/*\n abc0123$', min_size=1, max_size=4))
        if op == "delete":
            text = text[:at] + text[at + len(chunk) :]
        elif op == "insert":
            text = text[:at] + chunk + text[at:]
        elif op == "replace":
            text = text[:at] + chunk + text[at + len(chunk) :]
        else:
            end = min(len(text), at + draw(st.integers(1, 80)))
            text = text[:end] + text[at:end] + text[end:]
    return text


@settings(deadline=None)
@given(mutations())
def test_mutated_examples_never_raise(text: str) -> None:
    _analyze(text)


def test_pathological_inputs_give_diagnostics() -> None:
    cases = {
        "deep parens": "program p { constraint " + "(" * 5000 + "x" + ")" * 5000 + " }",
        "deep types": "class C { f: " + "list<" * 3000 + "string" + ">" * 3000 + " }",
        "nul bytes": 'model m = "x"\x00\x00 program p {}',
        "long line": 'model m = "' + "a" * 2_000_000 + '"',
        "garbage": "#" * 100_000,
        "many errors": "program p {\n" + "  step = (\n" * 3000 + "}",
    }
    for name, text in cases.items():
        result = parse(SourceFile("p.dspx", text))
        assert isinstance(result.diagnostics, list), name
    deep = parse(SourceFile("p.dspx", cases["deep parens"]))
    assert any("nested too deeply" in d.message for d in deep.diagnostics)
    bad = SourceFile.from_bytes("b.dspx", b'model m = "\xff\xfe"')
    assert parse(bad).diagnostics[0].message.startswith("invalid UTF-8")


# Inputs the fuzz campaign (bench/fuzz_compiler.py) found where `fmt` changed the meaning.
FMT_REGRESSIONS = {
    # A `///` doc above a line where a declaration and its first member start went to both.
    "doc_on_a_shared_line": "/// Colours we know.\nenum Color { red\n  blue\n}\n",
    "doc_on_a_signature_line": (
        "/// The answer.\nsignature Answer { in question: string\n  out answer: string\n}\n"
    ),
    # A keyword used as an optimize key was taken for a new declaration once fmt put it at
    # the start of a line.
    "keyword_as_optimize_key": (
        "program p {\n  in q: string\n  out a: string\n  step s = predict A(q)\n  return s\n"
        "  optimize { trials 4 dataset x }\n}\n"
    ),
    # Trailing spaces on a `///` line that is not the doc's last were kept in the doc, and
    # fmt drops trailing whitespace.
    "doc_line_with_trailing_spaces": (
        '/// Runs with no key. \n/// A small model.\nmodel mini = "openai/gpt-4o-mini"\n'
    ),
}


@pytest.mark.parametrize("text", FMT_REGRESSIONS.values(), ids=FMT_REGRESSIONS.keys())
def test_fmt_keeps_the_meaning_of_what_the_fuzzer_found(text: str) -> None:
    source = SourceFile("found.dspx", text)
    first = parse(source)
    assert first.diagnostics == []
    formatted = format_module(source, first.module)
    second = parse(SourceFile("found.dspx", formatted))
    assert second.diagnostics == [], formatted
    assert second.module == first.module, formatted
