"""`program_space`: the feasible space the optimizer searches for one checked program.

Contract: for a program of a compilation without errors, the `Space` holds the program's
variables (an `instructions(...)` variable is `Opaque` with `candidates` proposals plus the
default), its declared constraints, the model-capability predicates and one predicate per
static budget, with the same ids as the space analysis (`analysis.py`); so a configuration
is feasible here exactly when the analysis counts it as within budget. `estimator` is the
program's compile-time estimator (per-call cost, latency and tokens of a configuration).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dspx_lang.space.analysis import INSTRUCTION_CANDIDATES
from dspx_lang.space.estimate import Estimator
from dspx_lang.space.lower import IMPLICIT_BASE, lower_constraints, lower_vars
from dspx_lang.space.solve import AnyConstraint, ConfigValue, Space
from dspx_lang.space.tokencount import TokenCounter

if TYPE_CHECKING:  # the caller has run the driver; this module never does
    from dspx_lang.driver import Compilation


@dataclass(frozen=True)
class ProgramSpace:
    space: Space
    estimator: Estimator

    def cost_per_call(self, config: Mapping[str, ConfigValue]) -> float | None:
        """Estimated USD of one program call (None: a model's price is unknown)."""
        return self.estimator.estimate(config).cost_usd


def program_space(
    compilation: Compilation, name: str, *, candidates: int = INSTRUCTION_CANDIDATES
) -> ProgramSpace:
    if compilation.has_errors:
        raise ValueError(f"{compilation.root} has errors: check it before optimizing")
    from dspx_lang.ir.lower import lower

    program = compilation.model.programs[name]
    # Estimates render prompts from the IR of the file that declares the program.
    package = lower(dataclasses.replace(compilation, root=program.file))
    estimator = Estimator(compilation.model, program, package, TokenCounter.shared())
    constraints: list[AnyConstraint] = [
        *lower_constraints(program),
        *estimator.capability_predicates(IMPLICIT_BASE),
    ]
    constraints += [
        estimator.budget_predicate(IMPLICIT_BASE * 2 + i, budget.metric, budget.limit)
        for i, budget in enumerate(program.budgets)
    ]
    return ProgramSpace(Space(lower_vars(program, candidates), constraints), estimator)
