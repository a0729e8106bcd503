"""`Space`: variables and constraints compiled once, then analysed, checked and sampled.

Construction validates what the compiler guarantees (unique names and ids, resolved
references; else `SpaceInputError`), builds the internal domains and compiles every
decidable constraint to a box test. A predicate over a continuous or `Opaque` variable
is *undecidable*: kept aside, evaluated only on concrete configurations.

Configurations handed out or accepted use public values (`ConfigValue`): ints for int
ranges, floats for float domains, the choice's own values, `Candidate` for Opaque
candidates other than the default.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dspx_lang.space.solve.abstract import Compiler
from dspx_lang.space.solve.domains import IVar, build
from dspx_lang.space.solve.model import (
    AnyConstraint,
    Config,
    ConfigValue,
    Constraint,
    Expr,
    Limits,
    Predicate,
    Ref,
    SpaceInputError,
    SpaceResult,
    Var,
)
from dspx_lang.space.solve.search import Con, Search
from dspx_lang.space.solve.values import Result, evaluate, norm


@dataclass(frozen=True, slots=True)
class Group:
    """A connected group of variables and the constraints over them (by position)."""

    vars: tuple[int, ...]
    decidable: tuple[int, ...]
    """Indices into `Space.search.cons`."""
    undecidable: tuple[int, ...]
    """Indices into `Space.constraints` of predicates that cannot be decided."""
    positions: tuple[int, ...]
    """Indices into `Space.constraints` of all its constraints."""


class Space:
    """A compiled variable space. Not thread-safe (it caches search results)."""

    def __init__(
        self,
        vars: Sequence[Var],
        constraints: Sequence[AnyConstraint],
        limits: Limits | None = None,
    ) -> None:
        self.vars = tuple(vars)
        self.constraints = tuple(constraints)
        self.limits = limits or Limits()
        _validate(self.vars, self.constraints)
        self.ivars: list[IVar] = [build(i, v) for i, v in enumerate(self.vars)]
        self.index = {iv.name: iv for iv in self.ivars}
        self.empty = tuple(iv.name for iv in self.ivars if iv.empty)
        compiler = Compiler(self.ivars, self.limits.table_size)
        cons: list[Con] = []
        self.con_of: dict[int, int] = {}
        """Position in `constraints` -> index in `search.cons` (decidable ones only)."""
        self.scopes: list[tuple[int, ...]] = []
        self.position_of: list[int] = []
        """Index in `search.cons` -> position in `constraints` (inverse of `con_of`)."""
        for pos, c in enumerate(self.constraints):
            names = _names(c.expr) if isinstance(c, Constraint) else dict.fromkeys(c.vars)
            scope = tuple(sorted(self.index[name].index for name in names))
            self.scopes.append(scope)
            if self.empty:
                continue
            linear = None
            compiler.atoms.clear()
            if isinstance(c, Constraint):
                fn = compiler.boolean(c.expr)
                linear = compiler.linear_info(c.expr)
            elif all(self.ivars[v].enumerable for v in scope):
                fn = compiler.predicate(c)
            else:
                continue
            self.con_of[pos] = len(cons)
            self.position_of.append(pos)
            cons.append(Con(c.id, fn, scope, linear, tuple(compiler.atoms)))
        self.search = Search(self.ivars, cons, self.limits.real_nodes, self.limits.check_nodes)
        self.groups = self._groups()
        self._result: SpaceResult | None = None

    def _groups(self) -> tuple[Group, ...]:
        """Connected components of the constraint graph (variables in no constraint: none)."""
        parent = list(range(len(self.ivars)))

        def root(v: int) -> int:
            while parent[v] != v:
                parent[v] = parent[parent[v]]
                v = parent[v]
            return v

        for scope in self.scopes:
            for v in scope[1:]:
                a, b = root(scope[0]), root(v)
                parent[max(a, b)] = min(a, b)
        members: dict[int, list[int]] = {}
        for pos, scope in enumerate(self.scopes):
            # Constraints over no variable form their own group, keyed -1.
            members.setdefault(root(scope[0]) if scope else -1, []).append(pos)
        groups = []
        for r, positions in sorted(members.items()):
            vars = tuple(v for v in range(len(self.ivars)) if r >= 0 and root(v) == r)
            decidable = tuple(self.con_of[p] for p in positions if p in self.con_of)
            undecidable = tuple(p for p in positions if p not in self.con_of)
            groups.append(Group(vars, decidable, undecidable, tuple(positions)))
        return tuple(groups)

    def root_box(self) -> list[Any]:
        return [iv.root() for iv in self.ivars]

    def analyze(self) -> SpaceResult:
        """The full static analysis (computed once, then cached)."""
        if self._result is None:
            # analysis.py builds on this module; importing here keeps the cycle one-way.
            from dspx_lang.space.solve.analysis import analyze_space

            self._result = analyze_space(self)
        return self._result

    def holds(self, position: int, config: Config, env: Mapping[str, Result] | None = None) -> bool:
        """Whether constraint `constraints[position]` holds in a (public) configuration;
        `env` is the configuration already normalised, when the caller has it."""
        c = self.constraints[position]
        if isinstance(c, Predicate):
            return bool(c.fn({name: config[name] for name in dict.fromkeys(c.vars)}))
        if env is None:
            env = {name: norm(value) for name, value in config.items()}
        return evaluate(c.expr, env) is True

    def is_feasible(self, config: Config) -> bool:
        """Inside every domain and satisfying every constraint. Needs every variable."""
        missing = [v.name for v in self.vars if v.name not in config]
        if missing:
            raise SpaceInputError(f"configuration lacks variables: {', '.join(missing)}")
        if self.empty or any(iv.locate(config[iv.name]) is None for iv in self.ivars):
            return False
        env = {name: norm(value) for name, value in config.items()}
        return all(self.holds(pos, config, env) for pos in range(len(self.constraints)))

    def iter_feasible(self) -> Iterator[dict[str, ConfigValue]]:
        """Every feasible configuration once, lazily, in lexicographic order of the
        variables' declaration and domain orders. Raises `InfiniteSpaceError` when a
        domain is continuous or an Opaque size is unknown."""
        from dspx_lang.space.solve.sampling import iterate

        return iterate(self)

    def sample_feasible(self, rng: random.Random, n: int) -> list[dict[str, ConfigValue]]:
        """`n` independent feasible configurations, uniform over the feasible set when it is
        finite and counted; otherwise by rejection (uniform, or log-uniform for `log`
        ranges, inside the domains). Raises `SamplingError` when none can be found."""
        from dspx_lang.space.solve.sampling import sample

        return sample(self, rng, n)


def _names(expr: Expr) -> dict[str, None]:
    """Variable names in `expr`, in first-occurrence order."""
    if isinstance(expr, Ref):
        return {expr.var: None}
    out: dict[str, None] = {}
    for child in ("operand", "left", "right"):
        sub = getattr(expr, child, None)
        if sub is not None:
            out.update(_names(sub))
    return out


def _validate(vars: Sequence[Var], constraints: Sequence[AnyConstraint]) -> None:
    names = [v.name for v in vars]
    if len(set(names)) != len(names):
        raise SpaceInputError(f"duplicate variable names in {names}")
    ids = [c.id for c in constraints]
    if len(set(ids)) != len(ids):
        raise SpaceInputError(f"duplicate constraint ids in {ids}")
    known = set(names)
    for c in constraints:
        used = _names(c.expr) if isinstance(c, Constraint) else dict.fromkeys(c.vars)
        unknown = [name for name in used if name not in known]
        if unknown:
            raise SpaceInputError(f"constraint {c.id} uses undeclared variables {unknown}")
