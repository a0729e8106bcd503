"""Configurations as JSON scalars, canonical keys, and optuna distributions.

Contract:
- `encode(var, value)` maps a solver value to a JSON scalar: a `Sym` to its name, for an
  `Opaque` (instructions) variable its default to 0 and `Candidate(var, k)` to k, literals to
  themselves. Within one variable the encoding is injective, so
  `decode(var, encode(var, v)) == v` for every `v` in the domain.
- `config_key(vars, config)` is the canonical identity of a configuration: the JSON list of
  encoded values in declaration order (floats by their shortest `repr`). Two configurations
  have the same key iff they are equal.
- `distributions(vars)` gives optuna distributions whose values are the encoded ones:
  categorical for choices, bools and instruction candidates; int and float ranges (with
  `log`/`step`) as int/float distributions. `decode` snaps a stepped float onto the solver's
  own grid (`lo + k*step` computed exactly), so optuna's rounding never makes a value fall
  off the grid.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from dspx_lang.optimize.model import OptimizeError
from dspx_lang.space.solve import (
    BoolDomain,
    Candidate,
    Choice,
    ConfigValue,
    FloatRange,
    IntRange,
    Opaque,
    Sym,
    Var,
)

if TYPE_CHECKING:
    from optuna.distributions import BaseDistribution

Scalar = bool | int | float | str


def encode(var: Var, value: ConfigValue) -> Scalar:
    if isinstance(var.domain, Opaque):
        return value.index if isinstance(value, Candidate) else 0
    return _scalar(value)


def _scalar(value: ConfigValue) -> Scalar:
    if isinstance(value, Sym):
        return value.name
    if isinstance(value, Candidate):
        return value.index
    return value


def decode(var: Var, raw: Any) -> ConfigValue:
    """The solver value of `raw` (an encoded value) for `var`; `OptimizeError` if outside."""
    dom = var.domain
    if isinstance(dom, Opaque):
        if raw == 0 and not isinstance(raw, bool):
            return var.default
        if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 1:
            return Candidate(var.name, raw)
    elif isinstance(dom, Choice):
        for value in dom.values:
            enc = _scalar(value)
            if type(enc) is type(raw) and enc == raw:
                return value
    elif isinstance(dom, BoolDomain):
        if isinstance(raw, bool):
            return raw
    elif isinstance(dom, IntRange):
        if isinstance(raw, int | float) and not isinstance(raw, bool) and float(raw).is_integer():
            return int(raw)
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        return _snap(dom, float(raw))
    raise OptimizeError(f"variable {var.name}: {raw!r} is not a value of its domain")


def _exact(x: float) -> Fraction:
    """A float as the decimal its `repr` shows (the solver reads numbers the same way)."""
    return Fraction(Decimal(repr(x)))


def _snap(dom: FloatRange, x: float) -> float:
    if dom.step is None:
        return min(max(x, dom.lo), dom.hi)
    lo, step = _exact(dom.lo), _exact(dom.step)
    last = math.floor((_exact(dom.hi) - lo) / step)
    k = min(max(round((_exact(x) - lo) / step), 0), last)
    return float(lo + k * step)


def config_key(vars: Sequence[Var], config: Mapping[str, ConfigValue]) -> str:
    return json.dumps([encode(v, config[v.name]) for v in vars], separators=(",", ":"))


def config_from_key(vars: Sequence[Var], key: str) -> dict[str, ConfigValue]:
    raw = json.loads(key)
    if not isinstance(raw, list) or len(raw) != len(vars):
        raise OptimizeError(f"stored configuration {key} does not match the variables")
    return {v.name: decode(v, r) for v, r in zip(vars, raw, strict=True)}


def encode_config(vars: Sequence[Var], config: Mapping[str, ConfigValue]) -> dict[str, Scalar]:
    return {v.name: encode(v, config[v.name]) for v in vars}


def decode_config(vars: Sequence[Var], params: Mapping[str, Any]) -> dict[str, ConfigValue]:
    missing = [v.name for v in vars if v.name not in params]
    if missing:
        raise OptimizeError(f"stored configuration lacks variables {', '.join(missing)}")
    return {v.name: decode(v, params[v.name]) for v in vars}


def choices(var: Var) -> tuple[Scalar, ...] | None:
    """The encoded values of a categorical variable (None for int/float ranges)."""
    dom = var.domain
    if isinstance(dom, Choice):
        return tuple(dict.fromkeys(_scalar(v) for v in dom.values))
    if isinstance(dom, BoolDomain):
        return (False, True)
    if isinstance(dom, Opaque):
        if dom.size is None:
            raise OptimizeError(f"variable {var.name}: give the number of instruction candidates")
        return tuple(range(dom.size))
    return None


def distributions(vars: Sequence[Var]) -> dict[str, BaseDistribution]:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, BaseDistribution] = {}
    for var in vars:
        cats = choices(var)
        dom = var.domain
        if cats is not None:
            out[var.name] = CategoricalDistribution(cats)
        elif isinstance(dom, IntRange):
            out[var.name] = IntDistribution(dom.lo, dom.hi)
        else:
            assert isinstance(dom, FloatRange)
            if dom.step is not None:
                # optuna wants high on the grid; the solver's grid ends at its last point.
                high = _snap(dom, dom.hi)
                out[var.name] = FloatDistribution(dom.lo, high, step=dom.step)
            else:
                out[var.name] = FloatDistribution(dom.lo, dom.hi, log=dom.log and dom.lo > 0)
    return out
