"""The optimizer's data: objectives, budgets, what an evaluation returns, trial records, results.

Contract: plain frozen dataclasses and typed errors; nothing here touches optuna, a database or
the compiler (the runtime may import it, e.g. through `artifact.py`).
- An `Objective` is identified by `name`; the measured objectives are named `cost`, `latency`
  and `tokens` (an evaluation may leave those to its measured means).
- A `TrialOutcome` reports *means per program call* (`cost` USD, `latency` s, `tokens`) and
  `cost_usd`, the money the whole evaluation spent. `infra_failed` marks a provider failure:
  such a trial is never scored.
- Every error the optimizer raises on purpose is an `OptimizeError` whose message says what to
  do next and never holds a password (storage URLs are shown redacted).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from dspx_lang.optimize.spend import SpendGuard
    from dspx_lang.space.solve import ConfigValue

Direction: TypeAlias = Literal["maximize", "minimize"]
SamplerName: TypeAlias = Literal["grid", "random", "tpe", "nsga2", "cmaes"]
Metric: TypeAlias = Literal["cost", "latency", "tokens"]
SAMPLERS: tuple[SamplerName, ...] = ("grid", "random", "tpe", "nsga2", "cmaes")
MEASURED: tuple[Metric, ...] = ("cost", "latency", "tokens")

TrialStatus: TypeAlias = Literal[
    "ok",  # evaluated and scored (feasible or over a dynamic budget)
    "infra_failed",  # the provider failed; never scored
    "error",  # the evaluate callback raised
    "stopped",  # interrupted, or stopped mid-trial by the spend cap
    "worker_died",  # its worker process died or lost its lease
    "infeasible",  # statically infeasible proposal, never evaluated
    "duplicate",  # a proposal of a configuration already taken, never evaluated
    "not_run",  # proposed, but the spend cap or the trial count left no room
]

StopReason: TypeAlias = Literal["trials", "spend", "exhausted", "infra", "interrupted", "error"]
"""Why a run ended: the trial count was reached, the spend cap left no room for the next
trial, every feasible configuration was tried, providers kept failing, the run was
interrupted, or the evaluate callback raised."""


class OptimizeError(Exception):
    """A failure the optimizer reports on purpose; the message says what to do next."""


class SpendCapReached(OptimizeError):
    """Raised by `SpendGuard.authorize` when a call would pass the run's spend cap."""


class StudyMismatchError(OptimizeError):
    """The named study exists but was made for other objectives or variables."""


class StorageError(OptimizeError):
    """The study storage cannot be opened or used."""


class InfrastructureError(OptimizeError):
    """Providers failed on several configurations in a row; the study is kept for a rerun."""


class EvaluationError(OptimizeError):
    """The evaluate callback raised or returned an unusable outcome."""


@dataclass(frozen=True, slots=True)
class Objective:
    """One objective. `weight` counts after normalisation (weights sum to 1).

    `scale` is a typical magnitude of the objective (e.g. the default configuration's
    estimated cost); only the `cmaes` sampler uses it, to sum objectives into one number.
    """

    name: str
    direction: Direction
    weight: float = 1.0
    scale: float = 1.0

    def __post_init__(self) -> None:
        if self.direction not in ("maximize", "minimize"):
            raise OptimizeError(f"objective {self.name}: direction must be maximize or minimize")
        if not (math.isfinite(self.weight) and self.weight >= 0):
            raise OptimizeError(f"objective {self.name}: weight must be a finite number >= 0")
        if not (math.isfinite(self.scale) and self.scale > 0):
            raise OptimizeError(f"objective {self.name}: scale must be a finite number > 0")


@dataclass(frozen=True, slots=True)
class Budget:
    """A dynamic budget: a trial whose measured mean `metric` exceeds `limit` is infeasible."""

    metric: Metric
    limit: float

    def __post_init__(self) -> None:
        if self.metric not in MEASURED:
            raise OptimizeError(f"budget metric must be one of {', '.join(MEASURED)}")
        if not (math.isfinite(self.limit) and self.limit > 0):
            raise OptimizeError(f"budget {self.metric}: the limit must be a number > 0")


@dataclass(frozen=True, slots=True)
class Lease:
    """How workers prove they are alive: a heartbeat every `heartbeat_s` seconds; a worker
    silent for `grace_s` (or, on the same machine, whose process is gone) is dead and its
    running trials are redone."""

    heartbeat_s: float = 5.0
    grace_s: float = 30.0

    def __post_init__(self) -> None:
        if not 0 < self.heartbeat_s < self.grace_s:
            raise OptimizeError("lease: need 0 < heartbeat_s < grace_s")


@dataclass(frozen=True, slots=True)
class TrialOutcome:
    """What one evaluation of a configuration measured.

    `values`: objective name -> value; `cost`/`latency`/`tokens` objectives may be omitted
    and are then taken from the measured means. `details` must be JSON-serialisable; it is
    stored with the trial.
    """

    values: Mapping[str, float] = field(default_factory=dict)
    cost: float | None = None
    latency: float | None = None
    tokens: float | None = None
    cost_usd: float = 0.0
    infra_failed: bool = False
    details: Mapping[str, Any] = field(default_factory=dict)

    def measured(self) -> dict[str, float | None]:
        return {"cost": self.cost, "latency": self.latency, "tokens": self.tokens}


@dataclass(frozen=True, slots=True)
class TrialInfo:
    """Handed to `evaluate` with the configuration.

    `guard` is the trial's spend wallet: authorize every LM call before sending it and charge
    its cost after (see `SpendGuard`). `number` is the optuna trial number; `attempt` counts
    from 1 and grows when a provider failure is retried.
    """

    number: int
    attempt: int
    key: str
    study: str
    worker: str
    guard: SpendGuard


Evaluate: TypeAlias = "Callable[[Mapping[str, ConfigValue], TrialInfo], Awaitable[TrialOutcome]]"
Forecast: TypeAlias = "Callable[[Mapping[str, ConfigValue]], float]"
"""USD one trial of this configuration is expected to spend (reserved before it starts)."""


@dataclass(frozen=True, slots=True)
class TrialRecord:
    """One trial as stored in the study (scored ones carry values and measurements)."""

    number: int
    config: dict[str, ConfigValue]
    key: str
    status: TrialStatus
    values: dict[str, float] = field(default_factory=dict)
    measured: dict[str, float | None] = field(default_factory=dict)
    violations: dict[str, float] = field(default_factory=dict)
    """Budget metric -> relative excess over its limit (> 0: over budget)."""
    spent: float = 0.0
    worker: str = ""
    attempt: int = 1
    score: float | None = None
    """The weighted, normalised objective (feasible scored trials only)."""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def feasible(self) -> bool:
        return self.status == "ok" and all(v <= 0 for v in self.violations.values())


@dataclass(frozen=True, slots=True)
class Progress:
    """A snapshot for progress displays and callbacks (this worker's view of the study)."""

    done: int
    running: int
    failed: int
    infeasible: int
    trials: int
    best_score: float | None
    best_values: dict[str, float]
    pareto_size: int
    spent: float
    max_spend: float | None
    reserved: float


@dataclass(frozen=True, slots=True)
class ProgressEvent:
    """`kind`: "start", "trial" (a trial ended; `trial` is set) or "stop" (`reason` is set)."""

    kind: Literal["start", "trial", "stop"]
    progress: Progress
    trial: TrialRecord | None = None
    reason: StopReason | None = None


@dataclass(frozen=True, slots=True)
class OptimizeResult:
    """The study's state after a run: every worker's trials, not only this one's."""

    best: TrialRecord | None
    pareto: tuple[TrialRecord, ...]
    trials: tuple[TrialRecord, ...]
    """Scored trials (status "ok"), one per configuration, in trial-number order."""
    counts: dict[str, int]
    """Optuna trials by status (every attempt, rejected proposal and failure)."""
    spent: float
    """The ledger's total for the study: settled spend plus outstanding reservations."""
    max_spend: float | None
    stop_reason: StopReason | None
    study: str
    storage: str
    """The storage URL with any password hidden."""
    sampler: SamplerName
    seed: int
    objectives: tuple[Objective, ...]
    """With weights normalised to sum to 1."""
    budgets: tuple[Budget, ...]
