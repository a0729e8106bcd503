"""Hypothesis strategies that generate syntactically valid `.dspx` text.

The text exercises every construct of the grammar with random spacing, blank
lines, trailing and own-line comments; it need not be semantically valid
(names are random), which is what the formatter and parser laws need.
"""

from __future__ import annotations

from hypothesis import strategies as st

RESERVED = {"in", "out", "and", "or", "not", "true", "false"}

names = st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(lambda n: n not in RESERVED)
type_names = st.sampled_from(["string", "int", "float", "bool", "Topic", "Citation"])
plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\'),
    max_size=12,
)
escapes = st.sampled_from(["\\n", "\\t", '\\"', "\\\\", "\\u{1F600}", "é", "😀"])
strings = st.lists(st.one_of(plain, escapes), max_size=3).map(
    lambda parts: '"' + "".join(parts) + '"'
)
block_strings = st.sampled_from(
    ['"""Answer briefly."""', '"""\n    Two lines\n    of text.\n  """']
)
ints = st.integers(min_value=0, max_value=10_000).map(str)
floats = st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda f: f"{f:.3f}")
numbers = st.one_of(ints, floats, st.sampled_from(["1e-3", "2.5E2"]))
money = st.sampled_from(["$0.002", "$2", "$10.50"])
durations = st.sampled_from(["250ms", "2s", "1.5s", "1m"])
space = st.sampled_from([" ", " ", "  "])
comment_text = st.text(alphabet="abc xyz-", max_size=10)
line_comments = comment_text.map(lambda t: "// " + t)


def _join(parts: list[str]) -> str:
    return " ".join(parts)


def _operand(text: str, op: str) -> str:
    """`not` binds looser than comparisons and arithmetic: `a == not b` needs parentheses."""
    return f"({text})" if text.startswith("not") and op not in ("=>", "or", "and") else text


def literal() -> st.SearchStrategy[str]:
    return st.one_of(strings, numbers, money, durations, st.sampled_from(["true", "false"]))


expressions = st.recursive(
    st.one_of(names, literal(), names.map(lambda n: f"{n}.{n}")),
    lambda inner: st.one_of(
        st.tuples(
            inner,
            st.sampled_from(
                ["=>", "or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"]
            ),
            inner,
        ).map(lambda t: f"({_operand(t[0], t[1])} {t[1]} {_operand(t[2], t[1])})"),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"-({e})" if e.startswith("not") else f"-{e}"),
        st.tuples(names, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.tuples(names, st.lists(literal(), max_size=3), st.booleans()).map(
            lambda t: f"({t[0]} {'not in' if t[2] else 'in'} [{', '.join(t[1])}])"
        ),
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    ),
    max_leaves=6,
)

types = st.recursive(
    st.one_of(type_names, st.lists(strings, min_size=1, max_size=3).map(" | ".join)),
    lambda inner: st.one_of(
        inner.map(lambda t: f"list<{t}>"),
        inner.map(lambda t: f"map<string, {t}>"),
        type_names.map(lambda t: f"{t}?"),
    ),
    max_leaves=3,
)
checks = st.one_of(
    st.tuples(ints, ints).map(lambda t: f"@range({t[0]}, {t[1]})"),
    st.tuples(ints, ints).map(lambda t: f"@len({t[0]}, {t[1]})"),
    strings.map(lambda s: f"@pattern({s})"),
    ints.map(lambda n: f"@tokens({n})"),
)


@st.composite
def field(draw: st.DrawFn, direction: str | None) -> str:
    parts = [f"{direction} " if direction else "", draw(names), ": ", draw(types)]
    if draw(st.booleans()):
        parts.append(" " + draw(strings))
    parts.extend(" " + c for c in draw(st.lists(checks, max_size=2)))
    return "".join(parts)


@st.composite
def settings_block(draw: st.DrawFn, inline: bool = False) -> str:
    entries = draw(st.lists(st.tuples(names, expressions), max_size=4))
    body = [f"{k}: {v}" for k, v in entries]
    if inline:
        return "{ " + ", ".join(body) + " }" if body else "{}"
    return "{\n" + "\n".join(body) + "\n}" if body else "{}"


domains = st.one_of(
    st.lists(names, min_size=1, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.lists(numbers, min_size=1, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
    st.tuples(ints, ints).map(lambda t: f"int in {t[0]}..{t[1]}"),
    st.tuples(floats, floats, st.sampled_from(["", " log", " step 0.25"])).map(
        lambda t: f"float in {t[0]}..{t[1]}{t[2]}"
    ),
    st.just("bool"),
    names.map(lambda n: f"instructions({n})"),
)


@st.composite
def program_item(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["in", "out", "var", "step", "return", "constraint", "objective", "budget", "optimize"]
        )
    )
    if kind in ("in", "out"):
        return draw(field(kind))
    if kind == "var":
        default = f" = {draw(expressions)}" if draw(st.booleans()) else ""
        return f"var {draw(names)}: {draw(domains)}{default}"
    if kind == "step":
        args = draw(
            st.lists(
                st.one_of(names, st.tuples(names, expressions).map(lambda t: f"{t[0]}: {t[1]}")),
                max_size=3,
            )
        )
        settings = draw(st.one_of(st.just(""), settings_block().map(lambda b: " " + b)))
        return f"step {draw(names)} = {draw(names)} {draw(names)}({', '.join(args)}){settings}"
    if kind == "return":
        if draw(st.booleans()):
            return f"return {draw(names)}"
        return "return " + draw(settings_block(inline=draw(st.booleans())))
    if kind == "constraint":
        label = f"{draw(strings)}: " if draw(st.booleans()) else ""
        return f"constraint {label}{draw(expressions)}"
    if kind == "objective":
        args = draw(
            st.one_of(
                st.just(""), st.lists(names, max_size=2).map(lambda xs: "(" + ", ".join(xs) + ")")
            )
        )
        weight = f" weight {draw(numbers)}" if draw(st.booleans()) else ""
        direction = draw(st.sampled_from(["maximize", "minimize"]))
        return f"objective {direction} {draw(names)}{args}{weight}"
    if kind == "budget":
        return f"budget {draw(names)} <= {draw(st.one_of(money, durations, ints))}"
    items = draw(
        st.lists(
            st.tuples(
                names, expressions, st.one_of(st.just(""), expressions.map(lambda e: f" when {e}"))
            ),
            max_size=4,
        )
    )
    return "optimize {\n" + "\n".join(f"{k} {v}{w}" for k, v, w in items) + "\n}"


@st.composite
def declaration(draw: st.DrawFn) -> str:
    kind = draw(
        st.sampled_from(
            ["import", "model", "enum", "class", "signature", "tool", "dataset", "program", "test"]
        )
    )
    name = draw(names)
    if kind == "import":
        return f"import {draw(strings)}"
    if kind == "model":
        block = draw(st.one_of(st.just(""), settings_block().map(lambda b: " " + b)))
        return f"model {name} = {draw(strings)}{block}"
    if kind == "enum":
        values = draw(
            st.lists(st.tuples(names, st.one_of(st.just(""), strings.map(" ".__add__))), max_size=4)
        )
        return f"enum {name} {{\n" + "\n".join(v + d for v, d in values) + "\n}"
    if kind == "class":
        return f"class {name} {{\n" + "\n".join(draw(st.lists(field(None), max_size=3))) + "\n}"
    if kind == "signature":
        doc = draw(st.one_of(st.just(""), block_strings.map(lambda s: s + "\n")))
        fields = draw(st.lists(st.sampled_from(["in", "out"]).flatmap(field), max_size=4))
        return f"signature {name} {{\n{doc}" + "\n".join(fields) + "\n}"
    if kind == "tool":
        params = draw(
            st.lists(
                st.tuples(names, types, st.one_of(st.just(""), literal().map(lambda x: " = " + x))),
                max_size=3,
            )
        )
        plist = ", ".join(f"{n}: {t}{d}" for n, t, d in params)
        return f"tool {name}({plist}) -> {draw(types)} = {draw(strings)}"
    if kind == "dataset":
        block = draw(st.one_of(st.just(""), settings_block(inline=True).map(" ".__add__)))
        return f"dataset {name} = {draw(strings)}{block}"
    if kind == "program":
        items = draw(st.lists(program_item(), max_size=6))
        return f"program {name} {{\n" + "\n".join(items) + "\n}"
    items = draw(
        st.lists(
            st.one_of(
                settings_block(inline=True).map("input ".__add__),
                expressions.map("expect ".__add__),
            ),
            max_size=3,
        )
    )
    return f"test {name} for {draw(names)} {{\n" + "\n".join(items) + "\n}"


@st.composite
def with_comments(draw: st.DrawFn, text: str) -> str:
    """Sprinkle comments at line ends and between lines, and random blank lines."""
    out: list[str] = []
    for line in text.split("\n"):
        if draw(st.integers(0, 9)) == 0:
            out.append(
                draw(
                    st.sampled_from(
                        ["/// doc " + draw(comment_text), draw(line_comments), "/* block */"]
                    )
                )
            )
        if draw(st.integers(0, 9)) == 0:
            out.append("")
        suffix = " " + draw(line_comments) if line and draw(st.integers(0, 7)) == 0 else ""
        out.append(line + suffix)
    return "\n".join(out)


programs = st.lists(declaration(), max_size=5).map("\n\n".join).flatmap(with_comments)
