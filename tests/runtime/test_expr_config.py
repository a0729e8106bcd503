"""IR expression evaluation (constraints, test expectations) and configuration checking."""

from __future__ import annotations

import operator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dspx_lang.ir import schema as ir
from dspx_lang.runtime.config import default_config, resolve_config
from dspx_lang.runtime.errors import DspxConfigError
from dspx_lang.runtime.expr import EvalError, evaluate, names


def const(value: Any, ident: bool = False) -> ir.ExprConst:
    return ir.ExprConst(value=value, ident=ident)


def var(name: str) -> ir.ExprVar:
    return ir.ExprVar(name=name)


def binary(op: str, left: Any, right: Any) -> ir.ExprBinary:
    return ir.ExprBinary(op=op, left=left, right=right)  # type: ignore[arg-type]


def call(func: str, *args: Any) -> ir.ExprCall:
    return ir.ExprCall(func=func, args=args)


@pytest.mark.parametrize(
    ("expr", "env", "expected"),
    [
        (binary("==", var("x"), const(72)), {"x": 72.0}, True),
        (binary("==", var("m"), const("cot", ident=True)), {"m": "cot"}, True),
        (binary("==", var("b"), const(1)), {"b": True}, False),
        (binary("=>", binary("==", var("m"), const("a")), const(False)), {"m": "b"}, True),
        (binary("=>", binary("==", var("m"), const("a")), const(False)), {"m": "a"}, False),
        (binary("or", const(True), var("missing")), {}, True),
        (ir.ExprIn(target=var("n"), options=(1, 2), negated=True), {"n": 3}, True),
        (ir.ExprUnary(op="not", operand=const(False)), {}, True),
        (binary("<=", binary("*", var("t"), const(2)), const(1)), {"t": 0.5}, True),
        (call("contains", var("a"), const("165")), {"a": "It is 165 books"}, True),
        (call("contains", var("l"), const(2)), {"l": [1, 2.0]}, True),
        (binary("==", call("len", var("l")), const(3)), {"l": "abc"}, True),
        (binary("==", call("lower", var("s")), const("paris")), {"s": "PARIS"}, True),
    ],
)
def test_evaluation(expr: ir.Expr, env: dict[str, Any], expected: Any) -> None:
    assert evaluate(expr, env) is expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        (binary("/", const(1), const(0)), "division by zero"),
        (var("nope"), "'nope' has no value"),
        (binary("and", const(1), const(True)), "expected true or false"),
        (call("len", const(3)), "len\\(\\) needs a string or a list"),
    ],
)
def test_evaluation_errors(expr: ir.Expr, message: str) -> None:
    with pytest.raises(EvalError, match=message):
        evaluate(expr, {})


numbers = st.integers(-1000, 1000) | st.floats(-1e6, 1e6, allow_nan=False)


@given(a=numbers, b=numbers, op=st.sampled_from(["+", "-", "*", "/", "<", "<=", ">", ">="]))
def test_numeric_operators_are_pythons(a: float, b: float, op: str) -> None:
    python = {
        "+": operator.add,
        "-": operator.sub,
        "*": operator.mul,
        "/": operator.truediv,
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
    }[op]
    expr = binary(op, const(a), const(b))
    if op == "/" and b == 0:
        with pytest.raises(EvalError):
            evaluate(expr, {})
    else:
        assert evaluate(expr, {}) == python(a, b)


def test_names_in_order() -> None:
    expr = binary("=>", binary("==", var("m"), var("a")), call("contains", var("z"), var("m")))
    assert names(expr) == ["m", "a", "z"]


PROGRAM = ir.ProgramDecl(
    name="p",
    file="/x/p.dspx",
    inputs=(),
    outputs=(),
    steps=(),
    returns={},
    variables=(
        ir.VariableDecl(
            name="m",
            domain=ir.ChoiceDomain(of="module", values=("predict", "cot")),
            default="predict",
        ),
        ir.VariableDecl(name="k", domain=ir.IntDomain(low=0, high=4), default=0),
        ir.VariableDecl(name="t", domain=ir.FloatDomain(low=0, high=1, step=0.25), default=0.5),
        ir.VariableDecl(name="b", domain=ir.BoolDomain(), default=False),
        ir.VariableDecl(name="n", domain=ir.ChoiceDomain(of="int", values=(1, 2, 4)), default=1),
    ),
    constraints=(
        ir.ConstraintDecl(
            label="cot needs demos",
            expr=binary(
                "=>", binary("==", var("m"), const("cot", True)), binary(">", var("k"), const(0))
            ),
            text="m == cot => k > 0",
            line=9,
        ),
    ),
)


def test_resolve_config_normalises_and_checks() -> None:
    base = default_config(PROGRAM)
    assert base == {"m": "predict", "k": 0, "t": 0.5, "b": False, "n": 1}
    assert resolve_config(PROGRAM, base, {"k": 2.0, "t": 1, "n": 4.0}) == {
        **base,
        "k": 2,
        "t": 1.0,
        "n": 4.0,
    }
    with pytest.raises(DspxConfigError, match=r'"cot needs demos" \(p.dspx:9\).*m=cot, k=0'):
        resolve_config(PROGRAM, base, {"m": "cot"})
    assert resolve_config(PROGRAM, base, {"m": "cot", "k": 1})["m"] == "cot"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"k": 5}, r"'k' must be in int in 0..4, not 5"),
        ({"k": 1.5}, r"'k' must be in int in 0..4"),
        ({"t": 0.3}, r"float in 0.0..1.0 step 0.25"),
        ({"b": 1}, "must be in bool"),
        ({"n": 3}, r"must be in \[1, 2, 4\]"),
        ({"n": True}, r"must be in \[1, 2, 4\]"),
        ({"zz": 1}, r"no variable 'zz' in program 'p' \(its variables: m, k, t, b, n\)"),
    ],
)
def test_resolve_config_refuses(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(DspxConfigError, match=message):
        resolve_config(PROGRAM, default_config(PROGRAM), changes)
