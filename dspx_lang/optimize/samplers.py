"""Where configurations come from: feasible-set sequences (grid, random) and optuna samplers.

Contract:
- `FeasibleSequence` lists feasible configurations in a fixed order, lazily: `grid` in the
  solver's enumeration order (`Space.iter_feasible`), `random` as the distinct configurations
  of a seeded stream of uniform feasible draws (`Space.sample_feasible`), in first-draw order.
  The same space and seed give the same sequence in every process, so a claim that takes
  "the first configuration of the sequence nobody has taken" makes grid and random exact,
  shared across workers, and unaffected by a resume (finished ones are skipped, never redone).
  Entries carry their forecast in money units, computed when the entry is listed.
- `optuna_sampler(...)` builds tpe (multivariate, constant liar for concurrent trials),
  nsga2 or cmaes, seeded. tpe and nsga2 learn feasibility from the constraint values optuna
  stores on each trial (`Trial.set_constraint`, see `study.py`); cmaes ignores them.
- Space and forecast are used from the thread that calls `extend` (the event loop).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dspx_lang.optimize.codec import config_key
from dspx_lang.optimize.ledger import Choose, Pick, Refusal
from dspx_lang.optimize.model import Forecast, OptimizeError, SamplerName
from dspx_lang.optimize.spend import to_units
from dspx_lang.space.solve import (
    BoolDomain,
    Candidate,
    Choice,
    ConfigValue,
    FloatRange,
    InfiniteSpaceError,
    IntRange,
    Opaque,
    SamplingError,
    Space,
    Var,
)

if TYPE_CHECKING:
    from optuna.samplers import BaseSampler

RESULT_ATTR = "dspx_result"
CLAIM_ATTR = "dspx_claim"
RANDOM_BATCH = 64
"""Draws per extension of a random sequence."""
DRY_BATCHES = 8
"""Random batches in a row without a new configuration before the space counts as exhausted."""
NEIGHBOUR_REACH = 4
"""How far (in domain steps) a proposal's neighbours go, per variable and direction."""


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    config: dict[str, ConfigValue]
    units: int


class FeasibleSequence:
    """A lazily listed, deterministic sequence of distinct feasible configurations."""

    def __init__(self, space: Space, kind: SamplerName, seed: int, forecast: Forecast) -> None:
        self.space = space
        self.forecast = forecast
        self.entries: list[Entry] = []
        self.keys: dict[str, Entry] = {}
        self.finished = False
        self._dry = 0
        self._size: int | None = None
        if kind == "grid":
            try:
                self._grid: Iterator[dict[str, ConfigValue]] | None = space.iter_feasible()
            except InfiniteSpaceError as exc:
                raise OptimizeError(
                    f"the grid sampler needs a finite space ({exc}); use random or tpe"
                ) from None
        else:
            self._grid = None
            self._rng = random.Random(seed)
            self._size = space.analyze().size

    def extend(self, n: int = RANDOM_BATCH) -> None:
        """List up to `n` more configurations (fewer when the sequence ends)."""
        if self.finished:
            return
        added = 0
        if self._grid is not None:
            for config in self._grid:
                added += self._add(config)
                if added >= n:
                    return
            self.finished = True
            return
        try:
            draws = self.space.sample_feasible(self._rng, n)
        except SamplingError as exc:
            raise OptimizeError(f"cannot draw a feasible configuration: {exc}") from None
        for config in draws:
            added += self._add(config)
        self._dry = 0 if added else self._dry + 1
        if (self._size is not None and len(self.entries) >= self._size) or (
            self._dry >= DRY_BATCHES
        ):
            self.finished = True

    def _add(self, config: dict[str, ConfigValue]) -> int:
        key = config_key(self.space.vars, config)
        if key in self.keys:
            return 0
        entry = Entry(key, config, to_units(self.forecast(config)))
        self.entries.append(entry)
        self.keys[key] = entry
        return 1

    def chooser(self, skip: frozenset[str]) -> Choose:
        """The first listed configuration not taken in the study nor in `skip`."""
        entries = list(self.entries)
        finished = self.finished

        def choose(taken: frozenset[str]) -> Pick | Refusal:
            for entry in entries:
                if entry.key not in taken and entry.key not in skip:
                    return Pick(entry.key, entry.units)
            return Refusal("exhausted", True) if finished else Refusal("more", False)

        return choose


def first_untaken(options: Sequence[Pick]) -> Choose:
    """The first of `options` nobody has taken ("taken" when all are)."""

    def choose(taken: frozenset[str]) -> Pick | Refusal:
        return next((o for o in options if o.key not in taken), Refusal("taken", False))

    return choose


def neighbours(space: Space, config: Mapping[str, ConfigValue]) -> list[dict[str, ConfigValue]]:
    """Feasible configurations differing from `config` in one variable, nearest first: every
    variable's values at distance 1 (in domain order), then at distance 2, and so on up to
    `NEIGHBOUR_REACH`. Continuous variables have no neighbours."""
    rings: list[list[ConfigValue]] = [_near(v, config[v.name]) for v in space.vars]
    out = []
    for distance in range(2 * NEIGHBOUR_REACH):
        for var, ring in zip(space.vars, rings, strict=True):
            if distance < len(ring):
                candidate = {**config, var.name: ring[distance]}
                if space.is_feasible(candidate):
                    out.append(candidate)
    return out


def _near(var: Var, value: ConfigValue) -> list[ConfigValue]:
    """Other values of `var`'s domain ordered by distance from `value` (below first)."""
    dom = var.domain
    if isinstance(dom, Choice | BoolDomain | Opaque):
        values: list[ConfigValue]
        if isinstance(dom, Choice):
            values = list(dom.values)
        elif isinstance(dom, BoolDomain):
            values = [False, True]
        else:
            if dom.size is None:
                return []
            values = [var.default, *(Candidate(var.name, k) for k in range(1, dom.size))]
        if value not in values:
            return []
        i = values.index(value)
        return _rings(lambda k: values[k], i, 0, len(values) - 1)
    if isinstance(dom, IntRange) and isinstance(value, int):
        return _rings(lambda k: k, value, dom.lo, dom.hi)
    if isinstance(dom, FloatRange) and dom.step is not None and isinstance(value, float):
        from dspx_lang.optimize.codec import decode

        step = dom.step
        k = round((value - dom.lo) / step)
        last = round((dom.hi - dom.lo) / step)
        return _rings(lambda j: decode(var, dom.lo + j * step), k, 0, last)
    return []


def _rings(at: Callable[[int], ConfigValue], i: int, lo: int, hi: int) -> list[ConfigValue]:
    out = []
    for d in range(1, NEIGHBOUR_REACH + 1):
        for j in (i - d, i + d):
            if lo <= j <= hi:
                out.append(at(j))
    return out


def optuna_sampler(name: SamplerName, *, seed: int, trials: int) -> BaseSampler:
    """The optuna sampler behind `name` (grid and random never ask it: see the docstring)."""
    import optuna
    from optuna.exceptions import ExperimentalWarning

    # Multivariate TPE and the constant liar are marked experimental; we rely on them.
    warnings.filterwarnings("ignore", category=ExperimentalWarning, module="optuna")
    startup = max(2, min(10, trials // 4))
    sampler: Any
    if name == "tpe":
        sampler = optuna.samplers.TPESampler(
            seed=seed,
            multivariate=True,
            constant_liar=True,
            n_startup_trials=startup,
        )
    elif name == "nsga2":
        sampler = optuna.samplers.NSGAIISampler(
            seed=seed,
            population_size=max(4, min(50, trials // 5)),
        )
    elif name == "cmaes":
        try:
            import cmaes  # type: ignore[import-untyped]  # noqa: F401 - fail early, with advice
        except ImportError:
            raise OptimizeError(
                "the cmaes sampler needs the `cmaes` package: pip install cmaes"
            ) from None
        sampler = optuna.samplers.CmaEsSampler(
            seed=seed, n_startup_trials=startup, warn_independent_sampling=False
        )
    elif name in ("grid", "random"):
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        raise OptimizeError(f"unknown sampler {name!r}: use grid, random, tpe, nsga2 or cmaes")
    result: BaseSampler = sampler
    return result
