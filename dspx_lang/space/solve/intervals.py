"""Abstract values over boxes, and Kleene logic on sets of outcomes.

An outcome set is 3 bits (T=1, F=2, U=4 for ⊥): the truth values an expression may take
over a box. An `AV` over-approximates the values an expression may take: a numeric
interval (None ends are unbounded), a finite set of non-numeric values (kind-tagged),
and whether ⊥ is possible. Every operation here is sound (the result covers every
point) and exact when its inputs are single points, which is what the search needs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Final, TypeAlias

from dspx_lang.space.solve.domains import Box, IVar, bit_indices
from dspx_lang.space.solve.values import (
    KIND_BOOL,
    F,
    IValue,
    Num,
    Result,
    T,
    U,
    Undef,
    bits,
    compare,
    is_num,
    key,
    norm,
)

BoolFn: TypeAlias = Callable[[Box], int]
"""A compiled boolean expression: box -> outcome bits."""
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
    values: list[tuple[int, Result]] = [(T, True), (F, False), (U, Undef())]
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
    return True if a is True and b is True else Undef()


def _or(a: Result, b: Result) -> Result:
    if a is True or b is True:
        return True
    return False if a is False and b is False else Undef()


def _implies(a: Result, b: Result) -> Result:
    return _or((not a) if isinstance(a, bool) else Undef(), b)


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


def span(values: Sequence[Num]) -> tuple[Num, Num]:
    return min(values), max(values)


def const_av(value: Result) -> ValFn:
    av = _point_av(value)
    return lambda box: av


def _point_av(value: Result) -> AV:
    if isinstance(value, Undef):
        return ONLY_UNDEF
    if is_num(value):
        return AV(True, value, value, NONE, False)  # type: ignore[arg-type]
    return AV(False, None, None, frozenset((key(value),)), False)


def enum_av(iv: IVar) -> ValFn:
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
            lo, hi = span(nums) if nums else (None, None)
            av = cache[m] = AV(bool(nums), lo, hi, others, False)
        return av

    return fn


def bits_av(out: int) -> AV:
    others = frozenset([(KIND_BOOL, True)] * bool(out & T) + [(KIND_BOOL, False)] * bool(out & F))
    return AV(False, None, None, others, bool(out & U))


def neg(a: AV) -> AV:
    lo = None if a.hi is None else -a.hi
    hi = None if a.lo is None else -a.lo
    return AV(a.has_num, lo, hi, NONE, a.undef or bool(a.others))


def square(a: AV) -> AV:
    out = arith("*", a, a)
    if out.has_num and a.lo is not None and a.hi is not None and a.lo <= 0 <= a.hi:
        out.lo = 0
    return out


def arith(op: str, a: AV, b: AV) -> AV:
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
    lo, hi = span(products)
    return AV(True, lo, hi, NONE, undef)


def gencmp(op: str, left: ValFn, right: ValFn) -> BoolFn:
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


def genin(operand: ValFn, values: Sequence[object], negated: bool) -> BoolFn:
    normed = [norm(v) for v in values]  # type: ignore[arg-type]
    nums: list[Num] = [v for v in normed if is_num(v)]  # type: ignore[misc]
    keys = frozenset(key(v) for v in normed if not isinstance(v, Undef) and not is_num(v))

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


def as_bool(value: ValFn) -> BoolFn:
    def fn(box: Box) -> int:
        a = value(box)
        out = U if a.undef or a.has_num else 0
        for k, v in a.others:
            out |= (T if v else F) if k == KIND_BOOL else U
        return out

    return fn
