"""Demo bootstrapping: successful traces of a teacher on trainset rows become demo candidates.

Contract of `bootstrap_demos(teacher, rows, *, demos, concurrency, spend, seed)`:
- `rows` are shuffled with `seed`; the teacher (a configured runtime `Program`, usually the
  default configuration or a stronger model) runs on the first `BOOTSTRAP_PER_DEMO × max(demos)`
  of them (the count the compiler's forecast assumes) through the runtime's evaluation, so
  every call goes through `spend` and nothing else is sent.
- A run is *successful* when it answered (status ok) and every quality objective scored 1
  (e.g. an exact match); its step traces become one demo per step: the step's inputs and its
  signature outputs (a `cot` step's reasoning is not kept: demos show the answer format).
- Each step's pool holds at most `demos[step]` demos, ordered so that the first ones show
  distinct answers (round-robin over the distinct outputs, in shuffled order): the `demos`
  variable shows the first k, so any k covers as many different answers as it can.
- The result is JSON data (`BootstrapResult.to_json`), stored once per study.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dspx_lang.runtime.eval_results import json_data

if TYPE_CHECKING:
    from dspx_lang.runtime.examples import Example
    from dspx_lang.runtime.metering import SpendHook
    from dspx_lang.runtime.program import Program

BOOTSTRAP_PER_DEMO = 4  # teacher runs per demo slot (as dspx_lang.space.estimate assumes)


@dataclass(frozen=True)
class BootstrapResult:
    pool: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """step -> demos as {"inputs": {...}, "outputs": {...}}, best-first."""
    rows: int = 0
    successful: int = 0
    failed: int = 0
    calls: int = 0
    spent_usd: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "pool": self.pool,
            "rows": self.rows,
            "successful": self.successful,
            "failed": self.failed,
            "calls": self.calls,
            "spent_usd": self.spent_usd,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> BootstrapResult:
        return cls(
            pool={k: list(v) for k, v in data.get("pool", {}).items()},
            rows=int(data.get("rows", 0)),
            successful=int(data.get("successful", 0)),
            failed=int(data.get("failed", 0)),
            calls=int(data.get("calls", 0)),
            spent_usd=float(data.get("spent_usd", 0.0)),
        )


def bootstrap_rows(count: int, demos: Mapping[str, int]) -> int:
    """How many trainset rows the teacher runs on."""
    most = max(demos.values(), default=0)
    return min(count, BOOTSTRAP_PER_DEMO * most) if most > 0 else 0


async def bootstrap_demos(
    teacher: Program,
    rows: Sequence[Example],
    *,
    demos: Mapping[str, int],
    concurrency: int,
    spend: SpendHook | None,
    seed: int,
) -> BootstrapResult:
    from dspx_lang.runtime.evaluate import aevaluate_program

    wanted = {step: k for step, k in demos.items() if k > 0}
    count = bootstrap_rows(len(rows), wanted)
    if count == 0:
        return BootstrapResult()
    order = list(rows)
    random.Random(seed).shuffle(order)
    chosen = order[:count]
    result = await aevaluate_program(teacher, chosen, concurrency=concurrency, spend=spend)
    by_index = {r.index: r for r in result.results}
    signatures = {s.name: teacher.package.signatures[s.signature] for s in teacher.decl.steps}
    candidates: dict[str, list[dict[str, Any]]] = {step: [] for step in wanted}
    successful = 0
    for example in chosen:  # shuffled order, so the pool does not follow the file's order
        r = by_index.get(example.index)
        if r is None or r.status != "ok" or r.prediction is None or r.score is None:
            continue
        if r.score < 1.0:
            continue
        successful += 1
        for trace in r.prediction.steps:
            if trace.step not in wanted:
                continue
            names = [f.name for f in signatures[trace.step].outputs]
            candidates[trace.step].append(
                {
                    "inputs": json_data(dict(trace.inputs)),
                    "outputs": json_data({n: trace.outputs[n] for n in names}),
                }
            )
    pool = {step: _diverse(found, wanted[step]) for step, found in candidates.items()}
    return BootstrapResult(
        pool=pool,
        rows=count,
        successful=successful,
        failed=count - successful,
        calls=sum(r.calls for r in result.results),
        spent_usd=result.spent_usd,
    )


def _diverse(found: Sequence[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """At most `limit` demos, round-robin over the distinct outputs (first seen first)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for demo in found:
        groups.setdefault(json.dumps(demo["outputs"], sort_keys=True), []).append(demo)
    ordered: list[dict[str, Any]] = []
    while len(ordered) < limit and any(groups.values()):
        for group in groups.values():
            if group and len(ordered) < limit:
                ordered.append(group.pop(0))
    return ordered
