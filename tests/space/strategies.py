"""Hypothesis strategies: small random spaces and random constraint expression trees."""

from __future__ import annotations

import math
from collections.abc import Mapping

from hypothesis import strategies as st
from space_reference import domain_values

from dspx_lang.space.solve import (
    And,
    AnyConstraint,
    Arith,
    ArithOp,
    BoolDomain,
    Candidate,
    Choice,
    Cmp,
    CmpOp,
    ConfigValue,
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
    Predicate,
    Ref,
    Sym,
    Value,
    Var,
)
from dspx_lang.space.solve.values import IValue, key, norm

Key = tuple[int, IValue]

SYMS = [Sym("a"), Sym("b"), Sym("c"), Sym("d")]
NUMS: list[Value] = [-1, 0, 1, 2, 3, 5, 0.5, 0.25, 1.5, -0.5]
OTHERS: list[Value] = [True, False, "x", "y", Sym("a"), Sym("b")]
CMP_OPS: list[CmpOp] = ["==", "!=", "<", "<=", ">", ">="]
ARITH_OPS: list[ArithOp] = ["+", "-", "*", "/"]


@st.composite
def finite_domains(draw: st.DrawFn) -> Domain:
    shape = draw(st.sampled_from(["sym", "ints", "str", "mixed", "int", "bool", "float", "opaque"]))
    if shape == "sym":
        return Choice(tuple(draw(st.lists(st.sampled_from(SYMS), min_size=1, max_size=4))))
    if shape == "ints":
        return Choice(tuple(draw(st.lists(st.sampled_from(NUMS), min_size=1, max_size=4))))
    if shape == "str":
        return Choice(tuple(draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1))))
    if shape == "mixed":
        pool = NUMS[:4] + OTHERS
        return Choice(tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4))))
    if shape == "int":
        lo = draw(st.integers(-3, 3))
        return IntRange(lo, lo + draw(st.integers(0, 6)))
    if shape == "bool":
        return BoolDomain()
    if shape == "opaque":
        return Opaque(draw(st.integers(1, 3)))
    start = draw(st.sampled_from([0.0, 0.5, -1.0, 0.1]))
    step = draw(st.sampled_from([0.1, 0.25, 0.5, 0.3]))
    return FloatRange(start, start + step * draw(st.integers(0, 5)) + 0.01, step=step)


@st.composite
def finite_vars(draw: st.DrawFn, max_configs: int = 400) -> list[Var]:
    count = draw(st.integers(2, 6))
    vars: list[Var] = []
    size = 1
    for i in range(count):
        dom = draw(finite_domains())
        name = f"v{i}"
        if isinstance(dom, Opaque):
            default: ConfigValue = "instructions"
        else:
            default = draw(st.sampled_from(domain_values(Var(name, dom, 0))))
        var = Var(name, dom, default)
        n = len(domain_values(var))
        if size * n > max_configs:
            break
        size *= n
        vars.append(var)
    return vars


def _numeric(var: Var) -> bool:
    dom = var.domain
    if isinstance(dom, IntRange | FloatRange):
        return True
    return isinstance(dom, Choice) and all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in dom.values
    )


def _members(var: Var) -> list[Value]:
    """Values to compare a variable with: its domain's, or a continuous range's ends."""
    dom = var.domain
    if isinstance(dom, FloatRange) and dom.step is None:
        return [dom.lo, dom.hi, (dom.lo + dom.hi) / 2]
    return [v for v in domain_values(var) if not isinstance(v, Candidate)]


def _kind(var: Var) -> str:
    return "num" if _numeric(var) else type(var.domain).__name__


@st.composite
def num_exprs(draw: st.DrawFn, vars: list[Var], depth: int) -> Expr:
    numeric = [v for v in vars if _numeric(v)]
    options = ["const"] * 2 + ["ref"] * 4 + ["wild"] + (["arith"] * 4 + ["neg"] if depth else [])
    choice = draw(st.sampled_from(options))
    if choice == "ref" and numeric:
        return Ref(draw(st.sampled_from(numeric)).name)
    if choice == "arith":
        op = draw(st.sampled_from(ARITH_OPS))
        return Arith(op, draw(num_exprs(vars, depth - 1)), draw(num_exprs(vars, depth - 1)))
    if choice == "neg":
        return Neg(draw(num_exprs(vars, depth - 1)))
    if choice == "wild":
        return Ref(draw(st.sampled_from(vars)).name)
    return Const(draw(st.sampled_from(NUMS)))


@st.composite
def bool_exprs(draw: st.DrawFn, vars: list[Var], depth: int) -> Expr:
    """Mostly well-typed trees (so constraints prune rather than kill), some ill-typed."""
    bools = [v for v in vars if isinstance(v.domain, BoolDomain)]
    numeric = any(_numeric(v) for v in vars)
    options = ["cmp"] * (3 if numeric else 0) + ["eq"] * 4 + ["in"] * 3 + ["wild"]
    options += ["ref"] * (2 if bools else 0)
    if depth:
        options += ["not", "and", "or", "implies", "implies"] * 2
    choice = draw(st.sampled_from(options))
    if choice == "cmp":
        op = draw(st.sampled_from(CMP_OPS))
        return Cmp(op, draw(num_exprs(vars, min(depth, 2))), draw(num_exprs(vars, min(depth, 2))))
    if choice in ("eq", "in"):
        var = draw(st.sampled_from(vars))
        own = _members(var)
        pool = own * 8 + OTHERS + NUMS[:3]
        if choice == "eq":
            ordered = _numeric(var) or (
                _kind(var) == "Choice" and all(isinstance(v, str) for v in own)
            )
            equality: list[CmpOp] = ["==", "!="]
            op = draw(st.sampled_from(equality * 4 + (CMP_OPS * 2 if ordered else CMP_OPS)))
            alike = [v for v in vars if _kind(v) == _kind(var)]
            if draw(st.integers(0, 3)) == 0:
                other = draw(st.sampled_from(alike * 4 + vars))
                return Cmp(op, Ref(var.name), Ref(other.name))
            return Cmp(op, Ref(var.name), Const(draw(st.sampled_from(pool))))
        values = tuple(draw(st.lists(st.sampled_from(pool), max_size=3)))
        return In(Ref(var.name), values, draw(st.booleans()))
    if choice == "ref":
        return Ref(draw(st.sampled_from(bools)).name)
    if choice == "wild":
        return Ref(draw(st.sampled_from(vars)).name)
    if choice == "not":
        return Not(draw(bool_exprs(vars, depth - 1)))
    left, right = draw(bool_exprs(vars, depth - 1)), draw(bool_exprs(vars, depth - 1))
    if choice == "and":
        return And(left, right)
    return Or(left, right) if choice == "or" else Implies(left, right)


class Forbidden:
    """A deterministic predicate: false exactly on a chosen set of value tuples."""

    def __init__(self, names: tuple[str, ...], banned: set[tuple[Key, ...]]) -> None:
        self.names = names
        self.banned = banned

    def __call__(self, values: Mapping[str, ConfigValue]) -> bool:
        return tuple(key(norm(values[n])) for n in self.names) not in self.banned  # type: ignore[arg-type]


@st.composite
def predicates(draw: st.DrawFn, vars: list[Var], cid: int) -> Predicate:
    usable = [v for v in vars if not isinstance(v.domain, Opaque)]
    chosen = draw(st.lists(st.sampled_from(usable), min_size=1, max_size=2, unique=True))
    names = tuple(v.name for v in chosen)
    combos = [
        tuple(key(norm(x)) for x in combo)  # type: ignore[arg-type]
        for combo in _product([domain_values(v) for v in chosen])
    ]
    banned = set(draw(st.lists(st.sampled_from(combos), max_size=max(1, len(combos) // 2))))
    return Predicate(cid, names, Forbidden(names, banned))


def _product(pools: list[list[ConfigValue]]) -> list[tuple[ConfigValue, ...]]:
    out: list[tuple[ConfigValue, ...]] = [()]
    for pool in pools:
        out = [(*prefix, x) for prefix in out for x in pool]
    return out


@st.composite
def finite_spaces(draw: st.DrawFn) -> tuple[list[Var], list[AnyConstraint]]:
    vars = draw(finite_vars())
    cons: list[AnyConstraint] = []
    for cid in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 5)) == 0 and any(not isinstance(v.domain, Opaque) for v in vars):
            cons.append(draw(predicates(vars, cid + 1)))
        else:
            cons.append(Constraint(cid + 1, draw(bool_exprs(vars, draw(st.integers(0, 3))))))
    return vars, cons


def configs_count(vars: list[Var]) -> int:
    return math.prod(len(domain_values(v)) for v in vars)


@st.composite
def continuous_spaces(draw: st.DrawFn) -> tuple[list[Var], list[AnyConstraint]]:
    """1-3 continuous floats plus up to 3 small finite variables, random constraints."""
    vars: list[Var] = []
    for i in range(draw(st.integers(1, 3))):
        lo = draw(st.sampled_from([-1.0, 0.0, 0.5, 0.1]))
        hi = lo + draw(st.sampled_from([0.0, 0.5, 1.0, 2.0]))
        log = lo > 0 and draw(st.booleans())
        vars.append(Var(f"r{i}", FloatRange(lo, hi, log=log), lo))
    for var in draw(finite_vars(max_configs=24)):
        if len(vars) < 6:
            vars.append(Var(f"f{len(vars)}", var.domain, var.default))
    cons: list[AnyConstraint] = []
    for cid in range(draw(st.integers(1, 4))):
        cons.append(Constraint(cid + 1, draw(bool_exprs(vars, draw(st.integers(0, 3))))))
    return vars, cons


@st.composite
def numeric_spaces(draw: st.DrawFn) -> tuple[list[Var], list[AnyConstraint]]:
    """Two or three wider numeric ranges (bisection and linear bounds get real work)."""
    vars: list[Var] = []
    for i in range(draw(st.integers(2, 3))):
        if draw(st.booleans()):
            lo = draw(st.integers(-20, 5))
            dom: Domain = IntRange(lo, lo + draw(st.integers(0, 14 if i == 2 else 30)))
        else:
            step = draw(st.sampled_from([0.1, 0.05, 0.5]))
            dom = FloatRange(0.0, step * draw(st.integers(0, 12)), step=step)
        vars.append(Var(f"n{i}", dom, domain_values(Var("", dom, 0))[0]))
    cons: list[AnyConstraint] = []
    for cid in range(draw(st.integers(1, 4))):
        cons.append(Constraint(cid + 1, draw(bool_exprs(vars, draw(st.integers(0, 2))))))
    return vars, cons


@st.composite
def linear_spaces(draw: st.DrawFn) -> tuple[list[Var], list[AnyConstraint]]:
    """Linear comparisons (some behind a guard) over two wide grids: the counting fast path."""
    vars = [draw(_wide_grid("x")), draw(_wide_grid("y")), Var("g", BoolDomain(), False)]
    cons: list[AnyConstraint] = []
    for cid in range(draw(st.integers(1, 4))):
        terms = [
            Arith("*", Const(draw(st.sampled_from([-3, -1, 1, 2, 0.5]))), Ref(name))
            for name in draw(st.lists(st.sampled_from(["x", "y"]), min_size=1, max_size=2))
        ]
        left: Expr = terms[0] if len(terms) == 1 else Arith("+", terms[0], terms[1])
        op = draw(st.sampled_from(CMP_OPS))
        cmp = Cmp(op, left, Const(draw(st.sampled_from([-4, 0, 3, 7.5, 12, 20]))))
        cons.append(Constraint(cid + 1, Implies(Ref("g"), cmp) if draw(st.booleans()) else cmp))
    return vars, cons


@st.composite
def _wide_grid(draw: st.DrawFn, name: str) -> Var:
    if draw(st.booleans()):
        lo = draw(st.integers(-10, 5))
        return Var(name, IntRange(lo, lo + draw(st.integers(0, 30))), lo)
    step = draw(st.sampled_from([0.5, 0.25, 1.5]))
    return Var(name, FloatRange(-2.0, -2.0 + step * draw(st.integers(0, 24)), step=step), -2.0)
