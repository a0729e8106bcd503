"""Property tests: on random finite spaces the solver equals brute-force enumeration."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from space_reference import (
    Truth,
    brute,
    domain_values,
    expand_dead,
    same_value,
    satisfiable_with,
    satisfied,
    undefined_at,
)
from strategies import finite_spaces, linear_spaces, numeric_spaces

from dspx_lang.space.solve import (
    AnyConstraint,
    Arith,
    Cmp,
    Const,
    Constraint,
    FloatRange,
    Limits,
    Space,
    SpaceResult,
    Var,
)
from dspx_lang.space.solve.values import key, norm

SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Table size 0 forces interval/linear reasoning everywhere; 256 tabulates small scopes.
TABLES = st.sampled_from([0, 2, 256])


SPACES = st.one_of(finite_spaces(), numeric_spaces(), linear_spaces())


@SETTINGS
@given(SPACES, TABLES)
@example(  # a constraint without variables that is undefined everywhere: its witness is empty
    (
        [Var("n0", FloatRange(0.0, 0.0, step=0.1), 0.0)],
        [Constraint(1, Cmp("==", Const(-1), Arith("/", Const(-1), Const(0))))],
    ),
    0,
)
def test_analysis_equals_brute_force(
    space: tuple[list[Var], list[AnyConstraint]], table_size: int
) -> None:
    vars, cons = space
    result = Space(vars, cons, Limits(table_size=table_size)).analyze()
    ref = brute(vars, cons)

    assert result.complete
    assert result.total_size == len(ref.all)
    assert result.size == len(ref.feasible)
    assert result.satisfiable is bool(ref.feasible)
    assert set(result.default_violations) == ref.violations
    assert set(result.redundant) == ref.redundant
    assert {u.constraint for u in result.undefined} == ref.undefined
    assert result.undecided == ()
    defaults = {v.name: v.default for v in vars}
    for u in result.undefined:
        c = next(c for c in cons if c.id == u.constraint)
        assert undefined_at(c, {**defaults, **dict(u.witness)})

    reported = {
        (d.var, key(norm(value)))  # type: ignore[arg-type]
        for d in result.dead_values
        for value in expand_dead(vars, d)
    }
    assert reported == ref.dead
    ids = [c.id for c in cons]
    for d in result.dead_values:
        covered = expand_dead(vars, d)
        assert not satisfiable_with(vars, cons, d.killers, (d.var, covered))
        for k in d.killers:
            rest = [i for i in d.killers if i != k]
            assert satisfiable_with(vars, cons, rest, (d.var, covered)), (d, k)

    if ref.feasible:
        assert result.core == ()
    else:
        assert not satisfiable_with(vars, cons, result.core)
        for k in result.core:
            assert satisfiable_with(vars, cons, [i for i in result.core if i != k])
        assert set(result.core) <= set(ids)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(finite_spaces(), TABLES)
def test_enumeration_and_feasibility_equal_brute_force(
    space: tuple[list[Var], list[AnyConstraint]], table_size: int
) -> None:
    vars, cons = space
    solver = Space(vars, cons, Limits(table_size=table_size))
    ref = brute(vars, cons)
    listed = list(solver.iter_feasible())
    assert len(listed) == len(ref.feasible)
    for got, want in zip(listed, ref.feasible, strict=True):
        assert all(same_value(got[v.name], want[v.name]) for v in vars)
    for config in ref.all[:50]:
        assert solver.is_feasible(config) == all(satisfied(c, config) for c in cons)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(finite_spaces(), st.integers(0, 2**32))
def test_sampler_only_yields_feasible_configurations(
    space: tuple[list[Var], list[AnyConstraint]], seed: int
) -> None:
    vars, cons = space
    solver = Space(vars, cons)
    if not solver.analyze().satisfiable:
        return
    for config in solver.sample_feasible(random.Random(seed), 20):
        assert solver.is_feasible(config)
        for v in vars:
            assert any(same_value(config[v.name], x) for x in domain_values(v))


def _check_sound(vars: list[Var], cons: list[AnyConstraint], result: SpaceResult) -> Truth:
    """Every claim the result makes is true (whatever it left undecided)."""
    ref = brute(vars, cons)
    assert set(result.default_violations) == ref.violations
    if result.size is not None:
        assert result.size == len(ref.feasible)
    if result.satisfiable is not None:
        assert result.satisfiable is bool(ref.feasible)
    if result.satisfiable is False:
        assert not satisfiable_with(vars, cons, result.core)
    assert set(result.redundant) <= ref.redundant
    defaults = {v.name: v.default for v in vars}
    for u in result.undefined:
        c = next(c for c in cons if c.id == u.constraint)
        assert undefined_at(c, {**defaults, **dict(u.witness)})
    for d in result.dead_values:
        covered = expand_dead(vars, d)
        # A value is dead when no feasible configuration has it (vacuous if none exists).
        assert not ref.feasible or {(d.var, key(norm(x))) for x in covered} <= ref.dead  # type: ignore[arg-type]
        assert not satisfiable_with(vars, cons, d.killers, (d.var, covered))
    return ref


@SETTINGS
@given(SPACES, st.integers(0, 40), st.booleans(), TABLES)
def test_claims_stay_true_when_work_runs_out(
    space: tuple[list[Var], list[AnyConstraint]], nodes: int, smt: bool, table_size: int
) -> None:
    vars, cons = space
    limits = Limits(
        count_nodes=nodes, check_nodes=nodes // 4, total_nodes=nodes, smt=smt, table_size=table_size
    )
    result = Space(vars, cons, limits).analyze()
    ref = _check_sound(vars, cons, result)
    if result.complete:
        assert result.size == len(ref.feasible)
        assert set(result.redundant) == ref.redundant


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(finite_spaces())
def test_z3_alone_equals_brute_force(space: tuple[list[Var], list[AnyConstraint]]) -> None:
    """With no search budget at all, every answer comes from the z3 encoding."""
    vars, cons = space
    limits = Limits(count_nodes=0, check_nodes=0, total_nodes=0)
    result = Space(vars, cons, limits).analyze()
    ref = _check_sound(vars, cons, result)
    if not result.undecided:
        assert result.satisfiable is bool(ref.feasible)
        assert set(result.redundant) == ref.redundant
        assert {u.constraint for u in result.undefined} == ref.undefined
        reported = {
            (d.var, key(norm(x)))  # type: ignore[arg-type]
            for d in result.dead_values
            for x in expand_dead(vars, d)
        }
        assert reported == ref.dead
