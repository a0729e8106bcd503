"""Linear forms: tight bounds over boxes, and exact counting of 1-2 grid variables.

A comparison between linear expressions becomes `sum(c_v * v) + const OP 0`, scaled
to integer coefficients (grid variables by index, enum variables by a per-atom table),
so bounds over a box are exact integer arithmetic and tight (each variable occurs once).

Counting fast path (`count_grid`): when a search component is down to one or two grid
variables and every remaining constraint is such a comparison (possibly behind an
implication whose guard already holds), each comparison is solved for one variable in
closed form, and the other variable (if any) is looped over. This replaces thousands
of bisection boxes along a boundary such as `overlap <= chunk / 4` with one loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from dspx_lang.space.solve.domains import GRID, REAL, Box, IVar, bit_indices
from dspx_lang.space.solve.intervals import BoolFn, decide, span
from dspx_lang.space.solve.values import F, Num, T

FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
"""The comparison after multiplying both sides by -1."""


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


@dataclass(frozen=True, slots=True)
class Terms:
    """A linear form split by variable shape: grid terms are per index."""

    const: Num
    grid: tuple[tuple[int, Num], ...]
    enum: tuple[tuple[int, tuple[Num, ...]], ...]
    real: tuple[tuple[int, Num], ...]


@dataclass(frozen=True, slots=True)
class LinInfo:
    """A constraint that is `terms OP 0` whenever `guard` (if any) holds."""

    op: str
    terms: Terms
    guard: BoolFn | None


def _num(x: Fraction) -> Num:
    return x.numerator if x.denominator == 1 else x


def terms(ivars: Sequence[IVar], lin: Linear, integral: bool) -> Terms:
    """Split `lin` by shape; with `integral`, scaled by a positive factor to integers
    (only valid where the form is compared with 0)."""
    out = _split(ivars, lin, Fraction(1))
    if not integral:
        return out
    denominators = [Fraction(x).denominator for _, x in out.grid]
    denominators += [Fraction(x).denominator for _, xs in out.enum for x in xs]
    return _split(ivars, lin, Fraction(math.lcm(Fraction(out.const).denominator, *denominators)))


def _split(ivars: Sequence[IVar], lin: Linear, scale: Fraction) -> Terms:
    const = lin.const * scale
    grid: list[tuple[int, Num]] = []
    enum: list[tuple[int, tuple[Num, ...]]] = []
    real: list[tuple[int, Num]] = []
    for v, coeff in sorted(lin.coeffs.items()):
        iv, c = ivars[v], coeff * scale
        if iv.shape == GRID:
            const += c * iv.base
            grid.append((v, _num(c * iv.step)))
        elif iv.shape == REAL:
            real.append((v, _num(c)))
        else:
            enum.append((v, tuple(_num(c * a) for a in iv.atoms)))  # type: ignore[operator]
    return Terms(_num(const), tuple(grid), tuple(enum), tuple(real))


def bounder(t: Terms) -> Callable[[Box], tuple[Num, Num]]:
    """Tight bounds of a linear form over a box."""
    ranged = t.grid + t.real
    caches = [(v, table, dict[int, tuple[Num, Num]]()) for v, table in t.enum]
    const = t.const

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
            extent = cache.get(m)
            if extent is None:
                extent = cache[m] = span([table[i] for i in bit_indices(m)])
            lo += extent[0]
            hi += extent[1]
        return lo, hi

    return bound


def thresholds(t: Terms, v: int, box: Box) -> list[int]:
    """Where `t` may cross zero along grid variable `v`, given the box's other variables:
    the floors of the two ends of the crossing interval (equal when the others are fixed)."""
    coeff: Num = 0
    lo = hi = t.const
    for u, c in t.grid + t.real:
        if u == v:
            coeff = c
            continue
        x, y = box[u]
        lo, hi = (lo + c * x, hi + c * y) if c > 0 else (lo + c * y, hi + c * x)
    for u, table in t.enum:
        values = [table[i] for i in bit_indices(box[u])]
        lo, hi = lo + min(values), hi + max(values)
    if not coeff:
        return []
    return [int(-lo // coeff), int(-hi // coeff)]


def lincmp(op: str, t: Terms) -> BoolFn:
    """The box test of `t OP 0` (integral `t`)."""
    # Integer points only: a constant the coefficients' gcd does not divide is unreachable.
    only_grid = t.grid and not t.enum and not t.real
    if op in ("==", "!=") and only_grid and int(t.const) % math.gcd(*(int(c) for _, c in t.grid)):
        out = F if op == "==" else T
        return lambda box: out
    bound = bounder(t)

    def fn(box: Box) -> int:
        lo, hi = bound(box)
        return decide(op, lo, hi)

    return fn


def solve(op: str, a: Num, b: Num, lo: int, hi: int) -> list[tuple[int, int]]:
    """The k in [lo, hi] with `a*k + b OP 0`, as disjoint ascending intervals."""
    if a == 0:
        return [(lo, hi)] if decide(op, b, b) & T else []
    if a < 0:
        a, b, op = -a, -b, FLIP[op]
    n = -b
    if op == "<=":
        hi = min(hi, int(n // a))
    elif op == "<":
        hi = min(hi, -int(-n // a) - 1)
    elif op == ">=":
        lo = max(lo, -int(-n // a))
    elif op == ">":
        lo = max(lo, int(n // a) + 1)
    else:
        q = int(n // a)
        hit = n % a == 0 and lo <= q <= hi
        if op == "==":
            return [(q, q)] if hit else []
        if hit:
            return [(x, y) for x, y in ((lo, q - 1), (q + 1, hi)) if x <= y]
    return [(lo, hi)] if lo <= hi else []


def intersect(
    xs: Sequence[tuple[int, int]], ys: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    out = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        lo, hi = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


@dataclass(slots=True)
class GridCount:
    """Exact result of `count_grid` over its variables."""

    count: int
    work: int
    alive: list[list[tuple[int, int]]]
    """Per variable, the indices occurring in some solution (ascending intervals)."""
    first: tuple[int, ...] | None
    """One solution, when there is one."""


def count_grid(
    infos: Sequence[LinInfo], vars: Sequence[int], box: Box, limit: int
) -> GridCount | None:
    """Solutions of `infos` over 1-2 unfixed grid `vars` (all else fixed), or None when
    the fast path does not apply or would loop more than `limit` times."""
    rows: list[tuple[str, list[Num], Num]] = []
    for info in infos:
        if info.terms.real or (info.guard is not None and info.guard(box) != T):
            return None
        base: Num = info.terms.const
        coeffs: list[Num] = [0] * len(vars)
        for v, c in info.terms.grid:
            if v in vars:
                coeffs[vars.index(v)] = c
            else:
                base += c * box[v][0]
        for v, table in info.terms.enum:
            base += table[box[v].bit_length() - 1]
        rows.append((info.op, coeffs, base))
    if len(vars) == 1:
        lo, hi = box[vars[0]]
        ints: list[tuple[int, int]] = [(lo, hi)]
        for op, (a,), b in rows:
            ints = intersect(ints, solve(op, a, b, lo, hi))
        count = sum(y - x + 1 for x, y in ints)
        return GridCount(count, 1, [ints], (ints[0][0],) if ints else None)
    x, y = (0, 1) if _width(box[vars[0]]) <= _width(box[vars[1]]) else (1, 0)
    (xa, xb), (ya, yb) = box[vars[x]], box[vars[y]]
    if xb - xa + 1 > limit:
        return None
    count = 0
    alive_x: list[tuple[int, int]] = []
    alive_y: list[tuple[int, int]] = []
    first: tuple[int, ...] | None = None
    for k in range(xa, xb + 1):
        ints = [(ya, yb)]
        for op, coeffs, b in rows:
            ints = intersect(ints, solve(op, coeffs[y], b + coeffs[x] * k, ya, yb))
            if not ints:
                break
        if not ints:
            continue
        count += sum(q - p + 1 for p, q in ints)
        if alive_x and alive_x[-1][1] == k - 1:
            alive_x[-1] = (alive_x[-1][0], k)
        else:
            alive_x.append((k, k))
        alive_y.extend(ints)
        if first is None:
            first = (k, ints[0][0]) if x == 0 else (ints[0][0], k)
    alive = [alive_x, _merge(alive_y)] if x == 0 else [_merge(alive_y), alive_x]
    return GridCount(count, xb - xa + 1, alive, first)


def _width(entry: tuple[int, int]) -> int:
    return entry[1] - entry[0]


def _merge(ints: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(ints):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(hi, out[-1][1]))
        else:
            out.append((lo, hi))
    return out


def applies(ivars: Sequence[IVar], vars: Sequence[int]) -> bool:
    """Whether `count_grid` may be tried on these unfixed variables."""
    return 0 < len(vars) <= 2 and all(ivars[v].shape == GRID for v in vars)
