"""The optimizer core: search a program's feasible space against an evaluation callback.

Modules: `model` (objectives, budgets, outcomes, records, results, errors), `codec`
(configuration encoding and optuna distributions), `storage` (SQLite/PostgreSQL study
databases), `ledger` (the shared trial and money ledger), `spend` (money units and the
per-trial `SpendGuard`), `samplers` (feasible sequences, neighbours, optuna samplers),
`hook` (`GuardHook`, the runtime's spend hook on a guard), `study` (optuna calls), `reaper`
(dead workers), `worker` (connection, heartbeat, thread
hops), `outcomes` (what a trial stores and tells), `records` and `pareto` (reading results,
the weighted choice), `progress` (live display), `search` (`Optimizer`), `artifact` (the
JSON artifact). docs/optimize.md explains the whole.

Importing this package is cheap (no optuna, no SQLAlchemy): names resolve on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dspx_lang.optimize.artifact import (
        Artifact,
        ArtifactError,
        build_artifact,
        load_artifact,
        save_artifact,
    )
    from dspx_lang.optimize.hook import GuardHook
    from dspx_lang.optimize.model import (
        Budget,
        EvaluationError,
        InfrastructureError,
        Lease,
        Objective,
        OptimizeError,
        OptimizeResult,
        Progress,
        ProgressEvent,
        SpendCapReached,
        StorageError,
        StudyMismatchError,
        TrialInfo,
        TrialOutcome,
        TrialRecord,
    )
    from dspx_lang.optimize.search import Optimizer
    from dspx_lang.optimize.spend import SpendGuard
    from dspx_lang.optimize.storage import default_storage_url

_WHERE = {
    "Artifact": "artifact",
    "ArtifactError": "artifact",
    "build_artifact": "artifact",
    "load_artifact": "artifact",
    "save_artifact": "artifact",
    "GuardHook": "hook",
    "Budget": "model",
    "EvaluationError": "model",
    "InfrastructureError": "model",
    "Lease": "model",
    "Objective": "model",
    "OptimizeError": "model",
    "OptimizeResult": "model",
    "Progress": "model",
    "ProgressEvent": "model",
    "SpendCapReached": "model",
    "StorageError": "model",
    "StudyMismatchError": "model",
    "TrialInfo": "model",
    "TrialOutcome": "model",
    "TrialRecord": "model",
    "Optimizer": "search",
    "SpendGuard": "spend",
    "default_storage_url": "storage",
}

__all__ = [
    "Artifact",
    "ArtifactError",
    "Budget",
    "EvaluationError",
    "GuardHook",
    "InfrastructureError",
    "Lease",
    "Objective",
    "OptimizeError",
    "OptimizeResult",
    "Optimizer",
    "Progress",
    "ProgressEvent",
    "SpendCapReached",
    "SpendGuard",
    "StorageError",
    "StudyMismatchError",
    "TrialInfo",
    "TrialOutcome",
    "TrialRecord",
    "build_artifact",
    "default_storage_url",
    "load_artifact",
    "save_artifact",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dspx_lang.optimize' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dspx_lang.optimize.{module}"), name)
