"""`analyze_space()`: every static question about a `Space`, answered exactly or soundly.

Order of work (each step has its own node budget from `Limits`, and all of them
together stay within `Limits.total_nodes`):
1. Per constraint, over its own variables' domains: does it always hold (W306)? can it
   be undefined (with a witness)? Both look for a counterexample.
2. Per connected group of constraints: count feasible points and collect, per variable,
   the values that surely / maybe occur in a feasible configuration (search.py); z3
   settles what the search left open over continuous variables (oracle.py).
3. Unsatisfiable: a deletion-minimal core of the first unsatisfiable group (E303).
4. Otherwise: dead values = domain values outside the *maybe* support (so a claim is
   always certain), each with a deletion-minimal set of killing constraints (W305).
A constraint whose questions stay open is listed as undecided.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

from dspx_lang.space.solve.domains import ENUM, REAL, Box, IVar, bit_indices, runs
from dspx_lang.space.solve.model import (
    Candidate,
    ConfigValue,
    Constraint,
    DeadValue,
    FloatRange,
    SpaceResult,
    Undefined,
)
from dspx_lang.space.solve.oracle import Oracle, public_point
from dspx_lang.space.solve.problem import Space
from dspx_lang.space.solve.search import Tally, full_support
from dspx_lang.space.solve.values import UNDEF, T, U, norm, truth


def analyze_space(space: Space) -> SpaceResult:
    ivars, search, limits = space.ivars, space.search, space.limits
    defaults = {v.name: v.default for v in space.vars}
    common: dict[str, Any] = {
        "variable_count": len(ivars),
        "continuous_count": sum(
            isinstance(v.domain, FloatRange) and v.domain.step is None for v in space.vars
        ),
        "default_violations": tuple(
            sorted(
                c.id for pos, c in enumerate(space.constraints) if not space.holds(pos, defaults)
            )
        ),
        "default_outside": tuple(
            iv.name
            for iv, v in zip(ivars, space.vars, strict=True)
            if iv.empty or iv.locate(v.default) is None
        ),
        "empty_domains": space.empty,
    }
    if space.empty:
        return SpaceResult(
            size=0,
            total_size=0,
            satisfiable=False,
            core=(),
            dead_values=(),
            redundant=(),
            undefined=(),
            undecided=(),
            complete=True,
            **common,
        )
    sizes = [iv.size() for iv in ivars]
    total = None if None in sizes else math.prod(s for s in sizes if s is not None)
    root = space.root_box()
    oracle = Oracle(space, search.nodes + limits.total_nodes)
    redundant, undefined, undecided = _per_constraint(space, oracle, root)

    search.budget(limits.count_nodes, oracle.cap)
    tallies = [search.count(g.vars, g.decidable, root) for g in space.groups]
    tallies = [oracle.settle(g, t, root) for g, t in zip(space.groups, tallies, strict=True)]
    sats: list[bool | None] = []
    for g, t in zip(space.groups, tallies, strict=True):
        if not t.done:
            undecided.update(space.constraints[space.position_of[c]].id for c in g.decidable)
        sats.append(None if t.sat and g.undecidable else t.sat)
    satisfiable = False if False in sats else (True if all(sats) else None)

    exact = True
    core: tuple[int, ...] = ()
    dead: list[DeadValue] = []
    size: int | None = 0
    if satisfiable is False:
        g = space.groups[sats.index(False)]
        positions = [space.position_of[c] for c in g.decidable]
        found, exact = minimal_core(oracle, g.vars, positions, root)
        core = tuple(sorted(space.constraints[p].id for p in found))
    else:
        for g, t in zip(space.groups, tallies, strict=True):
            positions = [space.position_of[c] for c in g.decidable]
            for v in g.vars:
                if ivars[v].shape == REAL:
                    continue
                for entry in dead_entries(ivars[v], t.maybe[v]):
                    box = root.copy()
                    box[v] = entry
                    found, ok = minimal_core(oracle, g.vars, positions, box)
                    exact = exact and ok
                    killers = tuple(sorted(space.constraints[p].id for p in found))
                    dead.append(dead_value(ivars[v], entry, killers))
        size = _size(space, tallies, total, sizes)
    return SpaceResult(
        size=size,
        total_size=total,
        satisfiable=satisfiable,
        core=core,
        dead_values=tuple(dead),
        redundant=tuple(sorted(redundant)),
        undefined=tuple(sorted(undefined, key=lambda u: u.constraint)),
        undecided=tuple(sorted(undecided)),
        complete=exact and not undecided and (size is not None or total is None),
        **common,
    )


def _size(
    space: Space, tallies: Sequence[Tally], total: int | None, sizes: Sequence[int | None]
) -> int | None:
    """Product of the groups' counts and the sizes of unconstrained variables."""
    if total is None:
        return None
    factors = [
        None if g.undecidable else t.count for g, t in zip(space.groups, tallies, strict=True)
    ]
    grouped = {v for g in space.groups for v in g.vars}
    factors += [sizes[v] for v in range(len(space.ivars)) if v not in grouped]
    out = 1
    for f in factors:
        if f is None:
            return None
        out *= f
    return out


def _per_constraint(
    space: Space, oracle: Oracle, root: Box
) -> tuple[list[int], list[Undefined], set[int]]:
    """Tautologies, undefined witnesses, and constraints where a check did not finish."""
    redundant: list[int] = []
    undefined: list[Undefined] = []
    undecided: set[int] = set()
    for pos, c in enumerate(space.constraints):
        if pos not in space.con_of:
            undecided.add(c.id)
            continue
        out = space.search.cons[space.con_of[pos]].fn(root)
        if out == T:
            redundant.append(c.id)
        elif out & T:
            found = oracle.counterexample(pos, False, root)
            if found is False:
                redundant.append(c.id)
            elif found is None:
                undecided.add(c.id)
        if out & U:
            found = oracle.counterexample(pos, True, root)
            witness: tuple[tuple[str, ConfigValue], ...] = ()
            if isinstance(found, dict):
                witness = tuple(
                    (space.ivars[v].name, public_point(space.ivars[v], k)) for v, k in found.items()
                )
            # A witness rounded from an irrational solution may miss; then report none.
            # An empty witness is right for a constraint with no variables (`1 / 0 == 1`).
            if isinstance(found, dict) and _undefined_at(space, pos, dict(witness)):
                undefined.append(Undefined(c.id, witness))
            elif found is not False:
                undecided.add(c.id)
    return redundant, undefined, undecided


def _undefined_at(space: Space, position: int, witness: dict[str, ConfigValue]) -> bool:
    c = space.constraints[position]
    env = {name: norm(value) for name, value in witness.items()}
    try:
        return isinstance(c, Constraint) and truth(c.expr, env) is UNDEF
    except KeyError:  # the witness does not name every variable: it proves nothing
        return False


def minimal_core(
    oracle: Oracle, vars: Sequence[int], positions: Sequence[int], box: Box
) -> tuple[tuple[int, ...], bool]:
    """A deletion-minimal subset of `positions` (known to have no solution in `box`).

    Returns the subset and whether every step was decided (else it still has no
    solution, but may not be minimal).
    """
    search, space = oracle.search, oracle.space
    for p in positions:
        if not search.cons[space.con_of[p]].fn(box) & T:
            return (p,), True
    core = list(positions)
    exact = True
    i = 0
    while i < len(core):
        trial = core[:i] + core[i + 1 :]
        found = oracle.satisfiable(trial, box, vars)
        if found is False:
            core = trial
        else:
            exact = exact and found is not None
            i += 1
    return tuple(core), exact


def dead_entries(iv: IVar, alive: Any) -> Iterator[Any]:
    """Box entries (an atom's bit, or a maximal index run) outside the support `alive`."""
    if iv.shape == ENUM:
        for i in bit_indices(full_support(iv) & ~alive):
            yield 1 << i
    elif isinstance(alive, int):
        yield from runs(full_support(iv) & ~alive)
    else:
        start = 0
        for lo, hi in alive:
            if lo > start:
                yield (start, lo - 1)
            start = hi + 1
        if start < iv.n:
            yield (start, iv.n - 1)


def dead_value(iv: IVar, entry: Any, killers: tuple[int, ...]) -> DeadValue:
    if iv.shape == ENUM:
        i = entry.bit_length() - 1
        value = iv.publics[i]
        size = iv.opaque_size
        last: ConfigValue | None = None
        if isinstance(value, Candidate) and size is not None and size > 2:
            last = Candidate(iv.name, size - 1)
        return DeadValue(iv.name, value, last, iv.weights[i], killers)
    a, b = entry
    return DeadValue(iv.name, iv.public(a), iv.public(b) if b > a else None, b - a + 1, killers)
