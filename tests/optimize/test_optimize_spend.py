"""The spend cap: exact money units, the per-trial guard on a real ledger, and the cap held
by one process with concurrent trials and by four worker processes sharing one study on
SQLite and on PostgreSQL. "Spent" is what the evaluate callbacks logged as sent calls."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optimize_kit import (
    BUDGETS,
    OBJECTIVES,
    Task,
    finish,
    ledger_total,
    logged_spend,
    read_log,
    space,
    spawn,
    study_state,
)

from dspx_lang.optimize import OptimizeError, Optimizer, SpendCapReached, SpendGuard
from dspx_lang.optimize.ledger import Claim, Identity, Ledger, Pick
from dspx_lang.optimize.spend import UNITS_PER_USD, to_units, to_usd
from dspx_lang.optimize.storage import open_storage

# ----------------------------------------------------------------------------- units

money = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


@given(money)
def test_units_round_spend_up_and_caps_down_by_less_than_one_unit(usd: float) -> None:
    exact = Decimal(repr(usd)) * UNITS_PER_USD
    up, down = to_units(usd), to_units(usd, up=False)
    assert up - 1 < exact <= up
    assert down <= exact < down + 1


@given(st.lists(st.sampled_from([0.01, 0.1, 0.07, 0.003, 1e-6, 0.25]), max_size=50))
def test_sums_of_decimal_amounts_are_exact(amounts: list[float]) -> None:
    total = sum((Decimal(repr(a)) for a in amounts), Decimal(0))
    assert sum(to_units(a) for a in amounts) == total * UNITS_PER_USD
    assert to_usd(sum(to_units(a) for a in amounts)) == pytest.approx(float(total))


@pytest.mark.parametrize("bad", [-0.01, math.inf, math.nan])
def test_amounts_must_be_finite_and_non_negative(bad: float) -> None:
    with pytest.raises(OptimizeError):
        to_units(bad)


# ----------------------------------------------------------------------------- guard


def ledger_slot(url: str, cap_usd: float, reserve_usd: float) -> tuple[Ledger, int]:
    storage = open_storage(url)
    ledger = Ledger(storage.engine, "guard", Identity.current())
    ledger.register()
    claim = ledger.claim(
        lambda taken: Pick("k", to_units(reserve_usd)), trials=10, cap=to_units(cap_usd)
    )
    assert isinstance(claim, Claim), claim
    return ledger, claim.slot


def guard_for(ledger: Ledger, slot: int, reserve_usd: float, cap_usd: float) -> SpendGuard:
    async def top_up(units: int) -> bool | None:
        return ledger.top_up(slot, units, to_units(cap_usd, up=False))

    return SpendGuard(top_up, to_units(reserve_usd))


def test_guard_spends_inside_its_reservation_then_grows_it_under_the_cap(sqlite_url: str) -> None:
    ledger, slot = ledger_slot(sqlite_url, cap_usd=0.05, reserve_usd=0.02)
    guard = guard_for(ledger, slot, 0.02, 0.05)

    async def spend() -> None:
        for _ in range(4):
            hold = await guard.authorize(0.01)
            guard.charge(0.01, hold)
        with pytest.raises(SpendCapReached):
            await guard.authorize(0.015)

    asyncio.run(spend())
    assert guard.spent == pytest.approx(0.04)
    assert guard.cap_reached
    assert ledger.totals().total <= to_units(0.05)
    assert guard.reserved <= 0.05


def test_a_charge_above_its_hold_is_an_overrun_covered_before_the_next_call(
    sqlite_url: str,
) -> None:
    ledger, slot = ledger_slot(sqlite_url, cap_usd=1.0, reserve_usd=0.01)
    guard = guard_for(ledger, slot, 0.01, 1.0)

    async def spend() -> None:
        hold = await guard.authorize(0.004)
        guard.charge(0.009, hold)
        await guard.authorize(0.004)

    asyncio.run(spend())
    assert guard.overrun == pytest.approx(0.005)
    assert guard.reserved >= guard.spent + guard.held


def test_a_failing_call_block_is_charged_its_whole_bound(sqlite_url: str) -> None:
    ledger, slot = ledger_slot(sqlite_url, cap_usd=1.0, reserve_usd=0.1)
    guard = guard_for(ledger, slot, 0.1, 1.0)

    async def spend() -> None:
        async with guard.call(0.02) as charge:
            charge.add(0.005)
        with pytest.raises(TimeoutError):
            async with guard.call(0.03):
                raise TimeoutError

    asyncio.run(spend())
    assert guard.spent == pytest.approx(0.035)
    assert guard.held == 0


# ----------------------------------------------------------------------------- one process


def optimizer(task: Task, url: str, forecast: float, **options: object) -> Optimizer:
    return Optimizer(
        space(),
        objectives=OBJECTIVES,
        budgets=BUDGETS,
        evaluate=task.evaluate,
        forecast=lambda config: forecast,
        storage=url,
        study="spend",
        sampler="random",
        live=False,
        **options,  # type: ignore[arg-type]
    )


def test_a_cap_for_five_trials_runs_exactly_five_with_concurrency(sqlite_url: str) -> None:
    task = Task(delay_s=0.005)
    run = optimizer(task, sqlite_url, 0.01, trials=40, concurrency=3, max_spend=0.05)
    result = asyncio.run(run.run())
    assert result.stop_reason == "spend"
    assert result.counts["ok"] == 5
    assert len(task.seen) == 5
    assert sum(Decimal(repr(x)) for x in task.spent) == Decimal("0.05")
    assert result.spent == pytest.approx(0.05)


def test_trials_costlier_than_forecast_are_stopped_mid_trial_at_the_cap(sqlite_url: str) -> None:
    # Forecast $0.004, actual $0.01 per trial: reservations grow call by call until the cap.
    task = Task(delay_s=0.005)
    run = optimizer(task, sqlite_url, 0.004, trials=40, concurrency=3, max_spend=0.035)
    result = asyncio.run(run.run())
    spent = sum(Decimal(repr(x)) for x in task.spent)
    assert result.stop_reason == "spend"
    assert spent <= Decimal("0.035")
    assert spent >= Decimal("0.035") - Decimal("0.0025") * 3  # at most one call per lane unused
    assert result.counts["stopped"] >= 1
    state = study_state(sqlite_url, "spend")
    assert ledger_total(state["slots"]) <= Decimal("0.035")
    assert all(s[0] != "running" for s in state["slots"])


# ----------------------------------------------------------------------------- processes


@pytest.mark.parametrize("forecast", [0.01, 0.004])
def test_four_worker_processes_never_pass_a_tight_cap(
    storage_url: str, tmp_path: Path, forecast: float
) -> None:
    logs = [tmp_path / f"worker{i}.jsonl" for i in range(4)]
    workers = [
        spawn(
            storage_url,
            "shared",
            log,
            trials=40,
            max_spend=0.1,
            concurrency=2,
            delay=0.01,
            forecast=forecast,
        )
        for log in logs
    ]
    results = [finish(w) for w in workers]
    events = [e for log in logs for e in read_log(str(log))]
    spent = logged_spend(events)
    state = study_state(storage_url, "shared")
    assert spent <= Decimal("0.1")
    assert ledger_total(state["slots"]) <= Decimal("0.1")
    assert {r["stop_reason"] for r in results} == {"spend"}
    done = [s for s in state["slots"] if s[0] == "done"]
    if forecast == 0.01:  # forecasts are exact: the cap holds exactly ten trials
        assert spent == Decimal("0.1")
        assert len(done) == 10
    assert len({s[3] for s in done}) == len(done)
