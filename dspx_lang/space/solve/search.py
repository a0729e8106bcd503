"""Box search: count feasible configurations, collect supports, find witnesses.

A node is a box. Its constraints are evaluated (abstract.py): a constraint true on the
whole box is dropped, one false on the whole box prunes it. What remains is split into
independent components (constraints linked by shared *unfixed* variables); counts of
components multiply, and unconstrained variables contribute their sub-domain size.
A component is cached by (its constraints, the box entries of their variables) — the
count depends on nothing else — and otherwise branched on its most-constrained
variable: one child per enum atom, two halves of a grid interval. Sub-problems left
with only continuous variables are searched breadth-first by bisection, to a bound.

Work is bounded by a node budget (deterministic). Past it, a node answers "unknown":
count None, satisfiability None, and its whole box counts as *maybe* supported. So every
answer is exact when `done`, and sound (never a false "unsatisfiable" or "dead") always.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from dspx_lang.space.solve.domains import ENUM, REAL, Box, IVar
from dspx_lang.space.solve.intervals import BoolFn
from dspx_lang.space.solve.linear import GridCount, LinInfo, Terms, applies, count_grid, thresholds
from dspx_lang.space.solve.values import T

BITSET_LIMIT = 1 << 16
"""Grid variables up to this many values keep supports as bit masks, larger as intervals."""
MAX_DEPTH = 180
"""Nested branchings allowed on one path (each costs two Python frames). Reaching it
spends the whole budget: the search winds down with what it has ("unknown" beyond)."""
CUT_FROM = 64
"""Grid intervals this wide are cut at a constraint's crossing point; narrower ones in
the middle, which keeps sub-boxes canonical and so shared through the cache."""

Support: TypeAlias = dict[int, Any]
"""Per variable: a bit mask of atoms/grid indices, or a sorted list of index intervals."""
CacheKey: TypeAlias = tuple[tuple[int, ...], tuple[Any, ...]]


@dataclass(slots=True)
class Tally:
    """What a search found over a box (see the module docstring for `done`)."""

    count: int | None
    sat: bool | None
    sure: Support = field(default_factory=dict)
    """Values that occur in some proven feasible configuration."""
    maybe: Support = field(default_factory=dict)
    """Values that may occur in a feasible configuration (a superset of `sure`)."""
    done: bool = True


UNSAT = Tally(0, False)


@dataclass(slots=True)
class Con:
    """A compiled constraint: its id (or -1 for helpers), box test and variables."""

    id: int
    fn: BoolFn
    scope: tuple[int, ...]
    linear: LinInfo | None = None
    """Set when the constraint is a linear comparison (for the counting fast path)."""
    atoms: tuple[Terms, ...] = ()
    """Its linear comparisons (anywhere inside), whose zero crossings guide splitting."""


def merge_support(a: Any, b: Any) -> Any:
    if isinstance(a, int):
        return a | b
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(a + b):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _union(a: Support, b: Support) -> Support:
    out = dict(a)
    for v, s in b.items():
        out[v] = merge_support(out[v], s) if v in out else s
    return out


def add(a: Tally, b: Tally) -> Tally:
    """Tally over the union of two disjoint boxes of the same variables."""
    count = None if a.count is None or b.count is None else a.count + b.count
    sat = True if a.sat or b.sat else (False if a.sat is False and b.sat is False else None)
    return Tally(count, sat, _union(a.sure, b.sure), _union(a.maybe, b.maybe), a.done and b.done)


def multiply(a: Tally, b: Tally) -> Tally:
    """Tally of the product of two independent sub-problems (disjoint variables)."""
    if a.sat is False or b.sat is False:
        return UNSAT
    count = None if a.count is None or b.count is None else a.count * b.count
    sat = True if a.sat and b.sat else None
    sure = {**a.sure, **b.sure} if sat else {}
    return Tally(count, sat, sure, {**a.maybe, **b.maybe}, a.done and b.done)


class Search:
    """Searches one problem: its variables and (growing) list of compiled constraints."""

    def __init__(
        self, ivars: Sequence[IVar], cons: Sequence[Con], real_nodes: int, check_nodes: int
    ) -> None:
        self.ivars = ivars
        self.is_enum = [iv.shape == ENUM for iv in ivars]
        self.cons = list(cons)
        self.real_nodes = real_nodes
        self.check_nodes = check_nodes
        self.nodes = 0
        self.limit = 0
        self.depth = 0
        self.counts: dict[CacheKey, Tally] = {}
        self.failures: set[CacheKey] = set()
        self._keyvars: dict[tuple[int, ...], tuple[int, ...]] = {}

    def add(self, fn: BoolFn, scope: tuple[int, ...]) -> int:
        """Register a helper constraint; returns its index for `cons` tuples."""
        self.cons.append(Con(-1, fn, scope))
        return len(self.cons) - 1

    def budget(self, nodes: int, cap: int | None = None) -> None:
        """Allow `nodes` more search nodes from now on, but never past node number `cap`."""
        self.limit = self.nodes + nodes if cap is None else min(self.nodes + nodes, cap)

    # -- shared node logic ------------------------------------------------------------

    def evaluate(self, cons: Sequence[int], box: Box) -> list[int] | None:
        """Constraints still undecided on `box`, or None when one is false on all of it."""
        remaining = []
        for c in cons:
            out = self.cons[c].fn(box)
            if out == T:
                continue
            if not out & T:
                return None
            remaining.append(c)
        return remaining

    def split(
        self, vars: Sequence[int], remaining: Sequence[int], box: Box
    ) -> tuple[list[int], list[tuple[tuple[int, ...], tuple[int, ...]]]]:
        """Free variables, and independent components (unfixed vars, constraints)."""
        is_enum = self.is_enum
        groups: list[tuple[set[int], list[int]]] = []
        for c in remaining:
            unfixed = set()
            for v in self.cons[c].scope:
                e = box[v]
                if (e & (e - 1)) if is_enum[v] else e[0] != e[1]:
                    unfixed.add(v)
            assert unfixed, "a constraint over fixed variables is always decided"
            cons = [c]
            kept = []
            for group in groups:
                if unfixed.isdisjoint(group[0]):
                    kept.append(group)
                else:
                    unfixed |= group[0]
                    cons += group[1]
            kept.append((unfixed, cons))
            groups = kept
        bound = set().union(*(g[0] for g in groups))
        free = [v for v in vars if v not in bound]
        comps = [(tuple(sorted(vs)), tuple(sorted(cs))) for vs, cs in groups]
        comps.sort()
        return free, comps

    def full(self, vars: Sequence[int], box: Box) -> Tally:
        """Every point of the box restricted to `vars` is feasible."""
        count: int | None = 1
        support: Support = {}
        for v in vars:
            iv = self.ivars[v]
            w = iv.weight(box[v])
            count = None if count is None or w is None else count * w
            if iv.shape != REAL:
                support[v] = to_support(iv, box[v])
        return Tally(count, True, support, dict(support))

    def unknown(self, vars: Sequence[int], box: Box) -> Tally:
        maybe = {v: to_support(self.ivars[v], box[v]) for v in vars if self.ivars[v].shape != REAL}
        return Tally(None, None, {}, maybe, False)

    def key(self, cons: tuple[int, ...], box: Box) -> CacheKey:
        kv = self._keyvars.get(cons)
        if kv is None:
            kv = self._keyvars[cons] = tuple(sorted({v for c in cons for v in self.cons[c].scope}))
        return cons, tuple([box[v] for v in kv])

    def choose(self, vars: Sequence[int], cons: Sequence[int]) -> int:
        """The finite variable in most constraints (ties: enum first, then declaration order)."""
        members = set(vars)
        degree = dict.fromkeys(vars, 0)
        for c in cons:
            for v in self.cons[c].scope:
                if v in members:
                    degree[v] += 1
        finite = [v for v in vars if self.ivars[v].shape != REAL]
        return min(finite, key=lambda v: (-degree[v], self.ivars[v].shape != ENUM, v))

    def children(self, v: int, box: Box, cons: Sequence[int] = ()) -> Iterator[Box]:
        """Disjoint sub-boxes covering `box`, splitting variable `v` (ordered by value).

        A grid interval is cut where one of the constraints' linear comparisons changes
        truth (nearest the middle), else in the middle; small intervals fall apart."""
        entry = box[v]
        if self.ivars[v].shape == ENUM:
            while entry:
                low = entry & -entry
                child = box.copy()
                child[v] = low
                yield child
                entry ^= low
            return
        a, b = entry
        mid = (a + b) // 2 if b - a < CUT_FROM else self.cut(v, box, cons)
        parts = [(k, k) for k in range(a, b + 1)] if b - a < 4 else [(a, mid), (mid + 1, b)]
        for part in parts:
            child = box.copy()
            child[v] = part
            yield child

    def cut(self, v: int, box: Box, cons: Sequence[int]) -> int:
        """The last index of the lower part when splitting the grid interval of `v`."""
        a, b = box[v]
        mid: int = (a + b) // 2
        best, distance = mid, None
        for c in cons:
            for terms in self.cons[c].atoms:
                for t in thresholds(terms, v, box):
                    for k in (t - 1, t, t + 1):
                        if a <= k < b and (distance is None or abs(k - mid) < distance):
                            best, distance = k, abs(k - mid)
        return best

    # -- counting ---------------------------------------------------------------------

    def count(self, vars: Sequence[int], cons: Sequence[int], box: Box) -> Tally:
        """Count the feasible points of `box` over `vars` under constraints `cons`."""
        if self.depth >= MAX_DEPTH:
            self.limit = self.nodes
        if self.nodes >= self.limit:
            return self.unknown(vars, box)
        self.nodes += 1
        remaining = self.evaluate(cons, box)
        if remaining is None:
            return UNSAT
        free, comps = self.split(vars, remaining, box)
        tally = self.full(free, box)
        for cvars, ccons in comps:
            tally = multiply(tally, self.count_component(cvars, ccons, box))
            if tally.sat is False:
                return UNSAT
        return tally

    def count_component(self, vars: tuple[int, ...], cons: tuple[int, ...], box: Box) -> Tally:
        key = self.key(cons, box)
        hit = self.counts.get(key)
        if hit is not None:
            return hit
        fast = self.grid_count(vars, cons, box)
        if fast is not None:
            result = fast
        elif all(self.ivars[v].shape == REAL for v in vars):
            witness = self.real_search(cons, box)
            result = UNSAT if witness is False else Tally(None, witness is not None)
            if witness is None:
                result = Tally(None, None, done=False)
        else:
            result = UNSAT
            self.depth += 1
            for child in self.children(self.choose(vars, cons), box, cons):
                result = add(result, self.count(vars, cons, child))
            self.depth -= 1
        if result.done:
            self.counts[key] = result
        return result

    def grid(self, vars: tuple[int, ...], cons: tuple[int, ...], box: Box) -> GridCount | None:
        """The linear fast path (linear.py), when every constraint qualifies."""
        if not applies(self.ivars, vars):
            return None
        infos = [self.cons[c].linear for c in cons]
        if any(info is None for info in infos):
            return None
        found = count_grid(infos, vars, box, self.limit - self.nodes)  # type: ignore[arg-type]
        if found is not None:
            self.nodes += found.work
        return found

    def grid_count(self, vars: tuple[int, ...], cons: tuple[int, ...], box: Box) -> Tally | None:
        found = self.grid(vars, cons, box)
        if found is None:
            return None
        if not found.count:
            return UNSAT
        support = {
            v: from_intervals(self.ivars[v], ints)
            for v, ints in zip(vars, found.alive, strict=True)
        }
        return Tally(found.count, True, support, dict(support))

    # -- witnesses --------------------------------------------------------------------

    def find(self, vars: Sequence[int], cons: Sequence[int], box: Box) -> Box | bool | None:
        """A box where every constraint holds everywhere, False if none, None if unknown."""
        if self.depth >= MAX_DEPTH:
            self.limit = self.nodes
        if self.nodes >= self.limit:
            return None
        self.nodes += 1
        remaining = self.evaluate(cons, box)
        if remaining is None:
            return False
        _, comps = self.split(vars, remaining, box)
        witness, unknown = box, False
        for cvars, ccons in comps:
            found = self.find_component(cvars, ccons, box)
            if found is False:
                return False
            if not isinstance(found, list):
                unknown = True
                continue
            if witness is box:
                witness = box.copy()
            for v in cvars:
                witness[v] = found[v]
        return None if unknown else witness

    def find_component(
        self, vars: tuple[int, ...], cons: tuple[int, ...], box: Box
    ) -> Box | bool | None:
        key = self.key(cons, box)
        hit = self.counts.get(key)
        if key in self.failures or (hit is not None and hit.sat is False):
            return False
        fast = self.grid(vars, cons, box)
        if fast is not None:
            if fast.first is None:
                return False
            witness = box.copy()
            for v, k in zip(vars, fast.first, strict=True):
                witness[v] = (k, k)
            return witness
        if all(self.ivars[v].shape == REAL for v in vars):
            return self.real_search(cons, box)
        unknown = False
        self.depth += 1
        try:
            for child in self.children(self.choose(vars, cons), box, cons):
                found = self.find(vars, cons, child)
                if isinstance(found, list):
                    return found
                unknown = unknown or found is None
        finally:
            self.depth -= 1
        if not unknown:
            self.failures.add(key)
        return None if unknown else False

    def real_search(self, cons: tuple[int, ...], box: Box) -> Box | bool | None:
        """Breadth-first bisection over continuous variables, within `real_nodes` boxes."""
        queue = deque([box])
        explored = 0
        while queue:
            if explored >= self.real_nodes or self.nodes >= self.limit:
                return None
            current = queue.popleft()
            explored += 1
            self.nodes += 1
            remaining = self.evaluate(cons, current)
            if remaining is None:
                continue
            if not remaining:
                return current
            ivars = self.ivars
            v = max(
                {
                    v
                    for c in remaining
                    for v in self.cons[c].scope
                    if ivars[v].shape == REAL and not ivars[v].fixed(current[v])
                },
                key=lambda v: (current[v][1] - current[v][0]) / (ivars[v].hi - ivars[v].lo),
            )
            lo, hi = current[v]
            mid = (lo + hi) / 2
            for part in ((lo, mid), (mid, hi)):
                child = current.copy()
                child[v] = part
                queue.append(child)
        return False


def to_support(iv: IVar, entry: Any) -> Any:
    if iv.shape == ENUM:
        return entry
    a, b = entry
    if iv.n <= BITSET_LIMIT:
        return ((1 << (b - a + 1)) - 1) << a
    return [(a, b)]


def from_intervals(iv: IVar, ints: list[tuple[int, int]]) -> Any:
    """The support of a grid variable made of ascending disjoint index intervals."""
    if iv.n > BITSET_LIMIT:
        return ints
    mask = 0
    for a, b in ints:
        mask |= ((1 << (b - a + 1)) - 1) << a
    return mask


def full_support(iv: IVar) -> Any:
    return to_support(iv, iv.root())


def pick(iv: IVar, entry: Any) -> Any:
    """A representative point of a box entry: lowest atom or index, or a real's lower end."""
    if iv.shape == ENUM:
        return (entry & -entry).bit_length() - 1
    return entry[0]
