"""What the space analysis knows about one program, for the CLI, the IR and the editor.

Plain data, computed once per compilation. Sizes are counts of configurations
(None: infinite or not decided); estimates are per call of the program.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StepEstimate:
    step: str
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None  # None: no price known for the model
    latency_s: float


@dataclass(frozen=True)
class Estimate:
    """One configuration's estimate: per step and for the whole program call."""

    steps: tuple[StepEstimate, ...]
    latency_s: float  # the critical path: independent steps run concurrently

    @property
    def prompt_tokens(self) -> int:
        return sum(s.prompt_tokens * s.calls for s in self.steps)

    @property
    def completion_tokens(self) -> int:
        return sum(s.completion_tokens * s.calls for s in self.steps)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def cost_usd(self) -> float | None:
        costs = [s.cost_usd for s in self.steps]
        return None if any(c is None for c in costs) else sum(c or 0.0 for c in costs)

    def metric(self, name: str) -> float | None:
        if name == "cost":
            return self.cost_usd
        if name == "latency":
            return self.latency_s
        return float(self.tokens)


@dataclass(frozen=True)
class Estimates:
    """The default configuration's estimate and the extremes over the feasible space."""

    default: Estimate
    minimum: dict[str, float | None]  # metric (cost, latency, tokens) -> lowest estimate
    maximum: dict[str, float | None]
    mean: dict[str, float | None]  # over uniformly sampled feasible configurations
    steps_min: dict[str, dict[str, float | None]] = field(default_factory=dict)
    steps_max: dict[str, dict[str, float | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetPrune:
    metric: str
    limit: float
    remaining: int | None  # feasible configurations within this budget
    pruned_fraction: float | None


@dataclass(frozen=True)
class Forecast:
    """What `optimize` will spend, from the estimates (before any call)."""

    trials: int
    dev_rows: int
    calls: int
    tokens: int
    cost_usd: float | None
    bootstrap_calls: int
    proposal_calls: int
    trials_within_cap: int | None


@dataclass
class SpaceReport:
    program: str
    variable_count: int
    continuous_count: int
    total_size: int | None
    feasible_size: int | None
    budget_size: int | None
    satisfiable: bool | None
    sampler: str | None
    estimates: Estimates | None = None
    budgets: list[BudgetPrune] = field(default_factory=list)
    forecast: Forecast | None = None
    unused: list[str] = field(default_factory=list)
