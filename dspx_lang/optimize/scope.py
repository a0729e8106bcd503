"""What one `dspxc optimize` run may try, decided before any call.

Contract:
- `pin_space(ps, decl, pins)`: the program's feasible space with some variables fixed
  (`--set VAR=VALUE`): each pin is checked like `Program.configure` checks it (domain and
  constraints, `DspxConfigError`) and becomes an equality constraint of the space, so the
  optimizer never proposes another value. `instructions(...)` variables cannot be pinned
  (their candidates are proposed). No feasible configuration left is an `OptimizeError`.
- `missing_keys(ps, package, overrides)`: the models the space can reach (on sampled feasible
  configurations and the default) whose provider needs an API key that the environment does
  not hold, as `(model, environment variable)` pairs; the run refuses them up front instead
  of failing on the first trial that picks them.
- `split(rows, split, seed)`: a seeded partition of the trainset into train and dev rows
  (`split` of them train; at least one dev row when there are two or more).
- `max_demos(decl, step)`: the most demos a step can show (its `demos` setting's top value).
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dspx_lang.ir import schema as ir
from dspx_lang.optimize.forecast import solver_config
from dspx_lang.optimize.model import OptimizeError
from dspx_lang.space.lower import IMPLICIT_BASE
from dspx_lang.space.program import ProgramSpace
from dspx_lang.space.solve import Candidate, Cmp, Const, Constraint, Opaque, Ref, Space

if TYPE_CHECKING:
    from dspx_lang.runtime.examples import Example

_PIN_BASE = IMPLICIT_BASE * 3  # after declared, capability and budget constraint ids


def pin_space(ps: ProgramSpace, decl: ir.ProgramDecl, pins: Mapping[str, Any]) -> ProgramSpace:
    if not pins:
        return ps
    from dspx_lang.runtime.config import default_config, resolve_config

    resolved = resolve_config(decl, default_config(decl), pins)
    values = solver_config(ps, resolved)
    extra = []
    for i, name in enumerate(pins):
        var = next(v for v in ps.space.vars if v.name == name)
        if isinstance(var.domain, Opaque):
            raise OptimizeError(
                f"--set {name}: an instructions(...) variable cannot be fixed; its candidates "
                "are proposed by the run"
            )
        value = values[name]
        assert not isinstance(value, Candidate)  # only instructions variables hold those
        extra.append(Constraint(_PIN_BASE + i, Cmp("==", Ref(name), Const(value))))
    space = Space(ps.space.vars, [*ps.space.constraints, *extra])
    ps.estimator._samples = None  # its sampled configurations must come from this space
    if space.analyze().satisfiable is False:
        shown = ", ".join(f"{k}={v}" for k, v in pins.items())
        raise OptimizeError(f"no feasible configuration has {shown} (budgets included)")
    return ProgramSpace(space, ps.estimator)


def missing_keys(
    ps: ProgramSpace,
    package: ir.Package,
    overrides: Mapping[str, Mapping[str, Any]],
) -> list[tuple[str, str]]:
    from dspx_lang.runtime.plan import model_spec

    est = ps.estimator
    configs = [*est.samples(ps.space), {v.name: v.default for v in ps.space.vars}]
    used: dict[str, None] = {}
    for config in configs:
        for step in est.program.steps.values():
            used[est.settings(step, config).model] = None
    missing = []
    for name in used:
        spec = model_spec(package.models[name], overrides.get(name, {}))
        env = spec.key_env()
        needs = spec.api_key_env is not None or spec.api_base is None
        if env and needs and not os.environ.get(env):
            missing.append((name, env))
    return missing


def split(rows: Sequence[Example], share: float, seed: int) -> tuple[list[Example], list[Example]]:
    order = list(rows)
    random.Random(seed).shuffle(order)
    dev_count = max(1, math.ceil(len(order) * (1 - share))) if len(order) > 1 else 0
    dev = sorted(order[:dev_count], key=lambda e: e.index)
    train = sorted(order[dev_count:], key=lambda e: e.index)
    return train, dev


def max_demos(decl: ir.ProgramDecl, step: ir.StepDecl) -> int:
    setting = step.settings.get("demos")
    if setting is None:
        return 0
    if setting.var is None:
        return int(setting.value) if isinstance(setting.value, int) else 0
    var = next(v for v in decl.variables if v.name == setting.var)
    if isinstance(var.domain, ir.IntDomain):
        return int(var.domain.high)
    if isinstance(var.domain, ir.ChoiceDomain):
        return max((int(v) for v in var.domain.values if isinstance(v, int | float)), default=0)
    return 0


def maximum_cost(ps: ProgramSpace) -> float | None:
    """The most expensive estimate among sampled feasible configurations (budgets applied)."""
    costs = [ps.cost_per_call(c) for c in ps.estimator.samples(ps.space)]
    return None if not costs or None in costs else max(c or 0.0 for c in costs)
