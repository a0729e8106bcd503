"""Reading a study back: optuna trials -> `TrialRecord`s, and a run's summary.

Contract: a trial's record comes from its `dspx_claim` and `dspx_result` attributes (see
`study.py`); RUNNING trials have no record (they are counted as running). The scored trials
of a summary are the COMPLETE ones whose status is "ok", one per configuration (the lowest
trial number wins, so a configuration is never counted twice), in trial-number order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from dspx_lang.optimize import pareto
from dspx_lang.optimize.codec import config_from_key, config_key, decode_config
from dspx_lang.optimize.model import Objective, OptimizeError, TrialRecord, TrialStatus
from dspx_lang.optimize.samplers import CLAIM_ATTR, RESULT_ATTR
from dspx_lang.space.solve import Var

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

STATUSES = (
    "ok",
    "infra_failed",
    "error",
    "stopped",
    "worker_died",
    "infeasible",
    "duplicate",
    "not_run",
)


def record(vars: Sequence[Var], trial: FrozenTrial) -> TrialRecord | None:
    from optuna.trial import TrialState

    if trial.state == TrialState.RUNNING:
        return None
    claim: dict[str, Any] = trial.user_attrs.get(CLAIM_ATTR) or {}
    result: dict[str, Any] = trial.user_attrs.get(RESULT_ATTR) or {}
    try:
        key = claim.get("key") or result.get("key")
        if isinstance(key, str):
            config = config_from_key(vars, key)
        else:
            config = decode_config(vars, trial.params)
            key = config_key(vars, config)
    except OptimizeError:
        return None  # not one of ours (made by hand in the same study): ignore it
    status = result.get("status", "worker_died" if trial.state == TrialState.FAIL else "error")
    if status not in STATUSES:
        status = "error"
    if status == "ok" and trial.state != TrialState.COMPLETE:
        status = "worker_died"  # told nothing after its result was stored: it died there
    return TrialRecord(
        number=trial.number,
        config=config,
        key=key,
        status=cast(TrialStatus, status),
        values={k: float(v) for k, v in (result.get("values") or {}).items()},
        measured=dict(result.get("measured") or {}),
        violations={k: float(v) for k, v in (result.get("violations") or {}).items()},
        spent=float(result.get("spent", 0.0)),
        worker=str(claim.get("worker", "")),
        attempt=int(result.get("attempt", 1)),
        details=dict(result.get("details") or {}),
    )


@dataclass(frozen=True, slots=True)
class Summary:
    best: TrialRecord | None
    front: tuple[TrialRecord, ...]
    scored: tuple[TrialRecord, ...]
    counts: dict[str, int]


def summarize(
    vars: Sequence[Var], trials: Sequence[FrozenTrial], objectives: Sequence[Objective]
) -> Summary:
    from optuna.trial import TrialState

    counts = dict.fromkeys((*STATUSES, "running"), 0)
    unique: dict[str, TrialRecord] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        if trial.state == TrialState.RUNNING:
            counts["running"] += 1
            continue
        rec = record(vars, trial)
        if rec is None:
            continue
        counts[rec.status] += 1
        if rec.status == "ok" and rec.key not in unique:
            unique[rec.key] = rec
    best, front, scored = pareto.choose(list(unique.values()), objectives)
    return Summary(best, tuple(front), tuple(scored), counts)
