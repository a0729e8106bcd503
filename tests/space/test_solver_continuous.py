"""Continuous domains: the solver never claims what a sampled witness refutes."""

from __future__ import annotations

import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from space_reference import domain_values, same_value, satisfied, undefined_at
from strategies import NUMS, continuous_spaces

from dspx_lang.space.solve import (
    AnyConstraint,
    ConfigValue,
    FloatRange,
    Limits,
    Space,
    Var,
)


def _points(var: Var, rng: random.Random) -> list[ConfigValue]:
    """Finite domains fully; a continuous range at its ends, middle, constants and randomly."""
    dom = var.domain
    if not isinstance(dom, FloatRange) or dom.step is not None:
        return domain_values(var)
    inside = [float(x) for x in NUMS if dom.lo <= float(x) <= dom.hi]  # type: ignore[arg-type]
    randoms = [rng.uniform(dom.lo, dom.hi) for _ in range(3)]
    return list(sorted({dom.lo, dom.hi, (dom.lo + dom.hi) / 2, *inside, *randoms}))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(continuous_spaces(), st.booleans(), st.integers(0, 2**32))
def test_no_claim_contradicts_a_sampled_witness(
    space: tuple[list[Var], list[AnyConstraint]], smt: bool, seed: int
) -> None:
    vars, cons = space
    result = Space(vars, cons, Limits(smt=smt)).analyze()
    rng = random.Random(seed)
    names = [v.name for v in vars]
    points = [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*(_points(v, rng) for v in vars))
    ]
    assert result.size is None or result.size == 0
    dead = {(d.var, repr(d.value)) for d in result.dead_values}
    for point in points:
        holding = {c.id for c in cons if satisfied(c, point)}
        for cid in result.redundant:
            assert cid in holding, (cid, point)
        if len(holding) == len(cons):
            assert result.satisfiable is not False, point
            for name, value in point.items():
                assert (name, repr(value)) not in dead, (name, value)
        if result.satisfiable is False:
            assert not set(result.core) <= holding, point
        for d in result.dead_values:
            if same_value(point[d.var], d.value):
                assert not set(d.killers) <= holding, (d, point)
    defaults = {v.name: v.default for v in vars}
    for u in result.undefined:
        c = next(c for c in cons if c.id == u.constraint)
        assert undefined_at(c, {**defaults, **dict(u.witness)})
