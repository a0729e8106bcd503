"""What a program run returns and records: calls, step traces, the prediction.

Contract: plain frozen dataclasses of JSON-like data, safe to keep and to pickle. A
`CallRecord` holds the exact messages sent and the raw answer (never an API key);
`Prediction` holds the outputs (also readable as attributes: `pred.answer`), each step's
inputs and outputs (the traces the optimizer turns into demos), and the totals of the run.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["CallRecord", "Prediction", "StepTrace"]


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One LM call. `cost_usd` is None when the model's price is unknown."""

    program: str
    step: str
    model: str
    messages: tuple[Mapping[str, Any], ...]
    text: str
    tool_calls: tuple[Mapping[str, str], ...] = ()
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = None
    latency_s: float = 0.0
    cached: bool = False


@dataclass(frozen=True, slots=True)
class StepTrace:
    """One step of one run: its module, model, inputs, outputs and calls."""

    step: str
    module: str
    model: str
    inputs: Mapping[str, Any]
    outputs: Mapping[str, Any]
    calls: tuple[CallRecord, ...] = ()


@dataclass(frozen=True)
class Prediction(Mapping[str, Any]):
    """A run's outputs (a mapping; also attributes) with its trace and totals.

    `latency_s` is the wall time of the whole run; `cost_usd` sums the calls whose price is
    known (`cost_known` says whether that was all of them)."""

    outputs: Mapping[str, Any]
    steps: tuple[StepTrace, ...] = ()
    config: Mapping[str, Any] = field(default_factory=dict)
    latency_s: float = 0.0

    @property
    def calls(self) -> tuple[CallRecord, ...]:
        return tuple(call for step in self.steps for call in step.calls)

    @property
    def prompt_tokens(self) -> int:
        return sum(c.prompt_tokens for c in self.calls)

    @property
    def completion_tokens(self) -> int:
        return sum(c.completion_tokens for c in self.calls)

    @property
    def cost_usd(self) -> float:
        return sum(c.cost_usd or 0.0 for c in self.calls)

    @property
    def cost_known(self) -> bool:
        return all(c.cost_usd is not None or c.cached for c in self.calls)

    @property
    def cache_hits(self) -> int:
        return sum(c.cached for c in self.calls)

    def usage(self) -> dict[str, Any]:
        """The totals as JSON data (what `dspxc run` prints)."""
        return {
            "calls": len(self.calls),
            "cache_hits": self.cache_hits,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": round(self.cost_usd, 8) if self.cost_known else None,
            "latency_s": round(self.latency_s, 4),
        }

    def __getitem__(self, key: str) -> Any:
        return self.outputs[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.outputs)

    def __len__(self) -> int:
        return len(self.outputs)

    def __getattr__(self, name: str) -> Any:
        outputs = self.__dict__.get("outputs")
        if outputs is not None and name in outputs:
            return outputs[name]
        raise AttributeError(f"the prediction has no output or attribute '{name}'")
