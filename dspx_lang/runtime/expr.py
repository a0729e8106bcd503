"""Evaluation of IR expressions: constraints over a configuration, test expectations over
a program's inputs and outputs.

Contract: `evaluate(expr, env)` follows LANGUAGE.md §5: `=>` is implication, `and`/`or`
short-circuit, `==` between numbers compares values (`72 == 72.0`), identifiers are
compared by name. The test functions are `contains(text, part)` (substring, or element of a
list), `len(x)` and `lower(text)`. Anything that cannot be evaluated (an unknown name,
division by zero, a type mismatch) raises `EvalError` with a message for the user.
`names(expr)` lists the variables an expression reads, for messages.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from dspx_lang.ir import schema as ir

__all__ = ["EvalError", "evaluate", "names"]

_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


class EvalError(ValueError):
    """An expression could not be evaluated."""


def evaluate(expr: ir.Expr, env: Mapping[str, Any]) -> Any:
    if isinstance(expr, ir.ExprConst):
        return expr.value
    if isinstance(expr, ir.ExprVar):
        if expr.name not in env:
            raise EvalError(f"'{expr.name}' has no value")
        return env[expr.name]
    if isinstance(expr, ir.ExprUnary):
        value = evaluate(expr.operand, env)
        if expr.op == "not":
            return not _truth(value)
        return -_numeric(value, "-")
    if isinstance(expr, ir.ExprBinary):
        return _binary(expr, env)
    if isinstance(expr, ir.ExprIn):
        target = evaluate(expr.target, env)
        found = any(_equal(target, option) for option in expr.options)
        return found != expr.negated
    return _call(expr, env)


def _binary(expr: ir.ExprBinary, env: Mapping[str, Any]) -> Any:
    op = expr.op
    if op == "and":
        return _truth(evaluate(expr.left, env)) and _truth(evaluate(expr.right, env))
    if op == "or":
        return _truth(evaluate(expr.left, env)) or _truth(evaluate(expr.right, env))
    if op == "=>":
        return not _truth(evaluate(expr.left, env)) or _truth(evaluate(expr.right, env))
    left, right = evaluate(expr.left, env), evaluate(expr.right, env)
    if op == "==":
        return _equal(left, right)
    if op == "!=":
        return not _equal(left, right)
    a, b = _numeric(left, op), _numeric(right, op)
    if op in _COMPARE:
        return _COMPARE[op](a, b)
    if op == "/" and b == 0:
        raise EvalError("division by zero")
    return _ARITHMETIC[op](a, b)


def _call(expr: ir.ExprCall, env: Mapping[str, Any]) -> Any:
    args = [evaluate(a, env) for a in expr.args]
    if expr.func == "contains" and len(args) == 2:
        whole, part = args
        if isinstance(whole, list):
            return any(_equal(item, part) for item in whole)
        if isinstance(whole, str):
            return str(part) in whole
        raise EvalError(f"contains() needs a string or a list, got {type(whole).__name__}")
    if expr.func == "len" and len(args) == 1:
        if isinstance(args[0], str | list):
            return len(args[0])
        raise EvalError(f"len() needs a string or a list, got {type(args[0]).__name__}")
    if expr.func == "lower" and len(args) == 1:
        if isinstance(args[0], str):
            return args[0].lower()
        raise EvalError(f"lower() needs a string, got {type(args[0]).__name__}")
    raise EvalError(f"unknown function {expr.func}() with {len(args)} arguments")


def _equal(a: Any, b: Any) -> bool:
    # `true == 1` holds in Python, not in dspx.
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _truth(value: Any) -> bool:
    if not isinstance(value, bool):
        raise EvalError(f"expected true or false, got {value!r}")
    return value


def _numeric(value: Any, op: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EvalError(f"'{op}' needs numbers, got {value!r}")
    return value


def names(expr: ir.Expr) -> list[str]:
    """The variable names `expr` reads, in order of first appearance."""
    found: list[str] = []

    def walk(e: ir.Expr) -> None:
        if isinstance(e, ir.ExprVar):
            if e.name not in found:
                found.append(e.name)
        elif isinstance(e, ir.ExprUnary):
            walk(e.operand)
        elif isinstance(e, ir.ExprBinary):
            walk(e.left)
            walk(e.right)
        elif isinstance(e, ir.ExprIn):
            walk(e.target)
        elif isinstance(e, ir.ExprCall):
            for arg in e.args:
                walk(arg)

    walk(expr)
    return found
