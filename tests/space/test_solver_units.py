"""Unit tests of the space solver: semantics corner cases, big and opaque domains, APIs."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pytest

from dspx_lang.space.solve import (
    And,
    Arith,
    Candidate,
    Choice,
    Cmp,
    ConfigValue,
    Const,
    Constraint,
    Expr,
    FloatRange,
    Implies,
    In,
    InfiniteSpaceError,
    IntRange,
    Limits,
    Not,
    Opaque,
    Predicate,
    Ref,
    SamplingError,
    Space,
    SpaceInputError,
    Sym,
    Var,
    analyze,
    holds,
)

S = Sym
MODELS = Var("model", Choice((S("mini"), S("big"), S("local"))), S("mini"))
MODULES = Var("module", Choice((S("predict"), S("cot"), S("react"))), S("predict"))
DEMOS = Var("demos", IntRange(0, 16), 0)


def eq(name: str, value: str) -> Cmp:
    return Cmp("==", Ref(name), Const(S(value)))


# -- semantics -----------------------------------------------------------------------


def test_kinds_never_equal_across_kinds() -> None:
    config: dict[str, ConfigValue] = {"b": True, "n": 1, "s": "cot", "y": S("cot")}
    assert not holds(Cmp("==", Ref("b"), Ref("n")), config)
    assert not holds(Cmp("==", Ref("s"), Ref("y")), config)
    assert holds(Cmp("!=", Ref("s"), Ref("y")), config)
    assert holds(Cmp("==", Const(1.0), Ref("n")), config)


def test_decimal_arithmetic_hits_grid_points() -> None:
    config: dict[str, ConfigValue] = {"t": 0.3}
    assert holds(Cmp("==", Arith("+", Const(0.1), Const(0.2)), Ref("t")), config)
    t = Var("t", FloatRange(0.0, 1.0, step=0.1), 0.0)
    result = analyze([t], [Constraint(1, Cmp("==", Arith("*", Ref("t"), Const(10)), Const(3)))])
    assert result.total_size == 11
    assert result.size == 1


def test_division_by_zero_is_undefined_and_violates() -> None:
    x, y = Var("x", IntRange(0, 3), 1), Var("y", IntRange(0, 3), 0)
    ratio = Cmp(">", Arith("/", Ref("x"), Ref("y")), Const(1))
    result = analyze([x, y], [Constraint(1, ratio)])
    # x/y > 1 with y in 1..3: (2,1) (3,1) (3,2)
    assert result.size == 3
    assert result.default_violations == (1,)
    (undefined,) = result.undefined
    assert dict(undefined.witness)["y"] == 0
    guarded = Implies(Cmp("!=", Ref("y"), Const(0)), ratio)
    result = analyze([x, y], [Constraint(1, guarded)])
    assert result.undefined == ()
    assert result.size == 3 + 4  # plus every x with y == 0


def test_kleene_guards() -> None:
    undefined = Cmp(">", Arith("/", Const(1), Const(0)), Const(0))
    assert not holds(undefined, {})
    assert not holds(Not(undefined), {})
    assert holds(Implies(Const(False), undefined), {})
    assert not holds(And(Const(True), undefined), {})


def test_incompatible_comparisons_are_reported_not_raised() -> None:
    ordered = analyze([MODELS], [Constraint(7, Cmp("<", Ref("model"), Const(3)))])
    assert ordered.satisfiable is False
    assert ordered.core == (7,)
    assert [u.constraint for u in ordered.undefined] == [7]
    equal = analyze([MODELS], [Constraint(1, Cmp("!=", Ref("model"), Const(3)))])
    assert equal.redundant == (1,)
    assert equal.undefined == ()


def test_non_finite_constants_are_undefined() -> None:
    result = analyze([DEMOS], [Constraint(1, Cmp("<", Ref("demos"), Const(math.inf)))])
    assert result.satisfiable is False
    assert [u.constraint for u in result.undefined] == [1]


# -- domains -------------------------------------------------------------------------


def test_huge_int_range_is_never_enumerated() -> None:
    x = Var("x", IntRange(0, 1_000_000_000), 0)
    space = Space([x, MODELS], [Constraint(1, Cmp("<=", Ref("x"), Const(500)))])
    result = space.analyze()
    assert result.total_size == 1_000_000_001 * 3
    assert result.size == 501 * 3
    (dead,) = result.dead_values
    assert (dead.value, dead.last, dead.count, dead.killers) == (
        501,
        1_000_000_000,
        999_999_500,
        (1,),
    )
    assert dead.describe() == "x 501..1000000000"
    assert space.search.nodes < 500


def test_astronomic_ranges_and_hard_relations_stay_bounded() -> None:
    x, y = Var("x", IntRange(0, 10**30), 0), Var("y", IntRange(0, 10**30), 0)
    limits = Limits(count_nodes=2_000, check_nodes=500, total_nodes=4_000)
    space = Space([x, y], [Constraint(1, Cmp("==", Ref("x"), Ref("y")))], limits)
    result = space.analyze()
    assert result.satisfiable is True
    assert result.size is None
    assert result.dead_values == ()
    assert result.undecided == (1,)
    assert not result.complete
    assert space.search.nodes <= 4_000 + 2 * limits.real_nodes


def test_malformed_domains_are_empty() -> None:
    result = analyze(
        [Var("a", IntRange(5, 1), 5), Var("b", FloatRange(0.0, 1.0, step=0.0), 0.0), DEMOS], []
    )
    assert result.empty_domains == ("a", "b")
    assert (result.size, result.satisfiable, result.core) == (0, False, ())


def test_default_outside_domain() -> None:
    result = analyze(
        [Var("demos", IntRange(0, 4), 9), Var("t", FloatRange(0, 1, step=0.25), 0.3)], []
    )
    assert result.default_outside == ("demos", "t")


def test_constant_constraint() -> None:
    result = analyze([DEMOS], [Constraint(4, Cmp("<", Const(2), Const(1)))])
    assert (result.satisfiable, result.core, result.size) == (False, (4,), 0)


def test_opaque_candidates_count_and_die_together() -> None:
    instr = Var("instr", Opaque(5), "Answer briefly.")
    result = analyze(
        [instr, MODULES],
        [
            Constraint(
                1, Implies(eq("module", "react"), Cmp("==", Ref("instr"), Const("Answer briefly.")))
            )
        ],
    )
    assert result.total_size == 15
    assert result.size == 2 * 5 + 1
    keep = analyze([instr], [Constraint(1, Cmp("==", Ref("instr"), Const("Answer briefly.")))])
    (dead,) = keep.dead_values
    assert (dead.value, dead.last, dead.count) == (Candidate("instr", 1), Candidate("instr", 4), 4)


def test_opaque_of_unknown_size_is_infinite_but_never_a_false_error() -> None:
    instr = Var("instr", Opaque(None), "base")
    result = analyze([instr, DEMOS], [Constraint(1, Cmp("!=", Ref("instr"), Const("base")))])
    assert (result.total_size, result.size) == (None, None)
    assert result.satisfiable is True
    assert result.dead_values == (result.dead_values[0].__class__("instr", "base", None, 1, (1,)),)


# -- predicates ----------------------------------------------------------------------


PRICE = {"mini": 1, "big": 10, "local": 0}


def cost(values: Mapping[str, ConfigValue]) -> bool:
    model, demos = values["model"], values["demos"]
    assert isinstance(model, Sym)
    assert isinstance(demos, int)
    return PRICE[model.name] * (1 + demos) <= 40


def test_budget_predicate_prunes_and_kills() -> None:
    result = analyze(
        [MODELS, DEMOS],
        [Predicate(2, ("model", "demos"), cost), Constraint(3, Cmp("<=", Ref("demos"), Const(8)))],
    )
    # mini: demos 0..8 (9), big: demos 0..3 (4), local: 0..8 (9)
    assert result.size == 22
    assert [d.describe() for d in result.dead_values] == ["demos 9..16"]
    assert result.dead_values[0].killers == (3,)


def test_predicate_alone_makes_unsat_core() -> None:
    never = Predicate(5, ("model",), lambda values: False)
    result = analyze([MODELS, DEMOS], [never, Constraint(1, Cmp(">=", Ref("demos"), Const(0)))])
    assert (result.satisfiable, result.core, result.redundant) == (False, (5,), (1,))


def test_predicate_over_undecidable_variable() -> None:
    t = Var("t", FloatRange(0.0, 2.0), 0.5)
    calls: list[object] = []

    def fn(values: Mapping[str, ConfigValue]) -> bool:
        calls.append(values["t"])
        value = values["t"]
        assert isinstance(value, float)
        return value < 1

    space = Space([t, MODELS], [Predicate(9, ("t",), fn)])
    result = space.analyze()
    assert result.undecided == (9,)
    assert result.satisfiable is None
    assert result.default_violations == ()
    assert calls == [0.5]
    assert not space.is_feasible({"t": 1.5, "model": S("mini")})


# -- unsatisfiable cores and dead values ------------------------------------------------


def test_minimal_core_names_only_the_conflict() -> None:
    result = analyze(
        [MODELS, MODULES, DEMOS],
        [
            Constraint(1, eq("module", "react")),
            Constraint(2, Cmp("<=", Ref("demos"), Const(8))),
            Constraint(3, Implies(eq("module", "react"), eq("model", "big"))),
            Constraint(4, Cmp("!=", Ref("model"), Const(S("big")))),
        ],
    )
    assert (result.satisfiable, result.core, result.size) == (False, (1, 3, 4), 0)


def test_dead_choice_value_with_two_killers() -> None:
    result = analyze(
        [MODELS, MODULES],
        [
            Constraint(1, Implies(eq("module", "react"), eq("model", "big"))),
            Constraint(2, Cmp("!=", Ref("model"), Const(S("big")))),
        ],
    )
    assert [(d.describe(), d.killers) for d in result.dead_values] == [
        ("model big", (2,)),
        ("module react", (1, 2)),
    ]


def test_redundant_is_a_tautology_over_domains() -> None:
    result = analyze(
        [DEMOS, MODULES],
        [
            Constraint(1, Cmp("<=", Ref("demos"), Const(16))),
            Constraint(2, In(Ref("module"), (S("predict"), S("cot"), S("react")))),
            Constraint(3, Cmp("<=", Ref("demos"), Const(8))),
            Constraint(4, Cmp("<=", Ref("demos"), Const(10))),
        ],
    )
    # 4 is implied by 3 but can fail inside the domains, so it is not a tautology.
    assert result.redundant == (1, 2)


def test_input_errors_are_typed() -> None:
    with pytest.raises(SpaceInputError, match="duplicate variable"):
        Space([DEMOS, DEMOS], [])
    with pytest.raises(SpaceInputError, match="undeclared"):
        Space([DEMOS], [Constraint(1, Cmp("<", Ref("nope"), Const(1)))])
    with pytest.raises(SpaceInputError, match="lacks"):
        Space([DEMOS, MODELS], []).is_feasible({"demos": 1})


# -- continuous ----------------------------------------------------------------------


def test_continuous_equality_is_decided_with_z3() -> None:
    a, b = Var("a", FloatRange(0.0, 2.0), 0.0), Var("b", FloatRange(0.0, 2.0), 0.0)
    line = Cmp("==", Arith("+", Ref("a"), Ref("b")), Const(1))
    assert analyze([a, b], [Constraint(1, line)]).satisfiable is True
    assert analyze([a, b], [Constraint(1, line)], Limits(smt=False)).satisfiable is None
    gap = [
        Constraint(1, Cmp(">", Ref("a"), Const(1.5))),
        Constraint(2, Cmp("<", Ref("a"), Const(0.5))),
    ]
    result = analyze([a, b], gap, Limits(smt=False))
    assert (result.satisfiable, result.core) == (False, (1, 2))


def test_continuous_dead_choice() -> None:
    t = Var("temperature", FloatRange(0.0, 1.5), 0.0)
    result = analyze(
        [t, MODULES],
        [
            Constraint(1, Implies(eq("module", "react"), Cmp(">", Ref("temperature"), Const(2)))),
            Constraint(2, Cmp("<=", Arith("*", Ref("temperature"), Ref("temperature")), Const(1))),
        ],
    )
    assert result.size is None
    assert result.continuous_count == 1
    assert [d.describe() for d in result.dead_values] == ["module react"]
    assert result.complete


# -- enumeration and sampling ------------------------------------------------------------


def _small_space() -> Space:
    return Space(
        [MODELS, MODULES, Var("k", IntRange(0, 3), 0)],
        [
            Constraint(1, Implies(eq("module", "react"), eq("model", "big"))),
            Constraint(2, Cmp("<=", Arith("+", Ref("k"), Ref("k")), Const(4))),
            Constraint(3, Implies(eq("model", "local"), Cmp("==", Ref("k"), Const(0)))),
        ],
    )


def test_iteration_is_lexicographic_and_complete() -> None:
    space = _small_space()
    listed = list(space.iter_feasible())
    names = ["model", "module", "k"]
    assert isinstance(MODELS.domain, Choice)
    assert isinstance(MODULES.domain, Choice)
    domains = [MODELS.domain.values, MODULES.domain.values, range(4)]
    expected = [
        dict(zip(names, combo, strict=True))
        for combo in itertools.product(*domains)
        if space.is_feasible(dict(zip(names, combo, strict=True)))
    ]
    assert listed == expected
    assert len(listed) == space.analyze().size


def test_iteration_is_lazy_over_huge_spaces() -> None:
    x = Var("x", IntRange(0, 10**12), 0)
    space = Space(
        [x, DEMOS], [Constraint(1, Cmp(">", Arith("+", Ref("x"), Ref("demos")), Const(10**12)))]
    )
    first = list(itertools.islice(space.iter_feasible(), 3))
    assert first == [
        {"x": 10**12 - 15, "demos": 16},
        {"x": 10**12 - 14, "demos": 15},
        {"x": 10**12 - 14, "demos": 16},
    ]


def test_iteration_refuses_infinite_spaces() -> None:
    with pytest.raises(InfiniteSpaceError):
        Space([Var("t", FloatRange(0.0, 1.0), 0.0)], []).iter_feasible()


def test_sampler_is_uniform_over_feasible_configurations() -> None:
    space = _small_space()
    feasible = list(space.iter_feasible())
    n = 6_000
    samples = space.sample_feasible(random.Random(1234), n)
    counts = Counter(tuple(sorted(s.items(), key=lambda kv: kv[0])) for s in samples)
    keys = {tuple(sorted(c.items(), key=lambda kv: kv[0])) for c in feasible}
    assert set(counts) == keys
    expected = n / len(feasible)
    chi2 = sum((counts[k] - expected) ** 2 / expected for k in keys)
    # 22 degrees of freedom: the 0.999 quantile is about 48; the seed is fixed.
    assert chi2 < 48


def test_sampler_handles_continuous_and_log_ranges() -> None:
    lr = Var("lr", FloatRange(1e-4, 1e-1, log=True), 1e-3)
    space = Space(
        [lr, MODULES],
        [Constraint(1, Implies(eq("module", "react"), Cmp("<", Ref("lr"), Const(0.001))))],
    )
    samples = space.sample_feasible(random.Random(7), 400)
    assert all(space.is_feasible(s) for s in samples)
    small = sum(float(s["lr"]) < 1e-2 for s in samples)  # type: ignore[arg-type]
    assert small > 200  # log-uniform puts 2/3 of the mass below 1e-2; uniform would put 9%


def test_sampler_errors() -> None:
    with pytest.raises(SamplingError, match="candidates"):
        Space([Var("i", Opaque(None), "x")], []).sample_feasible(random.Random(0), 1)
    unsat = Space([DEMOS], [Constraint(1, Cmp(">", Ref("demos"), Const(99)))])
    with pytest.raises(SamplingError):
        unsat.sample_feasible(random.Random(0), 1)


def test_finite_analysis_does_not_import_z3() -> None:
    """z3 costs ~70 ms to import: a finite space the search decides must not pay it."""
    import subprocess
    import sys

    program = (
        "import sys\n"
        "from dspx_lang.space.solve import Choice, Cmp, Const, Constraint, IntRange, Ref, "
        "Sym, Var, analyze\n"
        "r = analyze([Var('m', Choice((Sym('a'), Sym('b'))), Sym('a')), "
        "Var('d', IntRange(0, 9), 0)], [Constraint(1, Cmp('<=', Ref('d'), Const(4)))])\n"
        "print(r.size, 'z3' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, cwd=root
    )
    assert done.stdout.split() == ["10", "False"]


def test_deep_spaces_neither_recurse_too_far_nor_lie() -> None:
    xs = [Var(f"x{i}", IntRange(0, 10**9), 0) for i in range(25)]
    total: Expr = Ref("x0")
    for i in range(1, 25):
        total = Arith("+", total, Ref(f"x{i}"))
    space = Space(xs, [Constraint(1, Cmp("==", total, Const(12_345)))])
    result = space.analyze()
    assert result.satisfiable is not False
    assert result.size is None
    assert result.undecided == (1,)
    first = next(iter(space.iter_feasible()))
    assert first == {**{f"x{i}": 0 for i in range(24)}, "x24": 12_345}
