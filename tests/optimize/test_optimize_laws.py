"""Laws of the pure parts: Pareto fronts and the weighted choice, value encoding and keys."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st
from optimize_kit import VARS, feasible_configs

from dspx_lang.optimize import Objective, TrialRecord
from dspx_lang.optimize.codec import (
    config_from_key,
    config_key,
    decode,
    distributions,
    encode,
)
from dspx_lang.optimize.pareto import choose, dominates, front, scalarize, weights
from dspx_lang.space.solve import Candidate, ConfigValue, FloatRange, Opaque, Sym, Var

OBJECTIVES = (
    Objective("acc", "maximize", 0.5),
    Objective("cost", "minimize", 0.3),
    Objective("latency", "minimize", 0.2),
)

values = st.floats(min_value=-100, max_value=100, allow_nan=False).map(lambda x: round(x, 3))


@st.composite
def records(draw: st.DrawFn) -> list[TrialRecord]:
    n = draw(st.integers(min_value=0, max_value=25))
    out = []
    for number in range(n):
        over = draw(st.booleans()) and draw(st.booleans())
        out.append(
            TrialRecord(
                number=number,
                config={},
                key=str(number),
                status="ok",
                values={o.name: draw(values) for o in OBJECTIVES},
                violations={"cost": 0.5 if over else -0.1},
            )
        )
    return out


def oriented(r: TrialRecord) -> tuple[float, ...]:
    return tuple(r.values[o.name] * (1 if o.direction == "maximize" else -1) for o in OBJECTIVES)


@given(records())
def test_the_front_is_exactly_the_undominated_feasible_records(rs: list[TrialRecord]) -> None:
    members = front(rs, OBJECTIVES)
    feasible = [r for r in rs if r.feasible]
    assert all(r.feasible for r in members)
    for r in feasible:
        dominated = any(dominates(oriented(o), oriented(r)) for o in feasible)
        assert (r in members) != dominated


@given(records())
def test_the_choice_is_the_best_scored_member_of_the_front(rs: list[TrialRecord]) -> None:
    best, members, scored = choose(rs, OBJECTIVES)
    feasible_scores = [r.score for r in scored if r.feasible]
    assert all(r.score is None for r in scored if not r.feasible)
    if not feasible_scores:
        assert best is None
        return
    assert best is not None
    assert best.number in {m.number for m in members}
    assert all(0.0 <= s <= 1.0 + 1e-9 for s in feasible_scores if s is not None)
    assert best.score == max(s for s in feasible_scores if s is not None)


@given(st.lists(st.floats(min_value=0, max_value=10, allow_nan=False), min_size=1, max_size=6))
def test_weights_are_normalised(ws: list[float]) -> None:
    objectives = [Objective(f"o{i}", "maximize", w) for i, w in enumerate(ws)]
    normalised = weights(objectives)
    assert math.isclose(sum(normalised), 1.0)
    if sum(ws) > 0:
        assert all(
            math.isclose(n * sum(ws), w, abs_tol=1e-9) for n, w in zip(normalised, ws, strict=True)
        )


def test_scalarisation_orients_and_scales_each_objective() -> None:
    objectives = (Objective("acc", "maximize", 3, scale=1), Objective("cost", "minimize", 1, 0.01))
    assert scalarize({"acc": 0.8, "cost": 0.02}, objectives) == 0.75 * 0.8 - 0.25 * 2


@given(st.sampled_from(feasible_configs()), st.sampled_from(feasible_configs()))
def test_keys_identify_configurations(a: dict[str, ConfigValue], b: dict[str, ConfigValue]) -> None:
    assert (config_key(VARS, a) == config_key(VARS, b)) == (a == b)
    assert config_from_key(VARS, config_key(VARS, a)) == a


def test_every_domain_value_survives_encoding_and_is_a_valid_optuna_value() -> None:
    instr = Var("instr", Opaque(4), Sym("<default instructions>"))
    dists = distributions((*VARS, instr))
    for config in feasible_configs():
        for var in VARS:
            raw = encode(var, config[var.name])
            assert decode(var, raw) == config[var.name]
            assert dists[var.name]._contains(dists[var.name].to_internal_repr(raw))
    for value in (instr.default, Candidate("instr", 1), Candidate("instr", 3)):
        assert decode(instr, encode(instr, value)) == value


@given(st.integers(min_value=0, max_value=20), st.floats(min_value=-1e-9, max_value=1e-9))
def test_stepped_floats_snap_onto_the_solvers_grid(k: int, noise: float) -> None:
    var = Var("t", FloatRange(0.1, 2.1, step=0.1), 0.1)
    grid = [round(0.1 + i * 0.1, 10) for i in range(21)]
    assert decode(var, 0.1 + k * 0.1 + noise) == grid[k]
