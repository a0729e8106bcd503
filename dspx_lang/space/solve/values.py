"""The meaning of constraint expressions on one configuration (the reference semantics).

Everything the solver proves is about `holds()`; its abstract reasoning must agree with
this module exactly on every point of a finite space.

Semantics (total: nothing here raises on well-formed input):
- Values have kinds: bool, number (int and float alike), str, sym, candidate. Values of
  different kinds are never equal (`true == 1` is false, `"cot" == cot` is false).
- Numbers are exact rationals; a float means the decimal its `repr` shows (0.1 + 0.2 ==
  0.3 holds). A non-finite float (nan, inf) is *undefined*.
- Undefined (written ⊥) is the result of: division by zero; `+ - * /` or unary `-` on a
  non-number; `< <= > >=` unless both sides are numbers or both are strings; a non-bool
  where a bool is needed (`not`, `and`, `or`, `=>`, a constraint's top level).
  ⊥ propagates through arithmetic and comparisons; `in` with a ⊥ operand is ⊥.
- `and`/`or`/`=>` use Kleene's three-valued logic, so guards work:
  `false and ⊥` is false, `true or ⊥` is true, `false => ⊥` is true, `not ⊥` is ⊥.
- A constraint holds iff its expression is exactly true; ⊥ counts as violated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import Final, TypeAlias

from dspx_lang.space.solve.model import (
    And,
    Arith,
    Candidate,
    Cmp,
    Config,
    ConfigValue,
    Const,
    Expr,
    Implies,
    In,
    Not,
    Or,
    Ref,
    Sym,
)


class Undef:
    """The undefined value ⊥ (a singleton)."""

    _instance: Undef | None = None

    def __new__(cls) -> Undef:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEF"


UNDEF: Final = Undef()

Num: TypeAlias = int | Fraction
IValue: TypeAlias = bool | int | Fraction | str | Sym | Candidate
"""A normalised value: numbers are `int` or non-integral `Fraction`."""
Result: TypeAlias = IValue | Undef

# Outcome bits: the set of truth values an expression may take.
T: Final = 1
F: Final = 2
U: Final = 4

KIND_BOOL: Final = 0
KIND_NUM: Final = 1
KIND_STR: Final = 2
KIND_SYM: Final = 3
KIND_CAND: Final = 4


def kind(value: IValue) -> int:
    """The kind of a normalised value (bool is checked first: it subclasses int)."""
    if isinstance(value, bool):
        return KIND_BOOL
    if isinstance(value, int | Fraction):
        return KIND_NUM
    if isinstance(value, str):
        return KIND_STR
    if isinstance(value, Sym):
        return KIND_SYM
    return KIND_CAND


def num(value: Fraction) -> Num:
    """An exact number in normal form (integral fractions become ints)."""
    return value.numerator if value.denominator == 1 else value


def norm(value: ConfigValue) -> Result:
    """Normalise a public value; a non-finite float is ⊥."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return UNDEF
        if value.is_integer():
            return int(value)
        return Fraction(repr(value))
    return value


def key(value: IValue) -> tuple[int, IValue]:
    """A hashable key that keeps kinds apart (`True` and `1` are different keys)."""
    return (kind(value), value)


def equal(a: IValue, b: IValue) -> bool:
    return kind(a) == kind(b) and a == b


def compare(op: str, a: Result, b: Result) -> Result:
    """`a op b` with the semantics above."""
    if isinstance(a, Undef) or isinstance(b, Undef):
        return UNDEF
    if op == "==":
        return equal(a, b)
    if op == "!=":
        return not equal(a, b)
    ka = kind(a)
    if ka != kind(b) or ka not in (KIND_NUM, KIND_STR):
        return UNDEF
    if op == "<":
        return a < b  # type: ignore[operator]
    if op == "<=":
        return a <= b  # type: ignore[operator]
    if op == ">":
        return a > b  # type: ignore[operator]
    return a >= b  # type: ignore[operator]


def arith(op: str, a: Result, b: Result) -> Result:
    """`a op b` on numbers; ⊥ on anything else or on division by zero."""
    if not (is_num(a) and is_num(b)):
        return UNDEF
    x: Num = a  # type: ignore[assignment]
    y: Num = b  # type: ignore[assignment]
    if op == "+":
        return x + y
    if op == "-":
        return x - y
    if op == "*":
        return x * y
    if y == 0:
        return UNDEF
    return num(Fraction(x) / y)


def is_num(value: Result) -> bool:
    return isinstance(value, int | Fraction) and not isinstance(value, bool)


def bits(value: Result) -> int:
    """The outcome bit of a value in a boolean position."""
    if value is True:
        return T
    if value is False:
        return F
    return U


def evaluate(expr: Expr, env: Mapping[str, Result]) -> Result:
    """Evaluate `expr` with variables bound to normalised values."""
    if isinstance(expr, Const):
        return norm(expr.value)
    if isinstance(expr, Ref):
        return env[expr.var]
    if isinstance(expr, Not):
        inner = evaluate(expr.operand, env)
        return (not inner) if isinstance(inner, bool) else UNDEF
    if isinstance(expr, And | Or | Implies):
        left = evaluate(expr.left, env)
        right = evaluate(expr.right, env)
        if isinstance(expr, Implies):
            left = (not left) if isinstance(left, bool) else UNDEF
        if isinstance(expr, And):
            if left is False or right is False:
                return False
            return True if left is True and right is True else UNDEF
        if left is True or right is True:
            return True
        return False if left is False and right is False else UNDEF
    if isinstance(expr, Cmp):
        return compare(expr.op, evaluate(expr.left, env), evaluate(expr.right, env))
    if isinstance(expr, In):
        operand = evaluate(expr.operand, env)
        if isinstance(operand, Undef):
            return UNDEF
        member = any(not isinstance(v, Undef) and equal(operand, v) for v in map(norm, expr.values))
        return member != expr.negated
    if isinstance(expr, Arith):
        return arith(expr.op, evaluate(expr.left, env), evaluate(expr.right, env))
    operand = evaluate(expr.operand, env)
    return -operand if is_num(operand) else UNDEF  # type: ignore[operator]


def truth(expr: Expr, env: Mapping[str, Result]) -> bool | Undef:
    """The truth value of a constraint: its value when a bool, else ⊥."""
    value = evaluate(expr, env)
    return value if isinstance(value, bool) else UNDEF


def holds(expr: Expr, config: Config) -> bool:
    """Whether the constraint `expr` holds in `config` (public values)."""
    return evaluate(expr, {name: norm(value) for name, value in config.items()}) is True
