"""space.analyze(): variables, constraints, capabilities and budgets of each program.

Contract: runs only on programs that checked without errors. For each program
it builds the solver's space (declared constraints plus the implicit
constraints of model capabilities), reports E303 (with a minimal conflicting
set), E304, W305, W306, W307, I308, E402, E406/W407, and, from the
compile-time estimates, W404, E403 and W405, and records a `SpaceReport`.
Exact for finite spaces, sound for infinite ones: nothing is claimed that the
solver did not prove; what it could not decide is said as information (I308).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from dspx_lang.diagnostics import Edit, Fix, Label, Severity
from dspx_lang.diagnostics import messages as msg
from dspx_lang.ir import schema as ir
from dspx_lang.semantics.checks.constraints import variables_of
from dspx_lang.semantics.checks.variables import value_str
from dspx_lang.semantics.context import Context
from dspx_lang.semantics.model import ProgramInfo, RBinary, RConst, RExpr, RIn, RUnary, RVar
from dspx_lang.source import Span
from dspx_lang.space.estimate import Estimator
from dspx_lang.space.lower import IMPLICIT_BASE, lower_constraints, lower_vars
from dspx_lang.space.report import BudgetPrune, SpaceReport
from dspx_lang.space.solve import (
    AnyConstraint,
    Choice,
    DeadValue,
    Space,
    SpaceResult,
)
from dspx_lang.space.tokencount import TokenCounter

DEFAULT_SAMPLER = "tpe"
INSTRUCTION_CANDIDATES = 4  # proposals per instructions(...) variable (see docs/language.md)


class ProgramAnalysis:
    def __init__(
        self, ctx: Context, program: ProgramInfo, package: ir.Package, counter: TokenCounter
    ) -> None:
        self.ctx = ctx
        self.program = program
        self.path = program.file
        self.vars = lower_vars(program, INSTRUCTION_CANDIDATES)
        self.declared = lower_constraints(program)
        self.estimator = Estimator(ctx.model, program, package, counter)
        self.capabilities = self.estimator.capability_predicates(IMPLICIT_BASE)

    # ----------------------------------------------------------------- run

    def run(self) -> SpaceReport:
        program = self.program
        self.unused_variables()
        declared = Space(self.vars, self.declared).analyze()
        self.report_declared(declared)
        feasible = declared
        if declared.satisfiable is not False:
            if self.capabilities:
                feasible = Space(self.vars, [*self.declared, *self.capabilities]).analyze()
            self.report_capabilities(declared, feasible)
        report = SpaceReport(
            program=program.name,
            variable_count=feasible.variable_count,
            continuous_count=feasible.continuous_count,
            total_size=feasible.total_size,
            feasible_size=feasible.size,
            budget_size=feasible.size,
            satisfiable=feasible.satisfiable,
            sampler=self.sampler(feasible),
            unused=[n for n, v in program.variables.items() if not v.used],
        )
        if feasible.satisfiable is False:
            return report
        self.estimator.report_unpriced(self.ctx)
        self.space = space = Space(self.vars, [*self.declared, *self.capabilities])
        report.compute_estimates = lambda: self.estimator.extremes(space)
        self.budgets(report)
        report.compute_forecast = lambda: self.estimator.forecast(report, space)
        self.estimator.check_forecast(self.ctx, report, space)
        return report

    # ---------------------------------------------------- declared constraints

    def constraint_span(self, cid: int) -> tuple[Span, str]:
        node = next(c.node for c in self.program.constraints if c.index == cid)
        label = node.label.value if node.label else None
        return node.span, f"'{label}'" if label else f"constraint {cid + 1}"

    def label(self, cid: int, message: str) -> Label:
        span, _ = self.constraint_span(cid)
        return Label(self.path, span, message)

    def report_declared(self, result: SpaceResult) -> None:
        ctx = self.ctx
        if result.satisfiable is False and result.core:
            first, _ = self.constraint_span(result.core[0])
            names = ", ".join(self.constraint_span(c)[1] for c in result.core)
            ctx.error(
                "E303",
                msg.unsatisfiable(names),
                self.path,
                first,
                related=[self.label(c, "part of the conflict") for c in result.core[1:]],
            )
            return
        for cid in result.default_violations:
            span, name = self.constraint_span(cid)
            ctx.error("E304", msg.default_violates(name, self.defaults_of(cid)), self.path, span)
        for dead in result.dead_values:
            self.dead_value(dead)
        for cid in result.redundant:
            span, name = self.constraint_span(cid)
            self.ctx.error("W306", msg.redundant(name), self.path, span)
        for undefined in result.undefined:
            span, name = self.constraint_span(undefined.constraint)
            where = ", ".join(f"{n} = {_show(v)}" for n, v in undefined.witness)
            self.ctx.error("E302", msg.undefined_constraint(name, where), self.path, span)
        undefined_ids = {u.constraint for u in result.undefined}
        for cid in result.undecided:
            if cid < IMPLICIT_BASE and cid not in undefined_ids:
                span, name = self.constraint_span(cid)
                self.ctx.sink.add(
                    "I308", msg.not_checked(name), self.path, span, severity=Severity.INFORMATION
                )

    def defaults_of(self, cid: int) -> str:
        info = next(c for c in self.program.constraints if c.index == cid)
        names = sorted(variables_of(info.expr))
        return ", ".join(f"{n} = {value_str(self.program.variables[n].default)}" for n in names)

    def dead_value(self, dead: DeadValue) -> None:
        var = self.program.variables[dead.var]
        killers = [k for k in dead.killers if k < IMPLICIT_BASE]
        if not killers:
            self.ctx.error(
                "W305", msg.dead_by_capability(dead.describe()), self.path, var.node.domain.span
            )
            return
        names = ", ".join(self.constraint_span(k)[1] for k in killers)
        self.ctx.error(
            "W305",
            msg.dead_value(dead.describe(), names),
            self.path,
            var.node.domain.span,
            related=[self.label(k, "rules it out") for k in killers],
        )

    def unused_variables(self) -> None:
        source = self.ctx.model.files[self.path].source
        for name, var in self.program.variables.items():
            if var.used:
                continue
            line = source.line_of(var.node.span.start)
            start, end = source.line_start(line), source.line_start(line + 1)
            whole_line = not source.text[start : var.node.span.start].strip() and end > start
            span = Span(start, end) if whole_line else var.node.span
            fix = Fix(f"Remove variable '{name}'", (Edit(self.path, span, ""),))
            self.ctx.error(
                "W307", msg.unused_variable(name), self.path, var.node.name.span, fixes=[fix]
            )

    # ------------------------------------------------------------ capabilities

    def report_capabilities(self, declared: SpaceResult, feasible: SpaceResult) -> None:
        defaults = {v.name: v.default for v in self.vars}
        for issue in self.estimator.capability_issues(defaults):
            code = "W407" if issue.fallback else "E406"
            self.ctx.error(code, issue.message, self.path, issue.span)
        if feasible is not declared:
            known = {(d.var, repr(d.value)) for d in declared.dead_values}
            for dead in feasible.dead_values:
                if (dead.var, repr(dead.value)) not in known:
                    self.dead_value(dead)
        if feasible.satisfiable is False and declared.satisfiable is not False:
            step_span = self.program.node.name.span
            self.ctx.error("E406", msg.no_capable_configuration(), self.path, step_span)

    # ----------------------------------------------------------------- budgets

    def budgets(self, report: SpaceReport) -> None:
        program, estimator = self.program, self.estimator
        base: list[AnyConstraint] = [*self.declared, *self.capabilities]
        all_budgets: list[AnyConstraint] = []
        for index, budget in enumerate(program.budgets):
            predicate = estimator.budget_predicate(
                IMPLICIT_BASE * 2 + index, budget.metric, budget.limit
            )
            result = Space(self.vars, [*base, predicate]).analyze()
            if result.satisfiable is False:
                cheapest = report.estimates.minimum.get(budget.metric) if report.estimates else None
                self.ctx.error(
                    "E403",
                    msg.unreachable_budget(budget.metric, budget.limit, cheapest),
                    self.path,
                    budget.node.span,
                )
            fraction = None
            if report.feasible_size and result.size is not None:
                fraction = 1 - result.size / report.feasible_size
            elif report.feasible_size is None:
                # An infinite space: the share of sampled feasible configurations it prunes.
                samples = estimator.samples(self.space)
                if samples:
                    fraction = sum(not predicate.fn(c) for c in samples) / len(samples)
            report.budgets.append(BudgetPrune(budget.metric, budget.limit, result.size, fraction))
            all_budgets.append(predicate)
        if all_budgets:
            report.budget_size = Space(self.vars, [*base, *all_budgets]).analyze().size

    # ----------------------------------------------------------------- sampler

    def sampler(self, result: SpaceResult) -> str | None:
        optimize = self.program.optimize
        if optimize is None:
            return None
        facts: dict[str, float] = {
            "space_size": math.inf if result.size is None else float(result.size),
            "variable_count": float(result.variable_count),
            "continuous_count": float(result.continuous_count),
        }
        for rule in optimize.samplers:
            if rule.condition is None or _evaluate(rule.condition, facts) is True:
                if rule.sampler == "grid" and result.size is None:
                    self.ctx.error(
                        "E402",
                        msg.grid_infinite(self.continuous()),
                        self.path,
                        rule.node.value.span,
                    )
                return rule.sampler
        return DEFAULT_SAMPLER

    def continuous(self) -> list[str]:
        return [
            v.name
            for v in self.vars
            if not isinstance(v.domain, Choice) and getattr(v.domain, "step", 0) is None
        ]


def _evaluate(expr: RExpr, facts: Mapping[str, float]) -> object:
    """A `when` condition over compile-time facts (numbers and booleans only)."""
    if isinstance(expr, RConst):
        return expr.value
    if isinstance(expr, RVar):
        return facts[expr.name]
    if isinstance(expr, RUnary):
        inner = _evaluate(expr.operand, facts)
        return (not inner) if expr.op == "not" else -float(inner)  # type: ignore[arg-type]
    if isinstance(expr, RIn):
        return (_evaluate(expr.target, facts) in expr.options) != expr.negated
    assert isinstance(expr, RBinary)
    a, b = _evaluate(expr.left, facts), _evaluate(expr.right, facts)
    if expr.op == "and":
        return bool(a) and bool(b)
    if expr.op == "or":
        return bool(a) or bool(b)
    if expr.op == "=>":
        return (not a) or bool(b)
    if expr.op == "/" and not b:
        return math.inf
    return _OPS[expr.op](a, b)


_OPS: dict[str, Callable[[Any, Any], object]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, str) else str(value)
