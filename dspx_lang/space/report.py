"""What the space analysis knows about one program, for the CLI, the IR and the editor.

Plain data, computed once per compilation. Sizes are counts of configurations
(None: infinite or not decided); estimates are per call of the program.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, cast

from dspx_lang.ir import schema as ir


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
    """Estimates are computed on first use: `dspxc check` needs only what its checks use."""

    program: str
    variable_count: int
    continuous_count: int
    total_size: int | None
    feasible_size: int | None
    budget_size: int | None
    satisfiable: bool | None
    sampler: str | None
    compute_estimates: Callable[[], Estimates] | None = field(default=None, repr=False)
    _estimates: Estimates | None = field(default=None, repr=False)
    budgets: list[BudgetPrune] = field(default_factory=list)
    compute_forecast: Callable[[], Forecast | None] | None = field(default=None, repr=False)
    _forecast: Forecast | None = field(default=None, repr=False)
    unused: list[str] = field(default_factory=list)

    @property
    def estimates(self) -> Estimates | None:
        if self._estimates is None and self.compute_estimates is not None:
            self._estimates = self.compute_estimates()
        return self._estimates

    @property
    def forecast(self) -> Forecast | None:
        """What `optimize` would spend (None without an optimize block)."""
        if self._forecast is None and self.compute_forecast is not None:
            self._forecast = self.compute_forecast()
        return self._forecast

    def ir_estimate(self) -> ir.ProgramEstimate | None:
        """The estimates in the IR's shape (default, min and max per step and in total)."""
        est = self.estimates
        if est is None:
            return None
        default = ir.ConfigEstimate(
            steps={
                s.step: _call(
                    s.calls, s.prompt_tokens, s.completion_tokens, s.cost_usd, s.latency_s
                )
                for s in est.default.steps
            },
            total=_call(
                sum(s.calls for s in est.default.steps),
                est.default.prompt_tokens,
                est.default.completion_tokens,
                est.default.cost_usd,
                est.default.latency_s,
            ),
        )
        return ir.ProgramEstimate(
            default=default,
            min=_config(est.steps_min, est.minimum),
            max=_config(est.steps_max, est.maximum),
        )

    def to_data(self) -> dict[str, Any]:
        """Plain data (JSON-ready apart from infinities), estimates included."""
        data = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if not f.name.startswith(("_", "compute"))
        }
        data["estimates"] = self.estimates
        data["forecast"] = self.forecast
        return cast(dict[str, Any], _plain(data))


def _call(
    calls: float, prompt: float, completion: float, cost: float | None, latency: float
) -> ir.CallEstimate:
    return ir.CallEstimate(
        calls=round(calls),
        prompt_tokens=round(prompt),
        completion_tokens=round(completion),
        cost_usd=cost,
        latency_s=latency,
    )


def _from_metrics(metrics: dict[str, float | None]) -> ir.CallEstimate:
    return _call(
        metrics.get("calls") or 0,
        metrics.get("prompt_tokens") or 0,
        metrics.get("completion_tokens") or 0,
        metrics.get("cost"),
        metrics.get("latency") or 0.0,
    )


def _config(
    steps: dict[str, dict[str, float | None]], total: dict[str, float | None]
) -> ir.ConfigEstimate:
    return ir.ConfigEstimate(
        steps={name: _from_metrics(m) for name, m in steps.items()}, total=_from_metrics(total)
    )


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
