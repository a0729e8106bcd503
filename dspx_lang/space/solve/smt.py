"""z3 as the second opinion for questions over continuous variables.

Interval bisection cannot prove that `t1 + t2 == 1` has a solution, nor settle every
boundary; z3 decides linear real arithmetic exactly (and often non-linear). It is only
imported when such a question is left open (`import z3` costs ~70 ms), and every query
is bounded by a deterministic resource limit: "unknown" stays "undecided".

Encoding (same semantics as values.py): an enum variable is an atom index, a grid
variable its index k (value base + k*step), a real variable itself. An expression
becomes a symbolic value: a number with the condition that it is one, non-numeric
values each with its condition, and the rest is ⊥. A boolean expression becomes the
pair of conditions (definitely true, definitely false) of Kleene logic.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import product
from typing import Any

from dspx_lang.space.solve.domains import ENUM, GRID, REAL, Box, bit_indices
from dspx_lang.space.solve.model import (
    And,
    Arith,
    Cmp,
    Const,
    Constraint,
    Expr,
    Implies,
    In,
    Neg,
    Not,
    Or,
    Ref,
)
from dspx_lang.space.solve.problem import Space
from dspx_lang.space.solve.values import KIND_BOOL, Undef, compare, is_num, key, norm

RLIMIT = 3_000_000
"""z3 resource units per query (deterministic; roughly a few hundred ms at most)."""
PREDICATE_ROWS = 512
"""Largest predicate table encoded as a disjunction of allowed tuples."""


@dataclass
class SymVal:
    """A symbolic value: `num` when `is_num`, each other value under its condition."""

    num: Any
    is_num: Any
    others: list[tuple[Any, Any]]


class Unencodable(Exception):
    """A constraint z3 cannot be given (a predicate over too many tuples)."""


class Smt:
    """z3 encodings of one space's variables and constraints (built lazily, cached)."""

    def __init__(self, space: Space) -> None:
        import z3

        self.z3 = z3
        self.space = space
        self.terms: list[Any] = []
        for iv in space.ivars:
            if iv.shape == REAL:
                self.terms.append(z3.Real(f"v{iv.index}"))
            else:
                self.terms.append(z3.Int(f"v{iv.index}"))
        self._truths: dict[int, tuple[Any, Any]] = {}

    # -- domains ---------------------------------------------------------------------

    def within(self, v: int, entry: Any) -> Any:
        """The condition that variable `v` lies in the box entry."""
        z3, iv, t = self.z3, self.space.ivars[v], self.terms[v]
        if iv.shape == ENUM:
            return z3.Or([t == i for i in bit_indices(entry)])
        if iv.shape == GRID:
            return z3.And(t >= entry[0], t <= entry[1])
        return z3.And(t >= _real(z3, entry[0]), t <= _real(z3, entry[1]))

    def _ref(self, v: int) -> SymVal:
        z3, iv, t = self.z3, self.space.ivars[v], self.terms[v]
        if iv.shape == REAL:
            return SymVal(t, z3.BoolVal(True), [])
        if iv.shape == GRID:
            value = _real(z3, iv.base) + _real(z3, iv.step) * z3.ToReal(t)
            return SymVal(value, z3.BoolVal(True), [])
        num: Any = z3.RealVal(0)
        numeric = []
        others = []
        for i, atom in enumerate(iv.atoms):
            if is_num(atom):
                num = z3.If(t == i, _real(z3, atom), num)  # type: ignore[arg-type]
                numeric.append(t == i)
            else:
                others.append((t == i, key(atom)))
        return SymVal(num, z3.Or(numeric) if numeric else z3.BoolVal(False), others)

    # -- expressions -----------------------------------------------------------------

    def truth(self, position: int) -> tuple[Any, Any]:
        """(definitely true, definitely false) conditions of constraint `position`."""
        if position not in self._truths:
            c = self.space.constraints[position]
            if isinstance(c, Constraint):
                self._truths[position] = self._bool(c.expr)
            else:
                self._truths[position] = self._predicate(position)
        return self._truths[position]

    def _predicate(self, position: int) -> tuple[Any, Any]:
        z3, space = self.z3, self.space
        scope = space.scopes[position]
        ivs = [space.ivars[v] for v in scope]
        rows = math.prod(len(iv.atoms) if iv.shape == ENUM else iv.n for iv in ivs)
        if rows > PREDICATE_ROWS or any(not iv.enumerable for iv in ivs):
            raise Unencodable(f"predicate over {rows} tuples")
        allowed = []
        for combo in product(*(range(len(iv.atoms) if iv.shape == ENUM else iv.n) for iv in ivs)):
            config = {iv.name: iv.public(k) for iv, k in zip(ivs, combo, strict=True)}
            if space.holds(position, config):
                allowed.append(
                    z3.And([self.terms[v] == k for v, k in zip(scope, combo, strict=True)])
                )
        holds = z3.Or(allowed) if allowed else z3.BoolVal(False)
        return holds, z3.Not(holds)

    def _value(self, expr: Expr) -> SymVal:
        z3 = self.z3
        if isinstance(expr, Const):
            value = norm(expr.value)
            if isinstance(value, Undef):
                return SymVal(z3.RealVal(0), z3.BoolVal(False), [])
            if is_num(value):
                return SymVal(_real(z3, value), z3.BoolVal(True), [])  # type: ignore[arg-type]
            return SymVal(z3.RealVal(0), z3.BoolVal(False), [(z3.BoolVal(True), key(value))])
        if isinstance(expr, Ref):
            return self._ref(self.space.index[expr.var].index)
        if isinstance(expr, Arith):
            a, b = self._value(expr.left), self._value(expr.right)
            ok = z3.And(a.is_num, b.is_num)
            if expr.op == "+":
                num = a.num + b.num
            elif expr.op == "-":
                num = a.num - b.num
            elif expr.op == "*":
                num = a.num * b.num
            else:
                ok = z3.And(ok, b.num != 0)
                num = a.num / b.num
            return SymVal(num, ok, [])
        if isinstance(expr, Neg):
            a = self._value(expr.operand)
            return SymVal(-a.num, a.is_num, [])
        t, f = self._bool(expr)
        return SymVal(
            z3.RealVal(0), z3.BoolVal(False), [(t, (KIND_BOOL, True)), (f, (KIND_BOOL, False))]
        )

    def _bool(self, expr: Expr) -> tuple[Any, Any]:
        z3 = self.z3
        if isinstance(expr, Not):
            t, f = self._bool(expr.operand)
            return f, t
        if isinstance(expr, And | Or | Implies):
            lt, lf = self._bool(expr.left)
            rt, rf = self._bool(expr.right)
            if isinstance(expr, Implies):
                lt, lf = lf, lt
            if isinstance(expr, And):
                return z3.And(lt, rt), z3.Or(lf, rf)
            return z3.Or(lt, rt), z3.And(lf, rf)
        if isinstance(expr, Cmp):
            return self._cmp(expr.op, self._value(expr.left), self._value(expr.right))
        if isinstance(expr, In):
            return self._in(expr)
        v = self._value(expr)
        t = [c for c, k in v.others if k == (KIND_BOOL, True)]
        f = [c for c, k in v.others if k == (KIND_BOOL, False)]
        return z3.Or(t) if t else z3.BoolVal(False), z3.Or(f) if f else z3.BoolVal(False)

    def _cmp(self, op: str, a: SymVal, b: SymVal) -> tuple[Any, Any]:
        z3 = self.z3
        both = z3.And(a.is_num, b.is_num)
        ops = {
            "==": lambda x, y: x == y,
            "!=": lambda x, y: x != y,
            "<": lambda x, y: x < y,
            "<=": lambda x, y: x <= y,
            ">": lambda x, y: x > y,
            ">=": lambda x, y: x >= y,
        }
        rel = ops[op](a.num, b.num)
        t, f = [z3.And(both, rel)], [z3.And(both, z3.Not(rel))]
        for ca, (_, va) in a.others:
            for cb, (_, vb) in b.others:
                out = compare(op, va, vb)
                if out is True:
                    t.append(z3.And(ca, cb))
                elif out is False:
                    f.append(z3.And(ca, cb))
        cross = z3.Or(
            z3.And(a.is_num, z3.Or([c for c, _ in b.others] or [z3.BoolVal(False)])),
            z3.And(b.is_num, z3.Or([c for c, _ in a.others] or [z3.BoolVal(False)])),
        )
        if op == "==":
            f.append(cross)
        elif op == "!=":
            t.append(cross)
        return z3.Or(t), z3.Or(f)

    def _in(self, expr: In) -> tuple[Any, Any]:
        z3 = self.z3
        a = self._value(expr.operand)
        values = [v for v in map(norm, expr.values) if not isinstance(v, Undef)]
        nums = [_real(z3, v) for v in values if is_num(v)]  # type: ignore[arg-type]
        keys = {key(v) for v in values if not is_num(v)}
        member = z3.Or([a.num == x for x in nums]) if nums else z3.BoolVal(False)
        t = [z3.And(a.is_num, member)] + [c for c, k in a.others if k in keys]
        f = [z3.And(a.is_num, z3.Not(member))] + [c for c, k in a.others if k not in keys]
        pair = (z3.Or(t), z3.Or(f))
        return (pair[1], pair[0]) if expr.negated else pair

    # -- queries ---------------------------------------------------------------------

    def solve(self, formulas: Sequence[Any], box: Box, vars: Sequence[int]) -> Any:
        """A model (dict var -> public-ish value) if satisfiable, False if not, None if unknown."""
        z3 = self.z3
        solver = z3.Solver()
        solver.set("rlimit", RLIMIT)
        for v in vars:
            solver.add(self.within(v, box[v]))
        solver.add(*formulas)
        answer = solver.check()
        if answer == z3.unsat:
            return False
        if answer != z3.sat:
            return None
        model = solver.model()
        out: dict[int, Any] = {}
        for v in vars:
            value = model.eval(self.terms[v], model_completion=True)
            iv = self.space.ivars[v]
            if iv.shape == REAL:
                # An irrational (algebraic) solution is reported by a close rational.
                exact = value if z3.is_rational_value(value) else value.approx(30)
                out[v] = Fraction(exact.as_fraction())
            else:
                out[v] = value.as_long()
        return out


def _real(z3: Any, value: int | Fraction) -> Any:
    return z3.RealVal(Fraction(value))
