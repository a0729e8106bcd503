"""What `dspxc optimize` will spend, from the compile-time estimates, before any call.

Contract: `run_forecast(...)` returns a `RunForecast`: one `PhaseForecast` (LM calls,
tokens, USD) per phase of the run — bootstrapping (the teacher on the trainset rows it will
run on), instruction proposals (one call per candidate), the baseline (the default
configuration on the dev rows) and the search (trials × dev rows × the mean per-call
estimate over the feasible space; `usd_max` with the most expensive configuration) — less
what the study already holds (phases done, trials done). USD is None when a model's price
is unknown (never a guessed zero). `trials_within_cap` is how many trials fit in what the cap
leaves after the setup phases, at the mean estimate. Nothing here calls an LM.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dspx_lang.space.estimate import PROPOSAL_COMPLETION_TOKENS, PROPOSAL_PROMPT_TOKENS
from dspx_lang.space.program import ProgramSpace
from dspx_lang.space.solve import Choice, ConfigValue, Opaque, Sym


@dataclass(frozen=True)
class PhaseForecast:
    name: str
    what: str
    calls: int
    tokens: int
    usd: float | None
    usd_max: float | None = None
    done: bool = False
    """Already in the study (a rerun): it costs nothing now."""


@dataclass(frozen=True)
class RunForecast:
    phases: tuple[PhaseForecast, ...]
    trials: int
    trials_done: int
    dev_rows: int
    spent: float
    """What the study's ledger already holds (a resumed run)."""
    max_spend: float | None
    trials_within_cap: int | None

    def _todo(self) -> list[PhaseForecast]:
        return [p for p in self.phases if not p.done]

    @property
    def calls(self) -> int:
        return sum(p.calls for p in self._todo())

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self._todo())

    @property
    def usd(self) -> float | None:
        costs = [p.usd for p in self._todo()]
        return None if None in costs else sum(c or 0.0 for c in costs)

    @property
    def usd_max(self) -> float | None:
        costs = [p.usd if p.usd_max is None else p.usd_max for p in self._todo()]
        return None if None in costs else sum(c or 0.0 for c in costs)

    @property
    def over_cap(self) -> bool:
        usd = self.usd
        return self.max_spend is not None and usd is not None and self.spent + usd > self.max_spend


def solver_config(ps: ProgramSpace, runtime: Mapping[str, Any]) -> dict[str, ConfigValue]:
    """A runtime configuration (names, numbers, texts) as the estimator's values;
    instruction texts count as the default (their length barely moves an estimate)."""
    out: dict[str, ConfigValue] = {}
    for var in ps.space.vars:
        value = runtime.get(var.name)
        if isinstance(var.domain, Opaque) or value is None:
            out[var.name] = var.default
        elif isinstance(var.domain, Choice):
            out[var.name] = next(
                (v for v in var.domain.values if (v.name if isinstance(v, Sym) else v) == value),
                var.default,
            )
        else:
            out[var.name] = value
    return out


def run_forecast(
    ps: ProgramSpace,
    *,
    trials: int,
    trials_done: int,
    dev_rows: int,
    bootstrap_rows: int,
    teacher: Mapping[str, Any],
    baseline: Mapping[str, Any] | None,
    proposals: int,
    proposal_model: str | None,
    phases_done: Sequence[str],
    spent: float,
    max_spend: float | None,
    maximum_cost: float | None,
) -> RunForecast:
    est = ps.estimator
    default = est.estimate({v.name: v.default for v in ps.space.vars})
    calls_per_run = sum(s.calls for s in default.steps)
    mean = est.mean(ps.space, default)
    phases = []
    t = est.estimate(solver_config(ps, teacher))
    phases.append(
        PhaseForecast(
            "bootstrap",
            f"teacher on {bootstrap_rows} trainset rows",
            bootstrap_rows * sum(s.calls for s in t.steps),
            bootstrap_rows * t.tokens,
            _times(bootstrap_rows, t.cost_usd),
            done="bootstrap" in phases_done,
        )
    )
    proposal_usd: float | None = 0.0
    if proposals and proposal_model is not None:
        cost = est.model_cost(proposal_model)
        if cost.input_cost is None or cost.output_cost is None:
            proposal_usd = None
        else:
            proposal_usd = (
                proposals
                * (
                    PROPOSAL_PROMPT_TOKENS * cost.input_cost
                    + PROPOSAL_COMPLETION_TOKENS * cost.output_cost
                )
                / 1e6
            )
    phases.append(
        PhaseForecast(
            "proposals",
            f"{proposals} instruction candidate(s)",
            proposals,
            proposals * (PROPOSAL_PROMPT_TOKENS + PROPOSAL_COMPLETION_TOKENS),
            proposal_usd,
            done="proposals" in phases_done,
        )
    )
    if baseline is not None:
        b = est.estimate(solver_config(ps, baseline))
        phases.append(
            PhaseForecast(
                "baseline",
                f"default configuration on {dev_rows} dev rows",
                dev_rows * sum(s.calls for s in b.steps),
                dev_rows * b.tokens,
                _times(dev_rows, b.cost_usd),
                done="baseline" in phases_done,
            )
        )
    left = max(0, trials - trials_done)
    runs = left * dev_rows
    phases.append(
        PhaseForecast(
            "search",
            f"{left} trial(s) × {dev_rows} dev rows",
            runs * calls_per_run,
            round(runs * (mean.get("tokens") or 0.0)),
            _times(runs, mean.get("cost")),
            _times(runs, maximum_cost),
            done=left == 0,
        )
    )
    fit = None
    per_trial = mean.get("cost")
    setup = [p.usd for p in phases if p.name != "search" and not p.done]
    if max_spend is not None and per_trial and None not in setup:
        room = max_spend - spent - sum(u or 0.0 for u in setup)
        fit = trials_done + max(0, math.floor(room / (per_trial * dev_rows) + 1e-9))
    return RunForecast(
        phases=tuple(phases),
        trials=trials,
        trials_done=trials_done,
        dev_rows=dev_rows,
        spent=spent,
        max_spend=max_spend,
        trials_within_cap=None if fit is None else min(fit, trials),
    )


def _times(n: int, usd: float | None) -> float | None:
    return None if usd is None else n * usd
