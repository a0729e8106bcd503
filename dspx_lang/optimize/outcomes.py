"""From what an evaluation returned to what the study stores and what optuna is told.

Contract:
- `objective_values`: each objective's value from `TrialOutcome.values`, falling back to the
  measured mean for `cost`, `latency` and `tokens`; a missing or non-finite value is an
  `EvaluationError` (a bug in the evaluate callback, not a bad configuration).
- `violations`: per budget, (measured - limit) / limit, > 0 meaning over budget; a quantity
  the evaluation did not measure never violates (as an unknown price never prunes statically).
- `told`: the values optuna is told, in objective order; for the single-direction `cmaes`
  study, `pareto.scalarize`, with over-budget trials pushed below every trial within budget.
- `attempt_result`: the `dspx_result` attribute of one attempt (JSON values only: details
  that JSON cannot hold are stored as their `str`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from dspx_lang.optimize import pareto
from dspx_lang.optimize.model import (
    MEASURED,
    Budget,
    EvaluationError,
    Objective,
    TrialOutcome,
    TrialStatus,
)


def objective_values(
    objectives: Sequence[Objective], number: int, outcome: TrialOutcome
) -> dict[str, float]:
    measured = outcome.measured()
    out = {}
    for o in objectives:
        value = outcome.values.get(o.name)
        if value is None and o.name in MEASURED:
            value = measured[o.name]
        if value is None or not math.isfinite(float(value)):
            raise EvaluationError(
                f"trial {number}: evaluate gave no finite value for objective {o.name}"
            )
        out[o.name] = float(value)
    return out


def violations(budgets: Sequence[Budget], outcome: TrialOutcome) -> dict[str, float]:
    measured = outcome.measured()
    out: dict[str, float] = {}
    for b in budgets:
        m = measured[b.metric]
        out[b.metric] = 0.0 if m is None else (float(m) - b.limit) / b.limit
    return out


def told(
    objectives: Sequence[Objective],
    values: Mapping[str, float],
    excess: Mapping[str, float],
    scalar: bool,
) -> list[float]:
    if not scalar:
        return [values[o.name] for o in objectives]
    summary = pareto.scalarize(values, objectives)
    over = sum(max(0.0, v) for v in excess.values())
    # cmaes has no constraints: an over-budget trial ranks below any within budget.
    return [summary - (1.0 + over) * (abs(summary) + 1.0) if over > 0 else summary]


def attempt_result(
    *,
    status: TrialStatus,
    key: str,
    worker: str,
    attempt: int,
    spent: float,
    outcome: TrialOutcome | None = None,
    values: Mapping[str, float] | None = None,
    excess: Mapping[str, float] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "status": status,
        "key": key,
        "worker": worker,
        "attempt": attempt,
        "spent": spent,
    }
    if error is not None:
        result["error"] = error
    if outcome is not None:
        result["measured"] = outcome.measured()
        result["details"] = json.loads(json.dumps(dict(outcome.details), default=str))
    if values is not None:
        result["values"] = dict(values)
        result["violations"] = dict(excess or {})
    return result
