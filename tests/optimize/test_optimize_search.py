"""The optimizer against the synthetic task (`optimize_kit`): real optuna, real SQLite files.

Every expectation is computed by brute force over the task's configurations, independently of
the optimizer: the weighted best within budget, feasibility, the Pareto front.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from optimize_kit import (
    BUDGETS,
    OBJECTIVES,
    TRIAL_COST,
    Task,
    cost,
    feasible_configs,
    key,
    ledger_total,
    quality,
    space,
    study_state,
    weighted_best,
    within_budget,
)

from dspx_lang.optimize import (
    EvaluationError,
    Objective,
    Optimizer,
    OptimizeResult,
    ProgressEvent,
    StorageError,
    StudyMismatchError,
)
from dspx_lang.optimize.model import SamplerName
from dspx_lang.space.solve import ConfigValue

FEASIBLE = feasible_configs()
HAS_CMAES = importlib.util.find_spec("cmaes") is not None
CMAES = pytest.param(
    "cmaes",
    marks=pytest.mark.skipif(not HAS_CMAES, reason="the cmaes sampler needs `pip install cmaes`"),
)


def make(task: Task, url: str, **options: Any) -> Optimizer:
    settings: dict[str, Any] = {
        "objectives": OBJECTIVES,
        "budgets": BUDGETS,
        "evaluate": task.evaluate,
        "forecast": lambda config: TRIAL_COST,
        "storage": url,
        "study": "synthetic",
        "live": False,
        **options,
    }
    return Optimizer(space(), **settings)


def run(task: Task, url: str, **options: Any) -> OptimizeResult:
    return asyncio.run(make(task, url, **options).run())


def true_front(configs: Sequence[dict[str, ConfigValue]]) -> list[str]:
    ok = [c for c in configs if within_budget(c)]

    def dominated(c: dict[str, ConfigValue]) -> bool:
        return any(
            quality(o) >= quality(c)
            and cost(o) <= cost(c)
            and (quality(o) > quality(c) or cost(o) < cost(c))
            for o in ok
        )

    return [key(c) for c in ok if not dominated(c)]


@pytest.mark.parametrize("sampler", ["grid", "random"])
def test_grid_and_random_try_every_feasible_configuration_once_and_pick_the_best(
    sampler: SamplerName, sqlite_url: str
) -> None:
    task = Task()
    result = run(task, sqlite_url, sampler=sampler, trials=500, concurrency=4, seed=3)
    assert result.stop_reason == "exhausted"
    assert sorted(key(c) for c in task.seen) == sorted(key(c) for c in FEASIBLE)
    assert result.best is not None
    assert result.best.config == weighted_best(FEASIBLE)
    assert sorted(r.key for r in result.pareto) == sorted(true_front(FEASIBLE))
    # Over-budget trials are scored but infeasible, and never on the front nor chosen: the
    # best quality overall is over budget, the chosen one is the best within it.
    over = [r for r in result.trials if not within_budget(r.config)]
    assert len(over) == len(FEASIBLE) - sum(within_budget(c) for c in FEASIBLE)
    assert all(not r.feasible and r.violations["cost"] > 0 for r in over)
    assert max(quality(c) for c in FEASIBLE) > quality(result.best.config)


@pytest.mark.parametrize("sampler", ["tpe", CMAES])
def test_learning_samplers_find_the_best_feasible_configuration(
    sampler: SamplerName, sqlite_url: str
) -> None:
    task = Task()
    result = run(task, sqlite_url, sampler=sampler, trials=50, seed=0)
    assert result.best is not None
    assert result.best.config == weighted_best(FEASIBLE)
    assert len(task.seen) == 50
    assert len({key(c) for c in task.seen}) == 50


def test_nsga2_chooses_a_configuration_on_the_true_pareto_front(sqlite_url: str) -> None:
    # NSGA-II spreads its trials along the front rather than homing in on the weighted point.
    task = Task()
    result = run(task, sqlite_url, sampler="nsga2", trials=70, seed=0)
    assert result.best is not None
    assert result.best.key in true_front(FEASIBLE)
    assert result.best.config == weighted_best(task.seen)


@pytest.mark.parametrize("sampler", ["tpe", "nsga2", CMAES])
def test_infeasible_proposals_are_told_back_never_evaluated(
    sampler: SamplerName, sqlite_url: str
) -> None:
    task = Task()
    # One trial at a time: the proposals, hence the infeasible ones, depend on the seed only.
    result = run(task, sqlite_url, sampler=sampler, trials=20, seed=5)
    checker = space()
    assert result.counts["infeasible"] >= 1  # the sampler did propose some
    assert len(task.seen) == 20
    assert all(checker.is_feasible(c) for c in task.seen)
    assert result.counts["ok"] == 20


@pytest.mark.parametrize("sampler", ["random", "tpe", "nsga2", CMAES])
def test_the_same_seed_makes_the_same_proposals(sampler: SamplerName, tmp_path: Path) -> None:
    runs = []
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        task = Task()
        run(task, f"sqlite:///{tmp_path / name}.db", sampler=sampler, trials=8, seed=seed)
        runs.append([key(c) for c in task.seen])
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]


def test_concurrency_runs_trials_at_once(sqlite_url: str) -> None:
    task = Task(delay_s=0.1)  # a trial lasts 0.4 s: all four lanes start well within it
    active = 0
    peak = 0
    evaluate = task.evaluate

    async def counting(config: Any, info: Any) -> Any:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        try:
            return await evaluate(config, info)
        finally:
            active -= 1

    optimizer = make(task, sqlite_url, sampler="random", trials=12, concurrency=4)
    optimizer.evaluate = counting
    asyncio.run(optimizer.run())
    assert peak == 4
    assert len(task.seen) == 12


def test_a_second_run_resumes_and_never_repeats_a_finished_configuration(
    sqlite_url: str,
) -> None:
    first, second = Task(), Task()
    run(first, sqlite_url, sampler="grid", trials=10)
    result = run(second, sqlite_url, sampler="grid", trials=25)
    assert len(first.seen) == 10
    assert len(second.seen) == 15
    assert not {key(c) for c in first.seen} & {key(c) for c in second.seen}
    assert [key(c) for c in first.seen + second.seen] == [key(c) for c in FEASIBLE[:25]]
    assert result.counts["ok"] == 25


def test_provider_failures_are_retried_then_recorded_never_scored(sqlite_url: str) -> None:
    failing = {key(c) for c in FEASIBLE[:2]}
    task = Task(infra_fail=failing)
    result = run(task, sqlite_url, sampler="grid", trials=6, infra_retries=2)
    assert all(task.attempts[k] == 3 for k in failing)
    assert result.counts["infra_failed"] == 6
    assert not failing & {r.key for r in result.trials}
    assert len(result.trials) == 6
    assert result.stop_reason == "trials"


def test_providers_failing_on_every_configuration_stop_the_run(sqlite_url: str) -> None:
    task = Task(infra_fail={key(c) for c in FEASIBLE})
    result = run(task, sqlite_url, sampler="grid", trials=20, infra_retries=1, infra_abort_after=3)
    assert result.stop_reason == "infra"
    assert len(task.seen) == 6
    assert result.best is None
    assert result.trials == ()


def test_an_evaluate_that_raises_stops_the_run_with_a_typed_error(sqlite_url: str) -> None:
    task = Task(raise_on={key(FEASIBLE[2])})
    with pytest.raises(EvaluationError, match="metric crashed"):
        run(task, sqlite_url, sampler="grid", trials=10)
    again = Task()
    result = run(again, sqlite_url, sampler="grid", trials=10)
    assert result.counts["error"] == 1
    assert key(FEASIBLE[2]) in {key(c) for c in again.seen}
    assert result.counts["ok"] == 10


def test_a_missing_objective_value_is_an_evaluation_error(sqlite_url: str) -> None:
    task = Task()
    objectives = (*OBJECTIVES, Objective("f1", "maximize"))
    with pytest.raises(EvaluationError, match="objective f1"):
        run(task, sqlite_url, sampler="grid", trials=3, objectives=objectives)


def test_a_study_made_for_other_objectives_is_refused(sqlite_url: str) -> None:
    run(Task(), sqlite_url, sampler="grid", trials=2)
    with pytest.raises(StudyMismatchError, match="other objectives"):
        run(Task(), sqlite_url, sampler="grid", trials=2, objectives=OBJECTIVES[:1])
    if HAS_CMAES:
        with pytest.raises(StudyMismatchError, match="cmaes"):
            run(Task(), sqlite_url, sampler="cmaes", trials=2)


def test_an_unreachable_storage_is_a_clear_error_without_the_password() -> None:
    url = "postgresql+psycopg://user:hunter2secret@127.0.0.1:1/db"
    with pytest.raises(StorageError) as info:
        run(Task(), url, sampler="grid", trials=2)
    assert "hunter2secret" not in str(info.value)
    assert "***" in str(info.value)


def test_progress_callbacks_see_every_trial(sqlite_url: str) -> None:
    events: list[ProgressEvent] = []
    run(Task(), sqlite_url, sampler="grid", trials=5, callbacks=[events.append])
    kinds = Counter(e.kind for e in events)
    assert kinds == {"start": 1, "trial": 5, "stop": 1}
    last = events[-1]
    assert last.reason == "trials"
    assert last.progress.done == 5
    assert last.progress.spent == pytest.approx(5 * TRIAL_COST)
    assert last.progress.best_score is not None


def test_summary_reads_the_study_without_running(sqlite_url: str) -> None:
    ran = run(Task(), sqlite_url, sampler="grid", trials=8)
    task = Task()
    summary = asyncio.run(make(task, sqlite_url, sampler="grid").summary())
    assert task.seen == []
    assert summary.best == ran.best
    assert [r.number for r in summary.trials] == [r.number for r in ran.trials]


def test_a_cancelled_run_records_its_trials_as_stopped_and_settles_their_spend(
    sqlite_url: str,
) -> None:
    task = Task(delay_s=5.0)

    async def cancel_mid_trial() -> None:
        running = asyncio.create_task(
            make(task, sqlite_url, sampler="grid", trials=10, concurrency=3).run()
        )
        while len(task.spent) < 3:  # each lane has sent its first call
            await asyncio.sleep(0.01)
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running

    asyncio.run(cancel_mid_trial())
    state = study_state(sqlite_url, "synthetic")
    statuses = [t.user_attrs["dspx_result"]["status"] for t in state["trials"]]
    assert statuses == ["stopped"] * 3
    assert {s[0] for s in state["slots"]} == {"stopped"}
    # The calls in flight were authorized and never charged: they count as spent.
    assert ledger_total(state["slots"]) == sum(Decimal(repr(x)) for x in task.spent)
    result = run(Task(), sqlite_url, sampler="grid", trials=10)
    assert result.counts["ok"] == 10


def test_the_live_display_draws_the_run(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run(Task(), sqlite_url, sampler="grid", trials=3, live=True, max_spend=1.0)
    shown = capsys.readouterr().err
    assert "optimize synthetic (grid)" in shown
    assert "3/3 done" in shown
    assert "$0.0300 of $1.0000" in shown
