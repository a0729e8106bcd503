"""Adapters' formats and the tolerant reading of answers: repairs, refusals, and the law
that what `format_outputs` writes, `parse_outputs` reads back unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dspx_lang.ir import schema as ir
from dspx_lang.prompts import ADAPTERS, Adapter, FieldSpec, format_outputs
from dspx_lang.runtime.coerce import CoercionError, coercer_for, loads_lenient
from dspx_lang.runtime.parsing import OutputParseError, parse_outputs

PACKAGE = ir.Package(
    compiler_version="test",
    source=ir.SourceInfo(root="/t.dspx", hash="0", files={}),
    models={},
    types={
        "Mood": ir.EnumDecl(
            name="Mood", values=(ir.EnumValue(name="happy"), ir.EnumValue(name="sad"))
        ),
        "Item": ir.ClassDecl(
            name="Item",
            fields=(
                ir.FieldDecl(name="name", type=ir.TypeRef(kind="string")),
                ir.FieldDecl(
                    name="qty",
                    type=ir.TypeRef(kind="int"),
                    checks=(ir.Check(kind="range", args=(0, 100)),),
                ),
                ir.FieldDecl(
                    name="note",
                    type=ir.TypeRef(kind="optional", inner=ir.TypeRef(kind="string")),
                ),
            ),
        ),
    },
)
STRING = ir.TypeRef(kind="string")
INT = ir.TypeRef(kind="int")
FLOAT = ir.TypeRef(kind="float")
BOOL = ir.TypeRef(kind="bool")
MOOD = ir.TypeRef(kind="enum", name="Mood")
ITEM = ir.TypeRef(kind="class", name="Item")
YESNO = ir.TypeRef(kind="literals", values=("yes", "no"))


def lst(t: ir.TypeRef) -> ir.TypeRef:
    return ir.TypeRef(kind="list", elem=t)


def opt(t: ir.TypeRef) -> ir.TypeRef:
    return ir.TypeRef(kind="optional", inner=t)


def coerce(t: ir.TypeRef, value: Any, text: bool = True, checks: tuple[ir.Check, ...] = ()) -> Any:
    return coercer_for(PACKAGE, t, checks)(value, text, "f")


@pytest.mark.parametrize(
    ("t", "raw", "expected"),
    [
        (FLOAT, "0.8", 0.8),
        (FLOAT, ' "0.8" ', 0.8),
        (FLOAT, "72.", 72.0),
        (FLOAT, 3, 3.0),
        (INT, "3", 3),
        (INT, "3.0", 3),
        (INT, 4.0, 4),
        (INT, "`12`", 12),
        (BOOL, "Yes", True),
        (BOOL, "false.", False),
        (MOOD, "HAPPY", "happy"),
        (MOOD, "Mood.sad", "sad"),
        (MOOD, '"happy"', "happy"),
        (YESNO, "No", "no"),
        (STRING, "  text  ", "text"),
        (lst(STRING), '["a", "b",]', ["a", "b"]),
        (lst(STRING), '```json\n["a"]\n```', ["a"]),
        (lst(STRING), "- a\n- b c", ["a", "b c"]),
        (lst(INT), "1. 4\n2. 5", [4, 5]),
        (lst(STRING), "['x', 'y']", ["x", "y"]),
        (opt(INT), "null", None),
        (opt(INT), "None", None),
        (opt(INT), "7", 7),
        (ITEM, '{"name": "a", "qty": "2"}', {"name": "a", "qty": 2, "note": None}),
        (ITEM, "{'name': 'a', 'qty': 2, 'extra': 1}", {"name": "a", "qty": 2, "note": None}),
        (ir.TypeRef(kind="map", value=INT), '{"a": "1"}', {"a": 1}),
    ],
)
def test_unambiguous_repairs(t: ir.TypeRef, raw: Any, expected: Any) -> None:
    assert coerce(t, raw) == expected


@pytest.mark.parametrize(
    ("t", "raw", "message"),
    [
        (FLOAT, "seventy-two", "expected a number"),
        (FLOAT, "72 apples", "expected a number"),
        (FLOAT, "nan", "expected a number"),
        (INT, "3.5", "expected an integer"),
        (INT, True, "expected an integer"),
        (BOOL, "maybe", "expected true or false"),
        (MOOD, "angry", "expected one of: happy, sad"),
        (STRING, ["a"], "expected a string"),
        (lst(STRING), "a, b", "expected a JSON list"),
        (ITEM, '{"qty": 1}', "Item needs the field 'name'"),
        (ITEM, '{"name": "a", "qty": 500}', "500 is outside the range 0..100"),
        (opt(INT), "several", "expected an integer"),
    ],
)
def test_ambiguous_values_are_refused(t: ir.TypeRef, raw: Any, message: str) -> None:
    with pytest.raises(CoercionError, match=message):
        coerce(t, raw)


def test_checks_name_the_nested_field() -> None:
    with pytest.raises(CoercionError) as caught:
        coerce(lst(ITEM), '[{"name": "a", "qty": 1}, {"name": "b", "qty": -1}]')
    assert caught.value.path == "f[1].qty"
    with pytest.raises(CoercionError, match="does not match the pattern"):
        coerce(STRING, "abc", checks=(ir.Check(kind="pattern", args=(r"^\d+$",)),))
    with pytest.raises(CoercionError, match="has 4 characters; it must have 1 to 3"):
        coerce(STRING, "abcd", checks=(ir.Check(kind="len", args=(1, 3)),))


def test_loads_lenient_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="Expecting"):
        loads_lenient("{not json")
    assert loads_lenient('```\n{"a": [1, 2,],}\n```') == {"a": [1, 2]}


def fields(*pairs: tuple[str, ir.TypeRef]) -> list[tuple[str, Any]]:
    return [(name, coercer_for(PACKAGE, t)) for name, t in pairs]


@pytest.mark.parametrize(
    ("adapter", "text"),
    [
        ("chat", "[[ ## Answer ## ]]\n 42 \n[[ ## completed ## ]]"),
        ("chat", "[[## answer##]]\n42"),
        ("chat", "answer: 42"),
        ("chat", "42"),
        ("markdown", "### **Answer**:\n42\n"),
        ("json", 'Sure! {"ANSWER": 42}'),
        ("json", '```json\n{"answer": "42",}\n```'),
    ],
)
def test_section_formats_are_read_tolerantly(adapter: Adapter, text: str) -> None:
    assert parse_outputs(adapter, text, fields(("answer", INT))) == {"answer": 42}


def test_unmarked_text_is_only_accepted_for_one_field() -> None:
    with pytest.raises(OutputParseError, match="no `a`, `b` field") as caught:
        parse_outputs("chat", "just text", fields(("a", STRING), ("b", STRING)))
    assert caught.value.field == "a"
    with pytest.raises(OutputParseError, match="not a JSON object"):
        parse_outputs("json", "no braces here", fields(("a", STRING)))


def test_first_section_wins_and_unknown_markers_end_sections() -> None:
    text = "[[ ## a ## ]]\none\n[[ ## note ## ]]\nignored\n[[ ## a ## ]]\ntwo"
    assert parse_outputs("chat", text, fields(("a", STRING))) == {"a": "one"}


# Values the adapters must carry unchanged: strings without section syntax, numbers, enums,
# lists and objects.
safe_text = (
    st.text(
        alphabet=st.characters(
            codec="utf-8", exclude_characters="#[]`\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
        ),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(lambda s: s and s.lower() not in ("null", "none"))
)
VALUE_TYPES: list[tuple[ir.TypeRef, st.SearchStrategy[Any]]] = [
    (STRING, safe_text),
    (INT, st.integers(-(10**12), 10**12)),
    (FLOAT, st.floats(allow_nan=False, allow_infinity=False, width=64)),
    (BOOL, st.booleans()),
    (MOOD, st.sampled_from(["happy", "sad"])),
    (lst(INT), st.lists(st.integers(-1000, 1000), max_size=5)),
    (
        ITEM,
        st.fixed_dictionaries(
            {"name": safe_text, "qty": st.integers(0, 100), "note": st.none() | safe_text}
        ),
    ),
]


@given(
    adapter=st.sampled_from(ADAPTERS),
    values=st.lists(st.sampled_from(range(len(VALUE_TYPES))), min_size=1, max_size=4).flatmap(
        lambda kinds: st.tuples(*(VALUE_TYPES[k][1] for k in kinds)).map(
            lambda vs: list(zip(kinds, vs, strict=True))
        )
    ),
)
def test_format_then_parse_is_identity(adapter: Adapter, values: list[tuple[int, Any]]) -> None:
    named = {f"field_{i}": (VALUE_TYPES[k][0], v) for i, (k, v) in enumerate(values)}
    specs = [FieldSpec(name, ir.type_text(t)) for name, (t, _) in named.items()]
    text = format_outputs(adapter, specs, {name: v for name, (_, v) in named.items()})
    parsed = parse_outputs(adapter, text, fields(*((n, t) for n, (t, _) in named.items())))
    assert parsed == {name: v for name, (_, v) in named.items()}


def test_an_echoed_template_note_is_removed() -> None:
    """Small models copy the prompt's `# note:` after a value; that copy is our own text."""
    from dspx_lang.ir import schema as ir
    from dspx_lang.prompts import VALUE_NOTE
    from dspx_lang.runtime.coerce import coercer_for
    from dspx_lang.runtime.parsing import parse_outputs

    package = ir.Package.model_construct(types={})
    count = coercer_for(package, ir.TypeRef(kind="int"))
    text = (
        f"[[ ## count ## ]]\n4        {VALUE_NOTE} must be a single integer\n\n"
        "[[ ## completed ## ]]"
    )
    assert parse_outputs("chat", text, [("count", count)]) == {"count": 4}
