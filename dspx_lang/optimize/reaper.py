"""Cleaning up after dead workers, so their trials are redone and their money accounted.

Contract of `reap`: (1) the ledger marks silent workers dead (and, on this machine, workers
whose process is gone); (2) each running slot of a worker that is not alive is reconciled
with optuna: a trial optuna holds as COMPLETE with status "ok" makes the slot `done` (its
result was stored before optuna was told, so nothing is lost or redone); any other trial is
failed (status "worker_died") and its slot becomes `dead`; the slot's spend is the amount the
trial stored, else its whole reservation (the dead worker may have spent up to it), and 0 for
a slot that never got a trial (nothing was evaluated). (3) Trials left RUNNING by a dead
worker outside any slot (it died between asking optuna and claiming) are failed too: every
trial is born with its worker's claim (`study.py`), so none is left unattributed.
Every step is idempotent: several workers may reap at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from dspx_lang.optimize.ledger import Ledger
from dspx_lang.optimize.samplers import CLAIM_ATTR, RESULT_ATTR
from dspx_lang.optimize.spend import to_units
from dspx_lang.optimize.study import StudyAccess

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

Call = Callable[..., Awaitable[Any]]


async def reap(ledger: Ledger, access: StudyAccess, grace_s: float, db: Call, opt: Call) -> None:
    died = {"status": "worker_died"}
    for orphan in await db(ledger.declare_dead, grace_s):
        if orphan.trial_id is None:
            await db(ledger.resolve, orphan.slot, "dead", 0)
            continue
        trial: FrozenTrial = await opt(access.fail_if_running, orphan.trial_id, died)
        state, spent = _settlement(trial, orphan.reserved)
        await db(ledger.resolve, orphan.slot, state, spent)
    states: dict[str, str] = await db(ledger.worker_states)
    linked: set[int] = await db(ledger.running_trials)
    for trial in await opt(access.running):
        worker = (trial.user_attrs.get(CLAIM_ATTR) or {}).get("worker")
        # Trials without a claim are not ours (made by hand in the same study): left alone.
        if trial._trial_id in linked or worker is None or worker == ledger.me.worker:
            continue
        if states.get(worker, "alive") != "alive":
            await opt(access.fail_if_running, trial._trial_id, died)


def _settlement(trial: FrozenTrial, reserved: int) -> tuple[Any, int]:
    from optuna.trial import TrialState

    result = trial.user_attrs.get(RESULT_ATTR) or {}
    spent = to_units(float(result["spent"])) if "spent" in result else reserved
    if trial.state == TrialState.COMPLETE and result.get("status") == "ok":
        return "done", spent
    return "dead", spent
