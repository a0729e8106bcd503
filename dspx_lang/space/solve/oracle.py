"""Satisfiability questions for the analysis: the box search first, z3 for what it leaves.

Every answer is a witness point, False (proven impossible), or None (undecided). A
point maps variable index -> atom index (enum), grid index, or exact rational (real).
z3 is consulted only when the search answers None and `Limits.smt` allows it, so a
purely finite, well-behaved space never imports it.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any, TypeAlias

from dspx_lang.space.solve.domains import ENUM, REAL, Box, IVar, bit_indices, runs
from dspx_lang.space.solve.intervals import IS_UNDEF, NOT_TRUE
from dspx_lang.space.solve.model import ConfigValue
from dspx_lang.space.solve.problem import Group, Space
from dspx_lang.space.solve.search import BITSET_LIMIT, Tally, merge_support, pick, to_support
from dspx_lang.space.solve.smt import Smt, Unencodable
from dspx_lang.space.solve.values import Num

Point: TypeAlias = dict[int, Any]
Answer: TypeAlias = Point | bool | None
"""A witness point, False, or None; never True."""


class Oracle:
    """Answers questions about one space within the node cap of one analysis."""

    def __init__(self, space: Space, cap: int) -> None:
        self.space = space
        self.search = space.search
        self.cap = cap
        self.queries = 0
        self._smt: Smt | None = None
        self._smt_missing = False

    def smt(self) -> Smt | None:
        if not self.space.limits.smt or self._smt_missing:
            return None
        if self._smt is None:
            try:
                self._smt = Smt(self.space)
            except ImportError:
                # Without z3-solver installed, open questions simply stay undecided.
                self._smt_missing = True
                return None
        return self._smt

    def _z3(self, formulas: Any, box: Box, vars: Sequence[int]) -> Answer:
        smt = self.smt()
        if smt is None or self.queries >= self.space.limits.smt_queries:
            return None
        self.queries += 1
        try:
            return smt.solve(formulas(smt), box, vars)  # type: ignore[no-any-return]
        except Unencodable:
            return None

    def _point(self, box: Box, vars: Sequence[int]) -> Point:
        return {v: point_of(self.space.ivars[v], box[v]) for v in vars}

    def satisfiable(self, positions: Sequence[int], box: Box, vars: Sequence[int]) -> Answer:
        """A point of `box` where all constraints at `positions` hold."""
        search, space = self.search, self.space
        cons = tuple(space.con_of[p] for p in positions)
        search.budget(search.check_nodes, self.cap)
        found = search.find(vars, cons, box)
        if isinstance(found, list):
            return self._point(found, vars)
        if found is False:
            return False
        return self._z3(lambda smt: [smt.truth(p)[0] for p in positions], box, vars)

    def counterexample(self, position: int, undefined: bool, box: Box) -> Answer:
        """A point where constraint `position` is violated (or, if `undefined`, is ⊥)."""
        search, space = self.search, self.space
        con = search.cons[space.con_of[position]]
        table = IS_UNDEF if undefined else NOT_TRUE
        fn = con.fn
        helper = search.add(lambda b: table[fn(b)], con.scope)
        search.budget(search.check_nodes, self.cap)
        found = search.find(con.scope, (helper,), box)
        if isinstance(found, list):
            return self._point(found, con.scope)
        if found is False:
            return False

        def formula(smt: Smt) -> list[Any]:
            t, f = smt.truth(position)
            z3 = smt.z3
            return [z3.And(z3.Not(t), z3.Not(f))] if undefined else [z3.Not(t)]

        return self._z3(formula, box, con.scope)

    def settle(self, group: Group, tally: Tally, root: Box) -> Tally:
        """Ask z3 what the search left open in a group: satisfiable? which values live?"""
        if tally.done or tally.sat is False or group.undecidable or self.smt() is None:
            return tally
        positions = [self.space.position_of[c] for c in group.decidable]
        finite = [v for v in group.vars if self.space.ivars[v].shape != REAL]
        sure = dict(tally.sure)
        maybe = dict(tally.maybe)
        sat = tally.sat
        if sat is None:
            found = self.satisfiable(positions, root, group.vars)
            if found is False:
                return Tally(0, False)
            if isinstance(found, dict):
                sat = True
                _mark(self.space.ivars, sure, found, finite)
        if sat is None:
            return tally
        pending = False
        for v in finite:
            iv = self.space.ivars[v]
            if iv.shape != ENUM and iv.n > BITSET_LIMIT:
                pending = pending or maybe[v] != sure.get(v)
                continue
            work = list(_runs(iv, maybe[v] & ~sure.get(v, 0)))
            while work:
                if self.queries >= self.space.limits.smt_queries:
                    pending = True
                    break
                entry = work.pop()
                box = root.copy()
                box[v] = entry
                found = self.satisfiable(positions, box, group.vars)
                if found is False:
                    maybe[v] &= ~_mask(iv, entry)
                elif found is None:
                    pending = True
                elif isinstance(found, dict):
                    _mark(self.space.ivars, sure, found, finite)
                    work = list(_runs(iv, maybe[v] & ~sure[v]))
        return Tally(None, sat, sure, maybe, not pending)


def point_of(iv: IVar, entry: Any) -> Any:
    """A representative point of a box entry (a real: the shortest decimal inside)."""
    if iv.shape == REAL:
        return simplest(*entry)
    return pick(iv, entry)


def public_point(iv: IVar, point: Any) -> ConfigValue:
    return float(point) if iv.shape == REAL else iv.public(point)


def simplest(lo: Num, hi: Num) -> Num:
    """The decimal with fewest digits in [lo, hi] nearest its middle (a float's repr)."""
    mid = (Fraction(lo) + Fraction(hi)) / 2
    for digits in range(17):
        x = round(mid, digits)
        if lo <= x <= hi:
            return x
    return mid


def _mask(iv: IVar, entry: Any) -> int:
    if iv.shape == ENUM:
        return int(entry)
    a, b = entry
    return int(((1 << (b - a + 1)) - 1) << a)


def _runs(iv: IVar, mask: int) -> list[Any]:
    """Box entries covering a bit mask: single atoms, or maximal runs of grid indices."""
    if iv.shape == ENUM:
        return [1 << i for i in bit_indices(mask)]
    return list(runs(mask))


def _mark(ivars: Sequence[IVar], sure: dict[int, Any], point: Point, finite: list[int]) -> None:
    """Record the values of a feasible point as surely alive."""
    for v in finite:
        k = point[v]
        single = to_support(ivars[v], (1 << k) if ivars[v].shape == ENUM else (k, k))
        sure[v] = merge_support(sure[v], single) if v in sure else single
