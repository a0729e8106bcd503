"""Where in the grammar the cursor is, read from the parser's trail of open constructs.

Contract: `classify(expected)` maps `dspx_lang.syntax.complete.Expected`
(what the LALR parser accepts at the cursor and the tokens and nodes of the
constructs still open there) to a `Place`: which kind of name belongs at the
cursor (a module kind, a signature, a step setting key, the value of the
`model` setting, a type, a domain member, ...), plus the names it depends on
(the enclosing program or test's program, the step's signature, the setting
key, the variable a constraint compares). It only looks at the trail; what
the names are is decided by the caller against the semantic model.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from dspx_lang.syntax.complete import Expected, TrailItem

# Keyword tokens that open a construct: the innermost one on the trail decides the context.
ANCHORS = frozenset(
    {
        "IMPORT",
        "MODEL",
        "ENUM",
        "CLASS",
        "SIGNATURE",
        "TOOL",
        "DATASET",
        "PROGRAM",
        "TEST",
        "VAR",
        "STEP",
        "RETURN",
        "CONSTRAINT",
        "OBJECTIVE",
        "BUDGET",
        "OPTIMIZE",
        "INPUT",
        "EXPECT",
        "IN",
        "OUT",
    }
)


@dataclass(frozen=True, slots=True)
class Place:
    """What belongs at the cursor. `what` is one of the names listed in `classify`."""

    what: str
    program: str | None = None  # the enclosing program (or the test's program)
    signature: str | None = None  # the step's signature
    key: str | None = None  # the setting or optimize key whose value is typed
    var: str | None = None  # the variable a constraint compares with
    present: frozenset[str] = field(default_factory=frozenset)  # keys already written
    members: tuple[str, ...] = ()  # members of the choice domain being written


def classify(expected: Expected) -> Place:
    """One of: none, module, signature, argument, binding, step_key, step_value, model_key,
    domain, choice, default, constraint, members, metric, metric_field, measured,
    optimize_key, optimize_value, space_fact, return, return_key, test_program,
    test_input, expect, type, check, import, model_id."""
    trail = list(expected.trail)
    program = enclosing_program(trail)
    index = next((i for i in range(len(trail) - 1, -1, -1) if trail[i].kind in ANCHORS), None)
    if expected.in_string:
        anchor = trail[index].kind if index is not None else None
        tail = trail[index + 1 :] if index is not None else []
        if anchor == "IMPORT":
            return Place("import")
        if anchor == "MODEL" and _kinds(tail) == ["NAME", "EQUAL"]:
            return Place("model_id")
        return Place("none")
    if index is None or not expected.accepts_name:
        return Place("none")
    anchor, tail = trail[index].kind, trail[index + 1 :]
    handler = _BY_ANCHOR.get(anchor)
    return handler(tail, program) if handler else Place("none")


def _kinds(items: list[TrailItem]) -> list[str]:
    return [i.node if i.kind == "node" else i.kind for i in items]


def enclosing_program(trail: Sequence[TrailItem]) -> str | None:
    """The enclosing program's name, or the program a test is for."""
    kinds = [i.kind for i in trail]
    for n in range(len(trail) - 1):
        if kinds[n] == "PROGRAM" and kinds[n + 1] == "NAME":
            return trail[n + 1].text
        if kinds[n : n + 4] == ["TEST", "NAME", "FOR", "NAME"]:
            return trail[n + 3].text
    return None


def _step(tail: list[TrailItem], program: str | None) -> Place:
    kinds = _kinds(tail)
    if kinds == ["NAME", "EQUAL"]:
        return Place("module", program)
    if kinds == ["NAME", "EQUAL", "NAME"]:
        return Place("signature", program)
    if len(kinds) < 5 or kinds[4] != "LPAR":
        return Place("none", program)
    signature = tail[3].text
    if "RPAR" not in kinds:
        if kinds[-1] == "COLON":
            return Place("binding", program, signature)
        bound = frozenset(_argument_names(tail[5:]))
        return Place("argument", program, signature, present=bound)
    settings = tail[kinds.index("RPAR") + 1 :]
    if not settings or settings[0].kind != "LBRACE":
        return Place("none", program)
    if len(settings) >= 3 and settings[-1].kind == "COLON" and settings[-2].kind == "NAME":
        return Place("step_value", program, signature, key=settings[-2].text)
    return Place("step_key", program, signature, present=frozenset(_keys(settings[1:])))


def _written_keys(items: list[TrailItem]) -> list[str]:
    """`key:` pairs not reduced to a setting yet (the value may still continue)."""
    return [a.text for a, b in itertools.pairwise(items) if a.kind == "NAME" and b.kind == "COLON"]


def _argument_names(items: list[TrailItem]) -> list[str]:
    names = []
    for item in items:
        if item.kind == "node" and item.node == "Argument":
            head = item.text.split(":", 1)[0].strip()
            if head.isidentifier():
                names.append(head)
    return names


def _keys(items: list[TrailItem]) -> list[str]:
    """Keys of the settings (`key: value`) and optimize items (`key value`) already written."""
    keys = _written_keys(items)
    for item in items:
        if item.kind == "node" and item.node == "Setting":
            keys.append(item.text.split(":", 1)[0].strip())
        elif item.kind == "node" and item.node == "OptimizeItem":
            keys.append(item.text.split(None, 1)[0])
    return keys


def _model(tail: list[TrailItem], program: str | None) -> Place:
    kinds = _kinds(tail)
    if len(kinds) >= 4 and kinds[:4] == ["NAME", "EQUAL", "StringLit", "LBRACE"]:
        if kinds[-1] == "COLON":
            return Place("none")
        return Place("model_key", present=frozenset(_keys(tail[4:])))
    return Place("none")


def _var(tail: list[TrailItem], program: str | None) -> Place:
    kinds = _kinds(tail)
    if kinds == ["NAME", "COLON"]:
        return Place("domain", program)
    if kinds[:3] == ["NAME", "COLON", "LSQB"]:
        members = tuple(i.text for i in tail[3:] if i.kind == "node")
        return Place("choice", program, members=members)
    if kinds[:4] == ["NAME", "COLON", "NAME", "LPAR"]:
        return Place("signature", program)
    if kinds and kinds[-1] == "EQUAL" and len(tail) >= 3:
        domain = tail[2]
        members = _choice_members(domain.text) if domain.node == "ChoiceDomain" else ()
        kind = "bool" if domain.node == "NamedDomain" else ""
        return Place("default", program, var=tail[0].text, members=members, key=kind)
    return Place("none", program)


def _choice_members(text: str) -> tuple[str, ...]:
    inner = text.strip().removeprefix("[").removesuffix("]")
    return tuple(part.strip() for part in inner.split(",") if part.strip())


def _constraint(tail: list[TrailItem], program: str | None) -> Place:
    var = _compared(tail)
    if var is not None:
        return Place("members", program, var=var)
    return Place("constraint", program)


def _compared(tail: list[TrailItem]) -> str | None:
    """The variable left of `==`, `!=` or `[not] in [` right before the cursor, if any."""
    kinds = _kinds(tail)
    if len(tail) >= 2 and kinds[-2] == "NameRef" and tail[-1].text in ("==", "!="):
        return tail[-2].text
    if "LSQB" not in kinds:
        return None
    bracket = len(kinds) - 1 - kinds[::-1].index("LSQB")
    if any(item.kind not in ("node", "COMMA") for item in tail[bracket + 1 :]):
        return None
    at = bracket - 1
    if at < 0 or kinds[at] != "MEMBER_IN":
        return None
    at -= 2 if at >= 1 and kinds[at - 1] == "NOT" else 1
    return tail[at].text if at >= 0 and kinds[at] == "NameRef" else None


def _objective(tail: list[TrailItem], program: str | None) -> Place:
    kinds = [k for k in _kinds(tail) if k not in ("MAXIMIZE", "MINIMIZE")]
    if not kinds:  # the direction may already be reduced to a plain value, off the trail
        return Place("metric", program)
    if kinds[1:2] == ["LPAR"]:
        return Place("metric_field", program)
    return Place("none", program)


def _budget(tail: list[TrailItem], program: str | None) -> Place:
    return Place("measured", program) if not tail else Place("none", program)


def _optimize(tail: list[TrailItem], program: str | None) -> Place:
    kinds = _kinds(tail)
    if not kinds or kinds[0] != "LBRACE":
        return Place("none", program)
    if "WHEN" in kinds[1:]:
        return Place("space_fact", program)
    if kinds[-1] == "NAME":
        return Place("optimize_value", program, key=tail[-1].text)
    return Place("optimize_key", program, present=frozenset(_keys(tail[1:])))


def _return(tail: list[TrailItem], program: str | None) -> Place:
    kinds = _kinds(tail)
    if not kinds:
        return Place("return", program)
    if kinds[0] == "LBRACE":
        if kinds[-1] == "COLON":
            return Place("binding", program)
        return Place("return_key", program, present=frozenset(_keys(tail[1:])))
    return Place("none", program)


def _test(tail: list[TrailItem], program: str | None) -> Place:
    return Place("test_program") if _kinds(tail) == ["NAME", "FOR"] else Place("none", program)


def _input(tail: list[TrailItem], program: str | None) -> Place:
    kinds = _kinds(tail)
    if kinds and kinds[0] == "LBRACE" and kinds[-1] != "COLON":
        return Place("test_input", program, present=frozenset(_keys(tail[1:])))
    return Place("none", program)


def _expect(tail: list[TrailItem], program: str | None) -> Place:
    return Place("expect", program)


def _field(tail: list[TrailItem], program: str | None) -> Place:
    kinds = _kinds(tail)
    if kinds and kinds[-1] == "AT":
        return Place("check", program)
    if "COLON" in kinds:
        return Place("type", program)
    return Place("none", program)


_BY_ANCHOR = {
    "STEP": _step,
    "MODEL": _model,
    "VAR": _var,
    "CONSTRAINT": _constraint,
    "OBJECTIVE": _objective,
    "BUDGET": _budget,
    "OPTIMIZE": _optimize,
    "RETURN": _return,
    "TEST": _test,
    "INPUT": _input,
    "EXPECT": _expect,
    "IN": _field,
    "OUT": _field,
    "CLASS": _field,
    "TOOL": _field,
}
