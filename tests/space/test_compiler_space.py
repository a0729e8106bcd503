"""The compiler's space diagnostics on random finite programs equal brute-force enumeration.

Programs are generated as `.dspx` text (int ranges, bools, string choices, stepped floats;
random constraints with comparisons, arithmetic, `in`, `and`/`or`/`not`/`=>`), compiled,
and compared with an independent evaluator over every configuration: the feasible count,
E303 exactly when nothing is feasible, E304 for the violated constraints of the default,
W305 for exactly the dead values, W306 for exactly the tautologies.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dspx_lang.driver import Session


@dataclass(frozen=True)
class V:
    name: str
    text: str  # the domain as written
    values: tuple[Any, ...]


DOMAINS = [
    ("int in 0..3", (0, 1, 2, 3)),
    ("int in -2..1", (-2, -1, 0, 1)),
    ("bool", (False, True)),
    ('["a", "b", "c"]', ("a", "b", "c")),
    ("float in 0.0..1.0 step 0.5", (Fraction(0), Fraction(1, 2), Fraction(1))),
]


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, Fraction):
        return str(float(value))
    return str(value)


@st.composite
def programs(draw: st.DrawFn) -> tuple[list[V], list[tuple[str, Any]]]:
    count = draw(st.integers(1, 3))
    variables = []
    for i in range(count):
        text, values = draw(st.sampled_from(DOMAINS))
        variables.append(V(f"v{i}", text, values))
    numeric = [v for v in variables if not isinstance(v.values[0], bool | str)]

    def atom() -> st.SearchStrategy[tuple[str, Any]]:
        options = []
        for v in variables:
            options.append(
                st.sampled_from(v.values).flatmap(
                    lambda value, v=v: st.sampled_from(["==", "!="]).map(
                        lambda op, value=value, v=v: (
                            f"{v.name} {op} {literal(value)}",
                            ("cmp", op, v.name, value),
                        )
                    )
                )
            )
            options.append(
                st.lists(st.sampled_from(v.values), min_size=1, max_size=2).map(
                    lambda vals, v=v: (
                        f"{v.name} in [{', '.join(map(literal, vals))}]",
                        ("in", v.name, tuple(vals)),
                    )
                )
            )
        for v in numeric:
            options.append(
                st.tuples(
                    st.sampled_from(["<", "<=", ">", ">="]),
                    st.integers(-2, 3),
                    st.sampled_from(["+", "*", "-"]),
                    st.integers(0, 2),
                ).map(
                    lambda t, v=v: (
                        f"{v.name} {t[2]} {t[3]} {t[0]} {t[1]}",
                        ("arith", t[0], v.name, t[2], t[3], t[1]),
                    )
                )
            )
        return st.one_of(options)

    expr = st.recursive(
        atom(),
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(["and", "or", "=>"]), inner).map(
                lambda t: (f"({t[0][0]} {t[1]} {t[2][0]})", ("bin", t[1], t[0][1], t[2][1]))
            ),
            inner.map(lambda e: (f"not ({e[0]})", ("not", e[1]))),
        ),
        max_leaves=4,
    )
    constraints = draw(st.lists(expr, min_size=1, max_size=3))
    return variables, constraints


def evaluate(tree: Any, config: dict[str, Any]) -> bool:
    kind = tree[0]
    if kind == "cmp":
        _, op, name, value = tree
        same = config[name] == value and type(config[name]) is type(value)
        return same if op == "==" else not same
    if kind == "in":
        return config[tree[1]] in tree[2]
    if kind == "arith":
        _, cmp, name, op, operand, bound = tree
        x = Fraction(config[name])
        value = x + operand if op == "+" else x * operand if op == "*" else x - operand
        return {"<": value < bound, "<=": value <= bound, ">": value > bound, ">=": value >= bound}[
            cmp
        ]
    if kind == "not":
        return not evaluate(tree[1], config)
    _, op, left, right = tree
    a, b = evaluate(left, config), evaluate(right, config)
    return {"and": a and b, "or": a or b, "=>": (not a) or b}[op]


def source(variables: list[V], constraints: list[tuple[str, Any]]) -> str:
    lines = [
        'model mini = "openai/gpt-4o-mini"',
        "signature S {",
        "  in x: string",
        "  out y: string",
        "}",
        "program p {",
        "  in x: string",
        "  out y: string",
    ]
    lines += [f"  var {v.name}: {v.text}" for v in variables]
    for v in variables:  # every variable read by a step, so none is unused (W307)
        lines.append(f'  step s{v.name} = predict S(x) {{ instructions: "{v.name}" }}')
    lines.append(f"  return s{variables[0].name}")
    lines += [f"  constraint {text}" for text, _ in constraints]
    lines.append("}")
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(programs())
def test_space_diagnostics_equal_brute_force(
    tmp_path_factory: Any, program: tuple[list[V], list[tuple[str, Any]]]
) -> None:
    variables, constraints = program
    text = source(variables, constraints)
    path = Path(tmp_path_factory.mktemp("space")) / "p.dspx"
    path.write_text(text, encoding="utf-8")
    compilation = Session().check(str(path))
    assert not [d for d in compilation.diagnostics if d.code == "E302"], text
    configs = [
        dict(zip([v.name for v in variables], combo, strict=True))
        for combo in itertools.product(*(v.values for v in variables))
    ]
    holds = [[evaluate(tree, c) for _, tree in constraints] for c in configs]
    feasible = [c for c, h in zip(configs, holds, strict=True) if all(h)]
    codes = [d.code for d in compilation.diagnostics]
    report = compilation.reports.get("p")
    if not feasible:
        assert "E303" in codes, text
        return
    assert "E303" not in codes, text
    assert report is not None, text
    assert report.feasible_size == len(feasible), text
    default = {v.name: v.values[0] for v in variables}
    violated = {i for i, (_, tree) in enumerate(constraints) if not evaluate(tree, default)}
    e304 = [d for d in compilation.diagnostics if d.code == "E304"]
    assert len(e304) == len(violated), text
    tautologies = {i for i in range(len(constraints)) if all(h[i] for h in holds)}
    assert codes.count("W306") == len(tautologies), text
    dead = {
        (v.name, value)
        for v in variables
        for value in v.values
        if not any(c[v.name] == value and type(c[v.name]) is type(value) for c in feasible)
    }
    w305 = [d for d in compilation.diagnostics if d.code == "W305"]
    dead_vars = {name for name, _ in dead}
    assert {d.message.split(" ")[0] for d in w305} == dead_vars, text
