"""Brute-force reference for the space solver, independent of its search and reasoning.

Only the semantics of one configuration (`holds`, `evaluate`) is shared with the solver:
that is the definition being solved. Domains are listed here from their definitions.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from dspx_lang.space.solve import (
    AnyConstraint,
    BoolDomain,
    Candidate,
    Choice,
    ConfigValue,
    Constraint,
    DeadValue,
    FloatRange,
    IntRange,
    Opaque,
    Var,
)
from dspx_lang.space.solve.values import UNDEF, holds, key, norm
from dspx_lang.space.solve.values import truth as truth_value


def domain_values(var: Var) -> list[ConfigValue]:
    """Every value of a finite domain, in domain order."""
    dom = var.domain
    if isinstance(dom, BoolDomain):
        return [False, True]
    if isinstance(dom, Choice):
        seen: dict[object, ConfigValue] = {}
        for value in dom.values:
            seen.setdefault(key(norm(value)), value)  # type: ignore[arg-type]
        return list(seen.values())
    if isinstance(dom, IntRange):
        return list(range(dom.lo, dom.hi + 1))
    if isinstance(dom, Opaque):
        assert dom.size is not None
        return [var.default, *(Candidate(var.name, k) for k in range(1, dom.size))]
    assert isinstance(dom, FloatRange)
    assert dom.step is not None
    lo, step, hi = Decimal(repr(dom.lo)), Decimal(repr(dom.step)), Decimal(repr(dom.hi))
    out: list[ConfigValue] = []
    k = 0
    while lo + k * step <= hi:
        out.append(float(lo + k * step))
        k += 1
    return out


def configs(vars: Sequence[Var]) -> Iterator[dict[str, ConfigValue]]:
    names = [v.name for v in vars]
    for combo in itertools.product(*(domain_values(v) for v in vars)):
        yield dict(zip(names, combo, strict=True))


def satisfied(c: AnyConstraint, config: dict[str, ConfigValue]) -> bool:
    if isinstance(c, Constraint):
        return holds(c.expr, config)
    return bool(c.fn({name: config[name] for name in c.vars}))


def undefined_at(c: AnyConstraint, config: dict[str, ConfigValue]) -> bool:
    if not isinstance(c, Constraint):
        return False
    return truth_value(c.expr, {k: norm(v) for k, v in config.items()}) is UNDEF


@dataclass
class Truth:
    """Everything the solver must report, computed by enumeration."""

    all: list[dict[str, ConfigValue]]
    feasible: list[dict[str, ConfigValue]]
    violations: set[int]
    redundant: set[int]
    undefined: set[int]
    dead: set[tuple[str, object]]


def same_value(a: ConfigValue, b: ConfigValue) -> bool:
    return key(norm(a)) == key(norm(b))  # type: ignore[arg-type]


def brute(vars: Sequence[Var], constraints: Sequence[AnyConstraint]) -> Truth:
    everything = list(configs(vars))
    feasible = [x for x in everything if all(satisfied(c, x) for c in constraints)]
    default = {v.name: v.default for v in vars}
    dead: set[tuple[str, object]] = set()
    if feasible:
        for v in vars:
            for value in domain_values(v):
                if not any(same_value(x[v.name], value) for x in feasible):
                    dead.add((v.name, key(norm(value))))  # type: ignore[arg-type]
    return Truth(
        all=everything,
        feasible=feasible,
        violations={c.id for c in constraints if not satisfied(c, default)},
        redundant={c.id for c in constraints if all(satisfied(c, x) for x in everything)},
        undefined={c.id for c in constraints if any(undefined_at(c, x) for x in everything)},
        dead=dead,
    )


def expand_dead(vars: Sequence[Var], entry: DeadValue) -> list[ConfigValue]:
    """The domain values a `DeadValue` entry covers."""
    var = next(v for v in vars if v.name == entry.var)
    values = domain_values(var)
    start = next(i for i, x in enumerate(values) if same_value(x, entry.value))
    if entry.last is None:
        return [values[start]]
    end = next(i for i, x in enumerate(values) if same_value(x, entry.last))
    return values[start : end + 1]


def satisfiable_with(
    vars: Sequence[Var],
    constraints: Sequence[AnyConstraint],
    ids: Sequence[int],
    fixed: tuple[str, list[ConfigValue]] | None = None,
) -> bool:
    """Whether the constraints `ids` have a common solution (optionally with a var restricted)."""
    chosen = [c for c in constraints if c.id in ids]
    for x in configs(vars):
        if fixed is not None and not any(same_value(x[fixed[0]], v) for v in fixed[1]):
            continue
        if all(satisfied(c, x) for c in chosen):
            return True
    return False
