"""Compile constraints to box tests: `fn(box) -> outcome bits` (T=1, F=2, U=4).

Contract (what makes the search exact and sound):
- Sound: the bits returned for a box include the truth value of the constraint at every
  point of the box (`values.evaluate`), so T alone means "holds everywhere in the box"
  and no T bit means "holds nowhere in it".
- Exact at points: on a box where every variable of the constraint is fixed, the bits
  are exactly the point's value. This is what makes finite answers exact.

Techniques, cheapest first: a constant; a table over the sub-domain of a few small
variables (exact on every box); a linear comparison scaled to integer coefficients
(tight interval bounds, each variable counted once); otherwise interval/set arithmetic
over abstract values with Kleene logic. Predicates are called on each point of a box
when there are few, else they answer "unknown" until the search fixes their variables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from fractions import Fraction
from itertools import product
from typing import Final, TypeAlias

from dspx_lang.space.solve.domains import ENUM, GRID, REAL, Box, IVar, bit_indices
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
    KIND_BOOL,
    KIND_NUM,
    F,
    IValue,
    Num,
    Result,
    T,
    U,
    _Undef,
    bits,
    compare,
    evaluate,
    is_num,
    key,
    kind,
    norm,
)

BoolFn: TypeAlias = Callable[[Box], int]
Bound: TypeAlias = Num | None
"""An interval end; None is unbounded (minus or plus infinity by position)."""
Key: TypeAlias = tuple[int, IValue]


class AV:
    """Abstract value: what an expression may evaluate to over a box."""

    __slots__ = ("has_num", "hi", "lo", "others", "undef")

    def __init__(
        self, has_num: bool, lo: Bound, hi: Bound, others: frozenset[Key], undef: bool
    ) -> None:
        self.has_num = has_num
        self.lo = lo
        self.hi = hi
        self.others = others
        self.undef = undef


ValFn: TypeAlias = Callable[[Box], AV]
NONE: Final[frozenset[Key]] = frozenset()
ONLY_UNDEF: Final = AV(False, None, None, NONE, True)


def _kleene_table(op: Callable[[Result, Result], Result]) -> list[list[int]]:
    values: list[tuple[int, Result]] = [(T, True), (F, False), (U, _Undef())]
    table = [[0] * 8 for _ in range(8)]
    for a in range(8):
        for b in range(8):
            for abit, av in values:
                for bbit, bv in values:
                    if a & abit and b & bbit:
                        table[a][b] |= bits(op(av, bv))
    return table


def _and(a: Result, b: Result) -> Result:
    if a is False or b is False:
        return False
    return True if a is True and b is True else _Undef()


def _or(a: Result, b: Result) -> Result:
    if a is True or b is True:
        return True
    return False if a is False and b is False else _Undef()


def _implies(a: Result, b: Result) -> Result:
    return _or((not a) if isinstance(a, bool) else _Undef(), b)


AND: Final = _kleene_table(_and)
OR: Final = _kleene_table(_or)
IMPLIES: Final = _kleene_table(_implies)
NOT: Final = [((s & T) and F) | ((s & F) and T) | (s & U) for s in range(8)]
NOT_TRUE: Final = [((s & (F | U)) and T) | ((s & T) and F) for s in range(8)]
"""Outcome of "the constraint does not hold" (used to look for counterexamples)."""
IS_UNDEF: Final = [((s & U) and T) | ((s & (T | F)) and F) for s in range(8)]


def decide(op: str, lo: Bound, hi: Bound) -> int:
    """Outcome bits of `x op 0` for x anywhere in [lo, hi]."""
    if op == "<":
        return (T if lo is None or lo < 0 else 0) | (F if hi is None or hi >= 0 else 0)
    if op == "<=":
        return (T if lo is None or lo <= 0 else 0) | (F if hi is None or hi > 0 else 0)
    if op == ">":
        return (T if hi is None or hi > 0 else 0) | (F if lo is None or lo <= 0 else 0)
    if op == ">=":
        return (T if hi is None or hi >= 0 else 0) | (F if lo is None or lo < 0 else 0)
    can_zero = (lo is None or lo <= 0) and (hi is None or hi >= 0)
    is_zero = lo == 0 and hi == 0
    eq = (T if can_zero else 0) | (0 if is_zero else F)
    return eq if op == "==" else NOT[eq]


def _sub(a: Bound, b: Bound) -> Bound:
    return None if a is None or b is None else a - b


def _span(values: Sequence[Num]) -> tuple[Num, Num]:
    return min(values), max(values)


class Linear:
    """`sum(coeffs[v] * v) + const` over numeric variables (exact rationals)."""

    __slots__ = ("coeffs", "const")

    def __init__(self, coeffs: dict[int, Fraction], const: Fraction) -> None:
        self.coeffs = coeffs
        self.const = const

    def scaled(self, k: Fraction) -> Linear:
        return Linear({v: c * k for v, c in self.coeffs.items() if c * k}, self.const * k)

    def plus(self, other: Linear, sign: int) -> Linear:
        coeffs = dict(self.coeffs)
        for v, c in other.coeffs.items():
            coeffs[v] = coeffs.get(v, Fraction(0)) + sign * c
        return Linear({v: c for v, c in coeffs.items() if c}, self.const + sign * other.const)


class Compiler:
    """Compiles expressions over a fixed set of variables; one per problem."""

    def __init__(self, ivars: Sequence[IVar], table_size: int) -> None:
        self.ivars = ivars
        self.by_name = {iv.name: iv for iv in ivars}
        self.table_size = table_size

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
                return self._lincmp(expr.op, a.plus(b, -1))
            return _gencmp(expr.op, self.value(expr.left), self.value(expr.right))
        if isinstance(expr, In):
            return _genin(self.value(expr.operand), expr.values, expr.negated)
        return _as_bool(self.value(expr))

    @staticmethod
    def _points(iv: IVar) -> range:
        return range(len(iv.atoms)) if iv.shape == ENUM else range(iv.n)

    def _table(self, expr: Expr, scope: list[int]) -> BoolFn | None:
        """An exact table when the scope's sub-domain has at most `table_size` points."""
        ivs = [self.ivars[i] for i in scope]
        if any(iv.shape == REAL for iv in ivs):
            return None
        if math.prod(len(iv.atoms) if iv.shape == ENUM else iv.n for iv in ivs) > self.table_size:
            return None
        *outer, last = ivs
        masks: dict[tuple[int, ...], tuple[int, int, int]] = {}
        for combo in product(*(self._points(iv) for iv in outer)):
            env: dict[str, Result] = {
                iv.name: iv.internal(k) for iv, k in zip(outer, combo, strict=True)
            }
            mt = mf = mu = 0
            for k in self._points(last):
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

    def _terms(
        self, lin: Linear, scale: Fraction
    ) -> tuple[Num, list[tuple[int, Num]], list[tuple[int, list[Num]]], list[tuple[int, Num]]]:
        """Split `scale * lin` into a constant and grid, enum and real terms."""
        const = lin.const * scale
        grid: list[tuple[int, Num]] = []
        enum: list[tuple[int, list[Num]]] = []
        real: list[tuple[int, Num]] = []
        for v, coeff in sorted(lin.coeffs.items()):
            iv, c = self.ivars[v], coeff * scale
            if iv.shape == GRID:
                const += c * iv.base
                grid.append((v, _num(c * iv.step)))
            elif iv.shape == REAL:
                real.append((v, _num(c)))
            else:
                enum.append((v, [_num(c * a) for a in iv.atoms]))  # type: ignore[operator]
        return _num(const), grid, enum, real

    def _lincmp(self, op: str, lin: Linear) -> BoolFn:
        const, grid, enum, real = self._terms(lin, Fraction(1))
        denominators = [Fraction(x).denominator for _, x in grid]
        denominators += [Fraction(x).denominator for _, xs in enum for x in xs]
        denominators.append(Fraction(const).denominator)
        scale = Fraction(math.lcm(*denominators))
        const, grid, enum, real = self._terms(lin, scale)
        if op in ("==", "!=") and not enum and not real and grid:
            g = math.gcd(*(int(x) for _, x in grid))
            if int(const) % g:
                out = F if op == "==" else T
                return lambda box: out
        bound = _bounder(const, grid, enum, real)

        def fn(box: Box) -> int:
            lo, hi = bound(box)
            return decide(op, lo, hi)

        return fn

    def value(self, expr: Expr) -> ValFn:
        """An abstract-value function for `expr` (used where no linear form exists)."""
        if not self.scope(expr):
            return _const_av(evaluate(expr, {}))
        lin = self.linear(expr)
        if lin is not None:
            bound = _bounder(*self._terms(lin, Fraction(1)))

            def linear_av(box: Box) -> AV:
                lo, hi = bound(box)
                return AV(True, lo, hi, NONE, False)

            return linear_av
        if isinstance(expr, Ref):
            return _enum_av(self.by_name[expr.var])
        if isinstance(expr, Arith):
            left, right, op = self.value(expr.left), self.value(expr.right), expr.op
            if op == "*" and expr.left == expr.right:
                # e * e is a square: non-negative, which plain interval products miss.
                return lambda box: _square(left(box))
            return lambda box: _arith(op, left(box), right(box))
        if isinstance(expr, Neg):
            inner = self.value(expr.operand)
            return lambda box: _neg(inner(box))
        as_bool = self.boolean(expr)
        return lambda box: _bits_av(as_bool(box))

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


def _num(x: Fraction) -> Num:
    return x.numerator if x.denominator == 1 else x


def _count(iv: IVar, entry: object) -> int:
    if iv.shape == ENUM:
        return int.bit_count(entry)  # type: ignore[arg-type]
    return int(entry[1] - entry[0] + 1)  # type: ignore[index]


def _indices(iv: IVar, entry: object) -> Iterator[int] | range:
    if iv.shape == ENUM:
        return bit_indices(entry)  # type: ignore[arg-type]
    return range(entry[0], entry[1] + 1)  # type: ignore[index]


def _table_fn(
    outer: list[int], last: IVar, masks: Mapping[tuple[int, ...], tuple[int, int, int]]
) -> BoolFn:
    li, enum_last = last.index, last.shape == ENUM
    outer_ivs = outer

    def test(m: int, triple: tuple[int, int, int]) -> int:
        mt, mf, mu = triple
        return (T if m & mt else 0) | (F if m & mf else 0) | (U if m & mu else 0)

    if not outer_ivs:
        only = masks[()]

        def single(box: Box) -> int:
            entry = box[li]
            m = entry if enum_last else ((1 << (entry[1] - entry[0] + 1)) - 1) << entry[0]
            return test(m, only)

        return single

    def fn(box: Box) -> int:
        entry = box[li]
        m = entry if enum_last else ((1 << (entry[1] - entry[0] + 1)) - 1) << entry[0]
        out = 0
        ranges = []
        for v in outer_ivs:
            e = box[v]
            ranges.append(bit_indices(e) if isinstance(e, int) else range(e[0], e[1] + 1))
        for combo in product(*ranges):
            out |= test(m, masks[combo])
            if out == T | F | U:
                break
        return out

    return fn


def _bounder(
    const: Num,
    grid: list[tuple[int, Num]],
    enum: list[tuple[int, list[Num]]],
    real: list[tuple[int, Num]],
) -> Callable[[Box], tuple[Num, Num]]:
    """Tight bounds of a linear form over a box (each variable occurs once)."""
    ranged = grid + real
    caches: list[tuple[int, list[Num], dict[int, tuple[Num, Num]]]] = [
        (v, table, {}) for v, table in enum
    ]

    def bound(box: Box) -> tuple[Num, Num]:
        lo = hi = const
        for v, c in ranged:
            x, y = box[v]
            if c > 0:
                lo += c * x
                hi += c * y
            else:
                lo += c * y
                hi += c * x
        for v, table, cache in caches:
            m = box[v]
            span = cache.get(m)
            if span is None:
                span = cache[m] = _span([table[i] for i in bit_indices(m)])
            lo += span[0]
            hi += span[1]
        return lo, hi

    return bound


def _const_av(value: Result) -> ValFn:
    av = _point_av(value)
    return lambda box: av


def _point_av(value: Result) -> AV:
    if isinstance(value, _Undef):
        return ONLY_UNDEF
    if is_num(value):
        return AV(True, value, value, NONE, False)  # type: ignore[arg-type]
    return AV(False, None, None, frozenset((key(value),)), False)


def _enum_av(iv: IVar) -> ValFn:
    """Abstract value of an enum variable (mixed kinds allowed), cached per mask."""
    cache: dict[int, AV] = {}
    vi = iv.index

    def fn(box: Box) -> AV:
        m = box[vi]
        av = cache.get(m)
        if av is None:
            atoms = [iv.atoms[i] for i in bit_indices(m)]
            nums: list[Num] = [a for a in atoms if is_num(a)]  # type: ignore[misc]
            others = frozenset(key(a) for a in atoms if not is_num(a))
            lo, hi = _span(nums) if nums else (None, None)
            av = cache[m] = AV(bool(nums), lo, hi, others, False)
        return av

    return fn


def _bits_av(out: int) -> AV:
    others = frozenset([(KIND_BOOL, True)] * bool(out & T) + [(KIND_BOOL, False)] * bool(out & F))
    return AV(False, None, None, others, bool(out & U))


def _neg(a: AV) -> AV:
    lo = None if a.hi is None else -a.hi
    hi = None if a.lo is None else -a.lo
    return AV(a.has_num, lo, hi, NONE, a.undef or bool(a.others))


def _square(a: AV) -> AV:
    out = _arith("*", a, a)
    if out.has_num and a.lo is not None and a.hi is not None and a.lo <= 0 <= a.hi:
        out.lo = 0
    return out


def _arith(op: str, a: AV, b: AV) -> AV:
    undef = a.undef or b.undef or bool(a.others) or bool(b.others)
    if not (a.has_num and b.has_num):
        return ONLY_UNDEF
    if op == "+":
        lo = None if a.lo is None or b.lo is None else a.lo + b.lo
        hi = None if a.hi is None or b.hi is None else a.hi + b.hi
        return AV(True, lo, hi, NONE, undef)
    if op == "-":
        return AV(True, _sub(a.lo, b.hi), _sub(a.hi, b.lo), NONE, undef)
    if op == "/":
        if b.lo == 0 and b.hi == 0:
            return ONLY_UNDEF
        if (b.lo is None or b.lo <= 0) and (b.hi is None or b.hi >= 0):
            return AV(True, None, None, NONE, True)
    ends = (a.lo, a.hi, b.lo, b.hi)
    if any(e is None for e in ends):
        return AV(True, None, None, NONE, undef)
    alo, ahi, blo, bhi = ends
    if op == "*":
        products = [alo * blo, alo * bhi, ahi * blo, ahi * bhi]  # type: ignore[operator]
    else:
        products = [Fraction(x) / y for x in (alo, ahi) for y in (blo, bhi)]  # type: ignore[arg-type,operator]
    lo, hi = _span(products)
    return AV(True, lo, hi, NONE, undef)


def _gencmp(op: str, left: ValFn, right: ValFn) -> BoolFn:
    def fn(box: Box) -> int:
        a, b = left(box), right(box)
        out = U if a.undef or b.undef else 0
        if a.has_num and b.has_num:
            out |= decide(op, _sub(a.lo, b.hi), _sub(a.hi, b.lo))
        for _, va in a.others:
            for _, vb in b.others:
                out |= bits(compare(op, va, vb))
        if (a.has_num and b.others) or (a.others and b.has_num):
            out |= F if op == "==" else T if op == "!=" else U
        return out

    return fn


def _genin(operand: ValFn, values: Sequence[object], negated: bool) -> BoolFn:
    normed = [norm(v) for v in values]  # type: ignore[arg-type]
    nums: list[Num] = [v for v in normed if is_num(v)]  # type: ignore[misc]
    keys = frozenset(key(v) for v in normed if not isinstance(v, _Undef) and not is_num(v))

    def fn(box: Box) -> int:
        a = operand(box)
        out = U if a.undef else 0
        if a.has_num:
            lo, hi = a.lo, a.hi
            member = any((lo is None or lo <= x) and (hi is None or x <= hi) for x in nums)
            point = lo is not None and lo == hi
            out |= (T if member else 0) | (0 if point and member else F)
        for k in a.others:
            out |= T if k in keys else F
        return NOT[out] if negated else out

    return fn


def _as_bool(value: ValFn) -> BoolFn:
    def fn(box: Box) -> int:
        a = value(box)
        out = U if a.undef or a.has_num else 0
        for k, v in a.others:
            out |= (T if v else F) if k == KIND_BOOL else U
        return out

    return fn
