"""What an evaluation returns and writes: per-example results, the summary, the JSONL file.

Contract:
- `ExampleResult.status` is one of:
  `ok` (the program answered; scored), `output_error` (`DspxOutputError`: the program's
  fault, every quality objective scores 0), `infra_error` (`DspxProviderError` after the
  client's retries, or `DspxSandboxError`: never scored, counted), `metric_error` (a
  Python metric raised or returned a non-number: not scored, counted), `stopped` (the spend
  hook refused a call: not scored, counted).
- `summarize` aggregates: each quality objective is the mean over the *scored* examples
  (`ok` and `output_error`); the measured `cost` (USD), `latency` (s) and `tokens` are means
  per example over the same examples (cost None when a price is unknown); budgets compare
  those means with their limits. `score` is the weighted mean of the quality objectives
  (weights renormalised among them), None when there are none or one of them minimizes.
- The results file is JSON Lines: a header line (`"kind": "evaluation"`: program,
  fingerprint of the configuration and prompts, objective names), then one `"kind":
  "example"` line per finished example, written and flushed as it finishes (a killed run
  keeps every line written). Secrets never reach it: messages are the runtime's scrubbed
  error texts, and neither prompts nor endpoints are written.
- Resuming (`ResultsFile.open(..., resume=True)`) refuses a file whose header differs; a cut
  last line is dropped; for an index written twice the last line wins; `infra_error` lines
  are not kept, so those examples run again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, get_args

from dspx_lang.runtime.examples import DspxDataError, Example
from dspx_lang.runtime.metrics import Objective
from dspx_lang.runtime.results import Prediction

__all__ = [
    "BudgetCheck",
    "EvaluationResult",
    "ExampleResult",
    "ObjectiveValue",
    "ResultsFile",
    "Status",
    "json_data",
    "quality_score",
    "summarize",
]

Status = Literal["ok", "output_error", "infra_error", "metric_error", "stopped"]
SCORED: tuple[Status, ...] = ("ok", "output_error")
RESULTS_VERSION = 1


@dataclass(frozen=True)
class ExampleResult:
    """One example's run: outputs, scores, measurements and, on failure, the error."""

    index: int
    inputs: Mapping[str, Any]
    expected: Mapping[str, Any]
    status: Status
    outputs: Mapping[str, Any] | None = None
    scores: Mapping[str, float] = field(default_factory=dict)
    score: float | None = None
    """The weighted quality score of this example (see `summarize`)."""
    error_type: str | None = None
    error: str | None = None
    latency_s: float = 0.0
    cost_usd: float | None = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cache_hits: int = 0
    prediction: Prediction | None = field(default=None, compare=False, repr=False)
    """The run's trace (steps, calls); None for failures and for results read from a file."""
    example: Example | None = field(default=None, compare=False, repr=False)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def scored(self) -> bool:
        return self.status in SCORED

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": "example",
            "index": self.index,
            "status": self.status,
            "inputs": dict(self.inputs),
            "expected": dict(self.expected),
            "outputs": None if self.outputs is None else dict(self.outputs),
            "scores": dict(self.scores),
            "score": self.score,
            "error_type": self.error_type,
            "error": self.error,
            "latency_s": self.latency_s,
            "cost_usd": self.cost_usd,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "calls": self.calls,
            "cache_hits": self.cache_hits,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExampleResult:
        status = data["status"]
        if status not in get_args(Status):
            raise ValueError(f"unknown status {status!r}")
        return cls(
            index=int(data["index"]),
            inputs=dict(data["inputs"]),
            expected=dict(data["expected"]),
            status=status,
            outputs=None if data.get("outputs") is None else dict(data["outputs"]),
            scores={str(k): float(v) for k, v in dict(data.get("scores") or {}).items()},
            score=None if data.get("score") is None else float(data["score"]),
            error_type=data.get("error_type"),
            error=data.get("error"),
            latency_s=float(data.get("latency_s", 0.0)),
            cost_usd=None if data.get("cost_usd") is None else float(data["cost_usd"]),
            prompt_tokens=int(data.get("prompt_tokens", 0)),
            completion_tokens=int(data.get("completion_tokens", 0)),
            calls=int(data.get("calls", 0)),
            cache_hits=int(data.get("cache_hits", 0)),
        )


@dataclass(frozen=True, slots=True)
class ObjectiveValue:
    """An objective's aggregate: `value` is None when no example could be measured."""

    name: str
    metric: str
    direction: Literal["maximize", "minimize"]
    weight: float
    value: float | None
    count: int


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    """A budget against the measured mean: `within` is None when it could not be measured."""

    metric: Literal["cost", "latency", "tokens"]
    limit: float
    measured: float | None
    within: bool | None


@dataclass(frozen=True)
class EvaluationResult:
    """A whole evaluation; see the module docstring for how values are aggregated."""

    program: str
    config: Mapping[str, Any]
    objectives: tuple[ObjectiveValue, ...]
    budgets: tuple[BudgetCheck, ...]
    results: tuple[ExampleResult, ...]
    """Finished examples (every status), by index."""
    total: int
    """Examples asked for; those without a result were not run (stopped or interrupted)."""
    score: float | None
    cost_usd: float | None
    latency_s: float | None
    tokens: float | None
    spent_usd: float
    """Money spent by every call of the evaluation, including failed examples'."""
    spent_known: bool
    wall_s: float = 0.0
    stopped: bool = False
    stop_reason: str | None = None
    resumed: int = 0
    """Results taken from the results file instead of run again."""

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def scored(self) -> int:
        return sum(r.scored for r in self.results)

    @property
    def correct(self) -> int:
        """`ok` examples whose quality score is 1 (every quality objective at its best)."""
        return sum(
            r.status == "ok" and r.score is not None and r.score >= 1.0 for r in self.results
        )

    @property
    def wrong(self) -> int:
        """`ok` examples with a quality score below 1."""
        return sum(r.status == "ok" and r.score is not None and r.score < 1.0 for r in self.results)

    @property
    def not_run(self) -> int:
        return self.total - len(self.results)

    @property
    def cache_hits(self) -> int:
        return sum(r.cache_hits for r in self.results)

    @property
    def within_budget(self) -> bool | None:
        """False when a budget is exceeded, None when one could not be measured."""
        if any(b.within is False for b in self.budgets):
            return False
        return None if any(b.within is None for b in self.budgets) else True

    def value(self, name: str) -> float | None:
        """The value of the objective named `name` (e.g. `exact_match(intent)`, `cost`)."""
        for o in self.objectives:
            if o.name == name:
                return o.value
        raise KeyError(
            f"no objective {name!r} (the objectives: {[o.name for o in self.objectives]})"
        )

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "scored": self.scored,
            "correct": self.correct,
            "wrong": self.wrong,
            "output_errors": self.count("output_error"),
            "infra_errors": self.count("infra_error"),
            "metric_errors": self.count("metric_error"),
            "stopped": self.count("stopped"),
            "not_run": self.not_run,
            "cache_hits": self.cache_hits,
        }

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON data (no per-example results: they are in the results file)."""
        return {
            "program": self.program,
            "config": dict(self.config),
            "objectives": [
                {
                    "name": o.name,
                    "direction": o.direction,
                    "weight": o.weight,
                    "value": o.value,
                    "count": o.count,
                }
                for o in self.objectives
            ],
            "score": self.score,
            "budgets": [
                {"metric": b.metric, "limit": b.limit, "measured": b.measured, "within": b.within}
                for b in self.budgets
            ],
            "within_budget": self.within_budget,
            "measured": {
                "cost_usd": self.cost_usd,
                "latency_s": self.latency_s,
                "tokens": self.tokens,
            },
            "spent_usd": self.spent_usd if self.spent_known else None,
            "counts": self.counts(),
            "wall_s": round(self.wall_s, 4),
            "stopped": self.stopped,
            "stop_reason": self.stop_reason,
            "resumed": self.resumed,
        }


def summarize(
    *,
    program: str,
    config: Mapping[str, Any],
    objectives: Sequence[Objective],
    budgets: Sequence[tuple[Literal["cost", "latency", "tokens"], float]],
    results: Sequence[ExampleResult],
    total: int,
    wall_s: float = 0.0,
    stop_reason: str | None = None,
    resumed: int = 0,
) -> EvaluationResult:
    """Aggregate per-example results (see the module docstring)."""
    ordered = tuple(sorted(results, key=lambda r: r.index))
    scored = [r for r in ordered if r.scored]
    costs = [r.cost_usd for r in scored]
    measured: dict[str, float | None] = {
        "cost": None if not scored or None in costs else _mean([c or 0.0 for c in costs]),
        "latency": _mean([r.latency_s for r in scored]),
        "tokens": _mean([float(r.tokens) for r in scored]),
    }
    values = [
        ObjectiveValue(
            name=o.name,
            metric=o.metric,
            direction=o.direction,
            weight=o.weight,
            value=measured[o.metric]
            if o.measured
            else _mean([r.scores[o.name] for r in scored if o.name in r.scores]),
            count=len(scored),
        )
        for o in objectives
    ]
    checks = tuple(_budget(metric, limit, measured[metric]) for metric, limit in budgets)
    return EvaluationResult(
        program=program,
        config=dict(config),
        objectives=tuple(values),
        budgets=checks,
        results=ordered,
        total=total,
        score=quality_score({v.name: v.value for v in values}, objectives),
        cost_usd=measured["cost"],
        latency_s=measured["latency"],
        tokens=measured["tokens"],
        spent_usd=sum(r.cost_usd or 0.0 for r in ordered),
        spent_known=all(r.cost_usd is not None for r in ordered),
        wall_s=wall_s,
        stopped=stop_reason is not None,
        stop_reason=stop_reason,
        resumed=resumed,
    )


def _budget(
    metric: Literal["cost", "latency", "tokens"], limit: float, value: float | None
) -> BudgetCheck:
    within = None if value is None else value <= limit
    return BudgetCheck(metric=metric, limit=limit, measured=value, within=within)


def quality_score(
    values: Mapping[str, float | None], objectives: Sequence[Objective]
) -> float | None:
    """The weighted mean of the quality objectives' `values`, or None (see the docstring)."""
    quality = [o for o in objectives if not o.measured]
    if not quality or any(o.direction != "maximize" for o in quality):
        return None
    total = sum(o.weight for o in quality)
    numbers = [values.get(o.name) for o in quality]
    if any(v is None for v in numbers) or total <= 0:
        return None
    return sum(o.weight * (v or 0.0) for o, v in zip(quality, numbers, strict=True)) / total


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


class ResultsFile:
    """The streamed JSONL results of one evaluation (see the module docstring)."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle = handle

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], header: Mapping[str, Any], *, resume: bool
    ) -> tuple[ResultsFile, list[ExampleResult]]:
        """Start the file (or continue it when `resume`); the results kept from it."""
        target = Path(path)
        kept: list[ExampleResult] = []
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if resume and target.exists():
                kept, good_end = _read(target, header)
                if good_end > 0:
                    handle = target.open("r+", encoding="utf-8")
                    handle.seek(good_end)
                    handle.truncate()
                    return cls(target, handle), kept
            handle = target.open("w", encoding="utf-8")
        except OSError as exc:
            raise DspxDataError(
                f"cannot write the results file {target}: {exc.strerror or exc}"
            ) from None
        results = cls(target, handle)
        results._line({"kind": "evaluation", "version": RESULTS_VERSION, **header})
        return results, kept

    def write(self, result: ExampleResult) -> None:
        self._line(result.to_json())

    def _line(self, data: Mapping[str, Any]) -> None:
        self._handle.write(json.dumps(data, ensure_ascii=False, default=str) + "\n")
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()


def _read(path: Path, header: Mapping[str, Any]) -> tuple[list[ExampleResult], int]:
    """The results worth keeping and the byte offset after the last complete line (0 when
    there is none: a run killed before its header was written, or an empty file)."""
    data = path.read_bytes()
    lines = data.split(b"\n")
    # Everything after the last newline is a line cut short by a killed run.
    complete, offset = lines[:-1], 0
    found: dict[int, ExampleResult] = {}
    for number, raw in enumerate(complete, start=1):
        offset += len(raw) + 1
        try:
            record = json.loads(raw)
        except ValueError:
            if number == len(complete):
                return _kept(found), offset - len(raw) - 1
            raise DspxDataError(f"{path}:{number}: not a JSON line; the file is damaged") from None
        if number == 1:
            _check_header(path, record, header)
            continue
        try:
            result = ExampleResult.from_json(record)
        except (KeyError, TypeError, ValueError) as exc:
            raise DspxDataError(f"{path}:{number}: not an example result ({exc})") from None
        found[result.index] = result
    return _kept(found), offset


def _kept(found: Mapping[int, ExampleResult]) -> list[ExampleResult]:
    return [r for r in found.values() if r.status != "infra_error"]


def _check_header(path: Path, record: Any, header: Mapping[str, Any]) -> None:
    if not isinstance(record, dict) or record.get("kind") != "evaluation":
        raise DspxDataError(f"{path} is not a dspx results file (no evaluation header line)")
    differs = [key for key, value in header.items() if record.get(key) != json_data(value)]
    if differs:
        raise DspxDataError(
            f"{path} holds an evaluation of another program, configuration or objectives "
            f"(differs in: {', '.join(differs)}); rerun without --resume to start it over, "
            "or choose another results file"
        )


def json_data(value: Any) -> Any:
    """`value` as it reads back from JSON (how results from a file compare with data)."""
    return json.loads(json.dumps(value, default=str))
