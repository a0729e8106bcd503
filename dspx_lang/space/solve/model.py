"""The solver's input language and results: frozen, fully typed data, no behaviour.

Input: `Var`s (a name, a `Domain`, a default) and constraints (`Constraint` over an
`Expr` tree, or `Predicate` over a Python callable). Output: `SpaceResult`.

Invariants the caller (the compiler) guarantees, else `SpaceInputError` is raised:
variable names are unique, constraint ids are unique, every `Ref`/`Predicate` name is a
declared variable. Everything else is total: malformed domains are *empty* domains
(reported in `SpaceResult.empty_domains`), ill-typed operations evaluate to undefined
(see `dspx_lang.space.solve.values` for the exact semantics), nothing raises.

Values: `bool`, `int`, `float`, `str` (a string literal) and `Sym` (an identifier such as
a module kind, model name or enum member) are distinct kinds; `True == 1` is false here.
`Candidate(var, k)` names the k-th non-default candidate of an `Opaque` variable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias


class SpaceInputError(ValueError):
    """The solver's input breaks a precondition the compiler must ensure (a bug, not user input)."""


@dataclass(frozen=True, slots=True)
class Sym:
    """An identifier member (`cot`, `mini`, an enum value); never equal to a `str`."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Candidate:
    """The `index`-th (>= 1) non-default candidate of the `Opaque` variable `var`.

    Equal only to itself: never to a constant, the default, or another variable's candidate.
    """

    var: str
    index: int

    def __str__(self) -> str:
        return f"<{self.var} candidate {self.index}>"


Value: TypeAlias = bool | int | float | str | Sym
"""A literal value of the language."""

ConfigValue: TypeAlias = bool | int | float | str | Sym | Candidate
"""The value of one variable in a configuration."""

Config: TypeAlias = Mapping[str, ConfigValue]
"""A configuration: every variable's name mapped to its value."""


@dataclass(frozen=True, slots=True)
class Choice:
    """A finite list of values, in declaration order (duplicates are ignored)."""

    values: tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class IntRange:
    """Integers `lo..hi`, both inclusive; may be huge (never enumerated)."""

    lo: int
    hi: int


@dataclass(frozen=True, slots=True)
class FloatRange:
    """Reals `lo..hi`; with `step` the finite grid `lo, lo+step, ... <= hi`.

    Numbers are read as the decimal their `repr` shows (0.1 is exactly 1/10), so a grid
    never misses its end point through float error. `log` only shapes random sampling of
    a continuous range (a stepped one is sampled uniformly over its grid points).
    """

    lo: float
    hi: float
    log: bool = False
    step: float | None = None


@dataclass(frozen=True, slots=True)
class BoolDomain:
    """`false`, `true` (in that order)."""


@dataclass(frozen=True, slots=True)
class Opaque:
    """Values known only at optimization time (instruction candidates).

    Only equality to the default matters. `size` counts the default too; `None` means
    unknown: counted as infinite, assumed to hold at least one non-default candidate.
    """

    size: int | None = None


Domain: TypeAlias = Choice | IntRange | FloatRange | BoolDomain | Opaque


@dataclass(frozen=True, slots=True)
class Var:
    """A tunable variable."""

    name: str
    domain: Domain
    default: ConfigValue


CmpOp: TypeAlias = Literal["==", "!=", "<", "<=", ">", ">="]
ArithOp: TypeAlias = Literal["+", "-", "*", "/"]


@dataclass(frozen=True, slots=True)
class Const:
    value: Value


@dataclass(frozen=True, slots=True)
class Ref:
    var: str


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr


@dataclass(frozen=True, slots=True)
class And:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Or:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Implies:
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Cmp:
    op: CmpOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class In:
    """`operand in [values]`, or `not in` when `negated`."""

    operand: Expr
    values: tuple[Value, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Arith:
    op: ArithOp
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr


Expr: TypeAlias = Const | Ref | Not | And | Or | Implies | Cmp | In | Arith | Neg


@dataclass(frozen=True, slots=True)
class Constraint:
    """A declared constraint; it holds in a configuration iff `expr` evaluates to true."""

    id: int
    expr: Expr


@dataclass(frozen=True, slots=True)
class Predicate:
    """An extensional constraint (budgets, model capabilities) over a few variables.

    `fn` receives the values of exactly `vars` and must not raise. It is decided
    statically only over enumerable variables (choice, bool, int range, stepped float);
    over a continuous or `Opaque` variable it is undecidable: listed in `undecided`,
    and it never supports a claim (it is still evaluated on concrete configurations).
    """

    id: int
    vars: tuple[str, ...]
    fn: Callable[[Mapping[str, ConfigValue]], bool] = field(compare=False)


AnyConstraint: TypeAlias = Constraint | Predicate


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on work; past them the answer is "undecided" (never a wrong claim).

    Node counts make results deterministic (no wall clock). With the defaults a realistic
    program takes milliseconds, and a pathological one (huge ranges tied by equations)
    gives up after about a second in the worst case measured.
    """

    count_nodes: int = 15_000
    """Search nodes for counting/feasibility of all components together."""
    check_nodes: int = 1_500
    """Search nodes for each later check (minimal core, killers, redundancy)."""
    total_nodes: int = 20_000
    """Search nodes for one whole analysis; checks past it are left undecided."""
    real_nodes: int = 400
    """Boxes explored to decide a sub-problem over continuous variables."""
    table_size: int = 256
    """Largest sub-domain a sub-expression is tabulated over."""
    smt: bool = True
    """Ask z3 what the search leaves open (continuous questions, exhausted budgets)."""
    smt_queries: int = 60
    """z3 queries for one whole analysis (each bounded by a deterministic resource limit)."""


@dataclass(frozen=True, slots=True)
class DeadValue:
    """Values of `var` in no feasible configuration, with constraints that rule them out.

    One entry per choice/bool value; for an int range or stepped float, one entry per
    maximal run of consecutive dead grid values `value..last` (`last` is None for a
    single value). For an `Opaque` variable the non-default candidates form one run
    `Candidate(var, 1)..Candidate(var, size - 1)` (`last` None when the size is unknown).
    `killers` is a minimal set of constraint ids that alone exclude every value of the
    entry (deletion-minimal; merely sufficient if a work bound was hit).
    """

    var: str
    value: ConfigValue
    last: ConfigValue | None
    count: int | None
    killers: tuple[int, ...]

    def describe(self) -> str:
        """`demos 5..8`, `model mini`, `temperature 0.8..1.0`."""
        if self.last is None:
            return f"{self.var} {_show(self.value)}"
        return f"{self.var} {_show(self.value)}..{_show(self.last)}"


@dataclass(frozen=True, slots=True)
class Undefined:
    """Constraint `constraint` is undefined (so violated) at `witness` (its own variables).

    Undefined means division by zero, an ordering or arithmetic on incompatible kinds, or
    a non-finite number; the compiler rejects most such constraints earlier (E302).
    """

    constraint: int
    witness: tuple[tuple[str, ConfigValue], ...]


@dataclass(frozen=True, slots=True)
class SpaceResult:
    """What the analysis proved. Exact for finite spaces within `Limits`; sound otherwise.

    Sound means: `satisfiable is False`, `core`, `dead_values`, `redundant` and
    `undefined` are only reported when certain. All id tuples are sorted ascending.
    """

    size: int | None
    """Feasible configurations; None when a domain is infinite/unknown or work ran out
    (0 when proven unsatisfiable, even over infinite domains)."""
    total_size: int | None
    """Configurations inside the domains, before constraints; None when infinite."""
    variable_count: int
    continuous_count: int
    """Variables over a float range without `step`."""
    satisfiable: bool | None
    core: tuple[int, ...]
    """When unsatisfiable: a minimal set of constraint ids with no common solution
    (empty when a domain itself is empty)."""
    default_violations: tuple[int, ...]
    """Constraints the default configuration violates (E304)."""
    default_outside: tuple[str, ...]
    """Variables whose default lies outside their domain (E300)."""
    empty_domains: tuple[str, ...]
    """Variables with an empty or malformed domain (E301): the space is empty."""
    dead_values: tuple[DeadValue, ...]
    """W305; reported only when the space is not proven unsatisfiable."""
    redundant: tuple[int, ...]
    """W306: constraints that hold in every configuration inside the domains, regardless
    of the other constraints (a tautology over the domains)."""
    undefined: tuple[Undefined, ...]
    """Constraints undefined in some configuration inside the domains (with a witness)."""
    undecided: tuple[int, ...]
    """Constraints whose checks could not be completed ("not checked statically")."""
    complete: bool
    """True when every question above was decided exactly."""


def _show(value: ConfigValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    return str(value)
