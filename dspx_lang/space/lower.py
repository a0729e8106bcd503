"""Lower a resolved program's variables and constraints to the solver's input language.

Contract: `lower_program(program, candidates)` returns one solver `Var` per
program variable (identifier members become `Sym`, `instructions(...)`
domains become `Opaque` spaces of `candidates` proposals plus the default)
and one `Constraint` per declared constraint, whose id is the constraint's
index in `program.constraints`. Ids of implicit constraints (budgets, model
capabilities) start at `IMPLICIT_BASE`.
"""

from __future__ import annotations

from dspx_lang.semantics.model import (
    BoolDom,
    ChoiceDom,
    FloatDom,
    Ident,
    InstructionsDom,
    IntDom,
    ProgramInfo,
    RBinary,
    RConst,
    RExpr,
    RIn,
    RUnary,
    RVar,
    Value,
)
from dspx_lang.space.solve import (
    And,
    Arith,
    BoolDomain,
    Choice,
    Cmp,
    Const,
    Constraint,
    Domain,
    Expr,
    FloatRange,
    Implies,
    In,
    IntRange,
    Neg,
    Not,
    Opaque,
    Or,
    Ref,
    Sym,
    Var,
)
from dspx_lang.space.solve import Value as SolverValue

IMPLICIT_BASE = 1_000_000
DEFAULT_INSTRUCTIONS = Sym("<default instructions>")


def value(v: Value) -> SolverValue:
    return Sym(v.name) if isinstance(v, Ident) else v


def domain(program: ProgramInfo, name: str, candidates: int) -> Domain:
    dom = program.variables[name].domain
    if isinstance(dom, ChoiceDom):
        return Choice(tuple(value(v) for v in dom.values))
    if isinstance(dom, IntDom):
        return IntRange(dom.low, dom.high)
    if isinstance(dom, FloatDom):
        return FloatRange(dom.low, dom.high, dom.log, dom.step)
    if isinstance(dom, BoolDom):
        return BoolDomain()
    assert isinstance(dom, InstructionsDom)
    return Opaque(candidates + 1)


def lower_vars(program: ProgramInfo, candidates: int) -> list[Var]:
    out = []
    for name, var in program.variables.items():
        default = (
            DEFAULT_INSTRUCTIONS if isinstance(var.domain, InstructionsDom) else value(var.default)
        )
        out.append(Var(name, domain(program, name, candidates), default))
    return out


def lower_expr(expr: RExpr) -> Expr:
    if isinstance(expr, RConst):
        return Const(value(expr.value))
    if isinstance(expr, RVar):
        return Ref(expr.name)
    if isinstance(expr, RUnary):
        inner = lower_expr(expr.operand)
        return Not(inner) if expr.op == "not" else Neg(inner)
    if isinstance(expr, RIn):
        return In(lower_expr(expr.target), tuple(value(v) for v in expr.options), expr.negated)
    assert isinstance(expr, RBinary)
    left, right = lower_expr(expr.left), lower_expr(expr.right)
    if expr.op == "and":
        return And(left, right)
    if expr.op == "or":
        return Or(left, right)
    if expr.op == "=>":
        return Implies(left, right)
    if expr.op in ("+", "-", "*", "/"):
        return Arith(expr.op, left, right)  # type: ignore[arg-type]
    return Cmp(expr.op, left, right)  # type: ignore[arg-type]


def lower_constraints(program: ProgramInfo) -> list[Constraint]:
    return [Constraint(c.index, lower_expr(c.expr)) for c in program.constraints]
