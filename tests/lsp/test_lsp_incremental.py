"""The incremental parser's law: it answers exactly what a whole-file parse answers.

Property: from any corpus text, after any sequence of edits (including ones
that open strings, comments and blocks across declaration boundaries), the
`IncrementalParseCache` result equals `parse()` - nodes, spans, docs,
comments and E001 diagnostics. Separately: an edit inside one declaration of
a large file re-parses only that declaration (the reason it exists).
"""

from __future__ import annotations

import sys
from pathlib import Path

from dspx_lsp.incremental import IncrementalParseCache, boundaries, same_result
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dspx_lang.source import SourceFile
from dspx_lang.syntax import parse

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from gen_large import generate

TESTS = Path(__file__).parents[1]
CORPUS = [
    *(p.read_text(encoding="utf-8") for p in sorted((TESTS / "cases").rglob("*.dspx"))),
    *(p.read_text(encoding="utf-8") for p in sorted((TESTS / "lsp" / "workspace").glob("*.dspx"))),
    generate(150),
]
PIECES = [
    "",
    " ",
    "\n",
    "x",
    ",",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    '"',
    '"""',
    "/*",
    "*/",
    "//",
    "@",
    "#",
    "\nprogram p {\n",
    '\nmodel m = "a/b"\n',
    "step",
    "var x: ",
    "/// doc\n",
    "\n}\n",
    "test t for qa {",
    "in",
    "🇫🇷",
    "\nenum E { a b }\n",
    "\n\n",
]
PATH = "/virtual/edited.dspx"


@settings(max_examples=300, deadline=None)
@example(  # the parser gives up (unterminated block string) in a piece that ends the file
    CORPUS[-1], [(0.9, 2, []), (0.05, 0, ['"""'])]
)
@example(  # a chunk ending the file with an error moves, and its parse spans it whole
    "program p {\n  in x: string\n  var demos: int in 0..8 // no closing brace\n",
    [(0.0, 0, ["\nenum E { a b }\n"])],
)
@given(
    st.sampled_from(CORPUS),
    st.lists(
        st.tuples(
            st.floats(0, 1), st.integers(0, 40), st.lists(st.sampled_from(PIECES), max_size=3)
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_incremental_parse_equals_whole_file_parse(
    text: str, edits: list[tuple[float, int, list[str]]]
) -> None:
    cache = IncrementalParseCache()
    cache.parse(SourceFile(PATH, text))
    for where, length, pieces in edits:
        start = int(where * len(text))
        text = text[:start] + "".join(pieces) + text[min(len(text), start + length) :]
        source = SourceFile(PATH, text)
        assert same_result(cache.parse(source), parse(source))


def test_an_edit_inside_one_declaration_reparses_only_that_declaration() -> None:
    text = generate(2000)
    cache = IncrementalParseCache()
    cache.parse(SourceFile(PATH, text))
    parsed_before = cache.stats.chunks_parsed
    at = text.index("temperature: float in 0.0..1.5 = 0.7", len(text) // 2)
    edited = text[:at] + "x" + text[at:]
    result = cache.parse(SourceFile(PATH, edited))
    assert cache.stats.chunks_parsed == parsed_before + 1
    assert (cache.stats.incremental, cache.stats.full) == (2, 0)
    assert same_result(result, parse(SourceFile(PATH, edited)))


def test_errors_in_two_declarations_are_reparsed_together_not_the_whole_file() -> None:
    text = generate(2000)
    cache = IncrementalParseCache()
    cache.parse(SourceFile(PATH, text))
    first = text.index("question: first.answer", len(text) // 3)
    second = text.index("question: first.answer", len(text) // 2)
    edited = text[:first] + "(" + text[first:second] + ") )" + text[second:]
    source = SourceFile(PATH, edited)
    result = cache.parse(source)
    assert (cache.stats.incremental, cache.stats.full) == (2, 0)
    assert len(result.diagnostics) >= 2
    assert same_result(result, parse(source))


def test_an_unclosed_block_in_the_middle_falls_back_to_a_whole_file_parse() -> None:
    text = generate(300)
    cache = IncrementalParseCache()
    cache.parse(SourceFile(PATH, text))
    closing = text.index("\n}\n", text.index("program qa1 {"))
    edited = text[:closing] + text[closing + 2 :]  # drop the program's closing brace
    source = SourceFile(PATH, edited)
    result = cache.parse(source)
    assert cache.stats.full == 1
    assert same_result(result, parse(source))


def test_giving_up_in_a_middle_declaration_is_not_confined_to_it() -> None:
    # Unexpected tokens count towards the parser's limit (2000), then it skips the rest.
    text = 'model a = "x/y"\nprogram p {\n' + "= " * 2100 + '\n}\nmodel b = "x/z"\n'
    cache = IncrementalParseCache()
    source = SourceFile(PATH, text)
    result = cache.parse(source)
    assert any("too many syntax errors" in d.message for d in result.diagnostics)
    assert same_result(result, parse(source))


def test_doc_comments_stay_with_the_declaration_below_them() -> None:
    text = 'model a = "x/y"\n// plain\n/// The b model.\nmodel b = "x/z"\n'
    starts = [start for start, _ in boundaries(text)]
    assert starts == [0, text.index("// plain")]
    result = IncrementalParseCache().parse(SourceFile(PATH, text))
    assert result.module.decls[1].doc == "The b model."
