"""Pareto fronts and the weighted choice among scored trials.

Contract:
- `weights(objectives)` normalises weights to sum to 1 (all zero: equal weights).
- `front(records, objectives)` is the set of feasible records no other feasible record
  dominates (at least as good in every objective, better in one), in input order; records
  with equal objective vectors are all kept.
- `choose(records, objectives)` scores feasible records: each objective is rescaled over the
  feasible records to [0, 1] (1 = the best value seen, 0 = the worst; an objective with one
  value seen counts 1 for all), oriented by its direction, and weighted; the chosen record is
  the front member with the highest score, ties going to the lowest trial number. With
  positive weights the highest score over all feasible records is on the front anyway.
- `scalarize(values, objectives)` is the fixed one-number summary the `cmaes` sampler
  maximises: sum of weight * value / scale, negated for minimised objectives.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from dspx_lang.optimize.model import Objective, TrialRecord


def weights(objectives: Sequence[Objective]) -> tuple[float, ...]:
    total = sum(o.weight for o in objectives)
    if total <= 0:
        return tuple(1.0 / len(objectives) for _ in objectives)
    return tuple(o.weight / total for o in objectives)


def normalised(objectives: Sequence[Objective]) -> tuple[Objective, ...]:
    return tuple(replace(o, weight=w) for o, w in zip(objectives, weights(objectives), strict=True))


def _oriented(record: TrialRecord, objectives: Sequence[Objective]) -> tuple[float, ...]:
    """Objective values with every objective turned into "higher is better"."""
    return tuple(
        record.values[o.name] if o.direction == "maximize" else -record.values[o.name]
        for o in objectives
    )


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether oriented vector `a` Pareto-dominates `b`."""
    return all(x >= y for x, y in zip(a, b, strict=True)) and any(
        x > y for x, y in zip(a, b, strict=True)
    )


def front(records: Sequence[TrialRecord], objectives: Sequence[Objective]) -> list[TrialRecord]:
    feasible = [r for r in records if r.feasible]
    vectors = [_oriented(r, objectives) for r in feasible]
    return [
        r
        for r, v in zip(feasible, vectors, strict=True)
        if not any(dominates(other, v) for other in vectors)
    ]


def scores(records: Sequence[TrialRecord], objectives: Sequence[Objective]) -> dict[int, float]:
    """Trial number -> weighted, normalised score of each feasible record."""
    feasible = [r for r in records if r.feasible]
    if not feasible:
        return {}
    vectors = [_oriented(r, objectives) for r in feasible]
    lows = [min(v[i] for v in vectors) for i in range(len(objectives))]
    highs = [max(v[i] for v in vectors) for i in range(len(objectives))]
    w = weights(objectives)
    out = {}
    for record, vector in zip(feasible, vectors, strict=True):
        score = 0.0
        for i, x in enumerate(vector):
            span = highs[i] - lows[i]
            score += w[i] * ((x - lows[i]) / span if span > 0 else 1.0)
        out[record.number] = score
    return out


def choose(
    records: Sequence[TrialRecord], objectives: Sequence[Objective]
) -> tuple[TrialRecord | None, list[TrialRecord], list[TrialRecord]]:
    """(chosen, front, records with scores filled in) — see the module docstring."""
    by_number = scores(records, objectives)
    scored = [replace(r, score=by_number.get(r.number)) for r in records]
    members = front(scored, objectives)
    best = max(members, key=lambda r: (r.score or 0.0, -r.number), default=None)
    return best, members, scored


def scalarize(values: Mapping[str, float], objectives: Sequence[Objective]) -> float:
    w = weights(objectives)
    return sum(
        wi * (values[o.name] if o.direction == "maximize" else -values[o.name]) / o.scale
        for o, wi in zip(objectives, w, strict=True)
    )
