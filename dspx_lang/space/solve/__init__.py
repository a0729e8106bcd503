"""The variable-space solver: feasibility, counting, cores, dead values, sampling.

A pure algorithm package (no AST dependency). The compiler translates a program's
variables and constraints into the input language of `model.py`, then:

    space = Space(vars, constraints)          # or analyze(vars, constraints)
    result = space.analyze()                  # SpaceResult: size, satisfiable, core, ...
    space.is_feasible(config); space.iter_feasible(); space.sample_feasible(rng, n)

Guarantees: exact answers for finite spaces within `Limits`; sound answers always (no
unsatisfiable core, dead value, redundancy or undefinedness is claimed unless certain);
nothing enumerates a large domain and every search is bounded, falling back to
"undecided". The expression semantics (three-valued, exact rationals) is in `values.py`.

Modules, bottom-up: `model` (input language, results), `values` (reference semantics),
`domains` (internal shapes: enum / grid / real), `intervals` (abstract values, Kleene
outcome sets), `linear` (linear forms, closed-form counting), `abstract` (constraints
-> box tests), `search` (counting and witness search over boxes), `smt` (z3 encoding),
`oracle` (search first, then z3), `problem` (`Space`), `analysis` (`analyze`),
`sampling` (enumeration and uniform sampling).
"""

from __future__ import annotations

from collections.abc import Sequence

from dspx_lang.space.solve.model import (
    And,
    AnyConstraint,
    Arith,
    ArithOp,
    BoolDomain,
    Candidate,
    Choice,
    Cmp,
    CmpOp,
    Config,
    ConfigValue,
    Const,
    Constraint,
    DeadValue,
    Domain,
    Expr,
    FloatRange,
    Implies,
    In,
    IntRange,
    Limits,
    Neg,
    Not,
    Opaque,
    Or,
    Predicate,
    Ref,
    SpaceInputError,
    SpaceResult,
    Sym,
    Undefined,
    Value,
    Var,
)
from dspx_lang.space.solve.problem import Space
from dspx_lang.space.solve.sampling import InfiniteSpaceError, SamplingError
from dspx_lang.space.solve.values import holds

__all__ = [
    "And",
    "AnyConstraint",
    "Arith",
    "ArithOp",
    "BoolDomain",
    "Candidate",
    "Choice",
    "Cmp",
    "CmpOp",
    "Config",
    "ConfigValue",
    "Const",
    "Constraint",
    "DeadValue",
    "Domain",
    "Expr",
    "FloatRange",
    "Implies",
    "In",
    "InfiniteSpaceError",
    "IntRange",
    "Limits",
    "Neg",
    "Not",
    "Opaque",
    "Or",
    "Predicate",
    "Ref",
    "SamplingError",
    "Space",
    "SpaceInputError",
    "SpaceResult",
    "Sym",
    "Undefined",
    "Value",
    "Var",
    "analyze",
    "holds",
]


def analyze(
    vars: Sequence[Var], constraints: Sequence[AnyConstraint], limits: Limits | None = None
) -> SpaceResult:
    """Compile and analyse a space in one call (see `Space` for the other queries)."""
    return Space(vars, constraints, limits).analyze()
