"""Compile constraints to box tests: `fn(box) -> outcome bits` (T=1, F=2, U=4).

Contract (what makes the search exact and sound):
- Sound: the bits returned for a box include the truth value of the constraint at every
  point of the box (`values.evaluate`), so T alone means "holds everywhere in the box"
  and no T bit means "holds nowhere in it".
- Exact at points: on a box where every variable of the constraint is fixed, the bits
  are exactly the point's value. This is what makes finite answers exact.

Techniques, cheapest first: a constant; a table over the sub-domain of a few small
variables (exact on every box); a linear comparison scaled to integer coefficients
(tight bounds, linear.py); otherwise interval/set arithmetic over abstract values with
Kleene logic (intervals.py). Predicates are called on each point of a box when there
are few, else they answer "unknown" until the search fixes their variables.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from fractions import Fraction
from itertools import product

from dspx_lang.space.solve.domains import ENUM, REAL, Box, IVar, bit_indices
from dspx_lang.space.solve.intervals import (
    AND,
    AV,
    IMPLIES,
    NONE,
    NOT,
    OR,
    BoolFn,
    ValFn,
    arith,
    as_bool,
    bits_av,
    const_av,
    enum_av,
    gencmp,
    genin,
    neg,
    square,
)
from dspx_lang.space.solve.linear import Linear, LinInfo, Terms, bounder, lincmp, terms
from dspx_lang.space.solve.model import (
    And,
    Arith,
    Cmp,
    ConfigValue,
    Const,
    Expr,
    Implies,
    In,
    Neg,
    Not,
    Or,
    Predicate,
    Ref,
)
from dspx_lang.space.solve.values import (
    KIND_NUM,
    F,
    Result,
    T,
    U,
    bits,
    evaluate,
    is_num,
    kind,
    norm,
)


class Compiler:
    """Compiles expressions over a fixed set of variables; one per problem."""

    def __init__(self, ivars: Sequence[IVar], table_size: int) -> None:
        self.ivars = ivars
        self.by_name = {iv.name: iv for iv in ivars}
        self.table_size = table_size
        self.atoms: list[Terms] = []
        """Linear comparisons compiled since the caller last cleared this list."""

    def scope(self, expr: Expr) -> frozenset[int]:
        """Indices of the variables `expr` mentions."""
        if isinstance(expr, Ref):
            return frozenset((self.by_name[expr.var].index,))
        if isinstance(expr, Const):
            return frozenset()
        if isinstance(expr, Not | Neg | In):
            return self.scope(expr.operand)
        return self.scope(expr.left) | self.scope(expr.right)

    def boolean(self, expr: Expr) -> BoolFn:
        scope = self.scope(expr)
        if not scope:
            out = bits(evaluate(expr, {}))
            return lambda box: out
        table = self._table(expr, sorted(scope))
        if table is not None:
            return table
        if isinstance(expr, Not):
            inner = self.boolean(expr.operand)
            return lambda box: NOT[inner(box)]
        if isinstance(expr, And | Or | Implies):
            tab = AND if isinstance(expr, And) else OR if isinstance(expr, Or) else IMPLIES
            left, right = self.boolean(expr.left), self.boolean(expr.right)
            return lambda box: tab[left(box)][right(box)]
        if isinstance(expr, Cmp):
            a, b = self.linear(expr.left), self.linear(expr.right)
            if a is not None and b is not None:
                t = terms(self.ivars, a.plus(b, -1), integral=True)
                self.atoms.append(t)
                return lincmp(expr.op, t)
            return gencmp(expr.op, self.value(expr.left), self.value(expr.right))
        if isinstance(expr, In):
            return genin(self.value(expr.operand), expr.values, expr.negated)
        return as_bool(self.value(expr))

    def linear_info(self, expr: Expr) -> LinInfo | None:
        """`expr` as a linear comparison over finite variables, possibly behind a guard
        (`guard => comparison`), for the counting fast path; else None."""
        guard = None
        if isinstance(expr, Implies):
            guard, expr = self.boolean(expr.left), expr.right
        if not isinstance(expr, Cmp):
            return None
        a, b = self.linear(expr.left), self.linear(expr.right)
        if a is None or b is None:
            return None
        t = terms(self.ivars, a.plus(b, -1), integral=True)
        return None if t.real else LinInfo(expr.op, t, guard)

    def _table(self, expr: Expr, scope: list[int]) -> BoolFn | None:
        """An exact table when the scope's sub-domain has at most `table_size` points."""
        ivs = [self.ivars[i] for i in scope]
        if any(iv.shape == REAL for iv in ivs):
            return None
        if math.prod(len(iv.atoms) if iv.shape == ENUM else iv.n for iv in ivs) > self.table_size:
            return None
        *outer, last = ivs
        masks: dict[tuple[int, ...], tuple[int, int, int]] = {}
        for combo in product(*(_points(iv) for iv in outer)):
            env: dict[str, Result] = {
                iv.name: iv.internal(k) for iv, k in zip(outer, combo, strict=True)
            }
            mt = mf = mu = 0
            for k in _points(last):
                env[last.name] = last.internal(k)
                out = bits(evaluate(expr, env))
                bit = 1 << k
                mt |= bit if out == T else 0
                mf |= bit if out == F else 0
                mu |= bit if out == U else 0
            masks[combo] = (mt, mf, mu)
        return _table_fn([iv.index for iv in outer], last, masks)

    def linear(self, expr: Expr) -> Linear | None:
        """`expr` as a linear form over numeric variables, or None."""
        if isinstance(expr, Const):
            v = norm(expr.value)
            return Linear({}, Fraction(v)) if is_num(v) else None  # type: ignore[arg-type]
        if isinstance(expr, Ref):
            iv = self.by_name[expr.var]
            numeric = iv.shape != ENUM or all(kind(a) == KIND_NUM for a in iv.atoms)
            return Linear({iv.index: Fraction(1)}, Fraction(0)) if numeric else None
        if isinstance(expr, Neg):
            inner = self.linear(expr.operand)
            return None if inner is None else inner.scaled(Fraction(-1))
        if not isinstance(expr, Arith):
            return None
        a, b = self.linear(expr.left), self.linear(expr.right)
        if a is None or b is None:
            return None
        if expr.op in "+-":
            return a.plus(b, 1 if expr.op == "+" else -1)
        if expr.op == "*":
            if not a.coeffs:
                return b.scaled(a.const)
            return a.scaled(b.const) if not b.coeffs else None
        return a.scaled(1 / b.const) if not b.coeffs and b.const else None

    def value(self, expr: Expr) -> ValFn:
        """An abstract-value function for `expr` (used where no linear form exists)."""
        if not self.scope(expr):
            return const_av(evaluate(expr, {}))
        lin = self.linear(expr)
        if lin is not None:
            bound = bounder(terms(self.ivars, lin, integral=False))

            def linear_av(box: Box) -> AV:
                lo, hi = bound(box)
                return AV(True, lo, hi, NONE, False)

            return linear_av
        if isinstance(expr, Ref):
            return enum_av(self.by_name[expr.var])
        if isinstance(expr, Arith):
            left, right, op = self.value(expr.left), self.value(expr.right), expr.op
            if op == "*" and expr.left == expr.right:
                # e * e is a square: non-negative, which plain interval products miss.
                return lambda box: square(left(box))
            return lambda box: arith(op, left(box), right(box))
        if isinstance(expr, Neg):
            inner = self.value(expr.operand)
            return lambda box: neg(inner(box))
        as_bits = self.boolean(expr)
        return lambda box: bits_av(as_bits(box))

    def predicate(self, pred: Predicate, limit: int = 64) -> BoolFn:
        """Call `pred.fn` on each point of a box with at most `limit` points (memoised)."""
        ivs = [self.by_name[name] for name in dict.fromkeys(pred.vars)]
        memo: dict[tuple[int, ...], int] = {}

        def at(combo: tuple[int, ...]) -> int:
            out = memo.get(combo)
            if out is None:
                values: dict[str, ConfigValue] = {
                    iv.name: iv.public(k) for iv, k in zip(ivs, combo, strict=True)
                }
                out = memo[combo] = T if pred.fn(values) else F
            return out

        def fn(box: Box) -> int:
            if math.prod(_count(iv, box[iv.index]) for iv in ivs) > limit:
                return T | F
            out = 0
            for combo in product(*(_indices(iv, box[iv.index]) for iv in ivs)):
                out |= at(combo)
                if out == T | F:
                    break
            return out

        return fn


def _points(iv: IVar) -> range:
    return range(len(iv.atoms)) if iv.shape == ENUM else range(iv.n)


def _count(iv: IVar, entry: object) -> int:
    if iv.shape == ENUM:
        return int.bit_count(entry)  # type: ignore[arg-type]
    return int(entry[1] - entry[0] + 1)  # type: ignore[index]


def _indices(iv: IVar, entry: object) -> Iterator[int] | range:
    if iv.shape == ENUM:
        return bit_indices(entry)  # type: ignore[arg-type]
    return range(entry[0], entry[1] + 1)  # type: ignore[index]


def _range_mask(entry: tuple[int, int]) -> int:
    return ((1 << (entry[1] - entry[0] + 1)) - 1) << entry[0]


def _table_fn(
    outer: list[int], last: IVar, masks: Mapping[tuple[int, ...], tuple[int, int, int]]
) -> BoolFn:
    li, enum_last = last.index, last.shape == ENUM

    def test(m: int, triple: tuple[int, int, int]) -> int:
        mt, mf, mu = triple
        return (T if m & mt else 0) | (F if m & mf else 0) | (U if m & mu else 0)

    if not outer:
        only = masks[()]
        if enum_last:
            return lambda box: test(box[li], only)
        return lambda box: test(_range_mask(box[li]), only)

    # Outcomes the table can produce at all: once seen, scanning further is pointless.
    possible = 0
    for triple in masks.values():
        possible |= test(-1, triple)

    def fn(box: Box) -> int:
        entry = box[li]
        m = entry if enum_last else _range_mask(entry)
        out = 0
        ranges = []
        for v in outer:
            e = box[v]
            ranges.append(bit_indices(e) if isinstance(e, int) else range(e[0], e[1] + 1))
        for combo in product(*ranges):
            out |= test(m, masks[combo])
            if out == possible:
                break
        return out

    return fn
