"""Objectives and budgets (E400, W401, E200, E209).

Contract: after `check_objectives`, each program's `objectives` and `budgets`
are resolved; objective weights are kept as written (missing weights count 1)
and normalised by their consumers; W401 says so when explicit weights do not
sum to 1.
"""

from __future__ import annotations

import math
import re

from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.context import Context
from dspx_lang.semantics.model import BudgetInfo, ObjectiveInfo, ProgramInfo
from dspx_lang.syntax import ast

PYTHON_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
KNOWN = [*B.FIELD_METRICS, B.CUSTOM_METRIC, *B.MEASURED]


def check_objectives(ctx: Context) -> None:
    for program in ctx.model.programs.values():
        for node in program.node.objectives():
            objective = _objective(ctx, program, node)
            if objective is not None:
                program.objectives.append(objective)
        weights = [o.node.weight for o in program.objectives]
        if any(w is not None for w in weights):
            total = sum(o.weight for o in program.objectives)
            if program.objectives and not math.isclose(total, 1.0, abs_tol=1e-9):
                first = program.objectives[0].node
                ctx.error("W401", msg.weights(total), program.file, first.span)
        for budget_node in program.node.budgets():
            budget = _budget(ctx, program, budget_node)
            if budget is not None:
                program.budgets.append(budget)


def _objective(ctx: Context, program: ProgramInfo, node: ast.ObjectiveDecl) -> ObjectiveInfo | None:
    path = program.file
    metric = node.metric.text
    weight = 1.0
    if node.weight is not None:
        weight = float(node.weight.value)
        if weight <= 0:
            ctx.error("E400", msg.weight_positive(), path, node.weight.span)
            return None
    if metric in B.MEASURED:
        ctx.refer(path, node.metric, ctx.builtin(metric, B.MEASURED[metric]))
        if node.args is not None:
            ctx.error("E400", msg.measured_args(metric), path, node.span)
            return None
        return ObjectiveInfo(node.direction, metric, None, None, weight, node)
    if metric == B.CUSTOM_METRIC:
        args = node.args or []
        if len(args) != 1 or not isinstance(args[0], ast.StringLit):
            ctx.error("E400", msg.custom_metric_args(), path, node.span)
            return None
        if not PYTHON_TARGET.match(args[0].value):
            ctx.error("E209", msg.bad_target(args[0].value), path, args[0].span)
            return None
        return ObjectiveInfo(node.direction, metric, None, args[0].value, weight, node)
    if metric not in B.FIELD_METRICS:
        ctx.undefined(path, node.metric, KNOWN, "objective", code="E400")
        return None
    ctx.refer(path, node.metric, ctx.builtin(metric, B.FIELD_METRICS[metric]))
    args = node.args or []
    if len(args) != 1 or not isinstance(args[0], ast.NameRef):
        ctx.error("E400", msg.metric_args(metric), path, node.span)
        return None
    field = args[0].name
    output = program.outputs.get(field.text)
    if output is None:
        ctx.undefined(path, field, program.outputs, "program output", code="E400")
        return None
    ctx.refer(path, field, output.symbol)
    return ObjectiveInfo(node.direction, metric, field.text, None, weight, node)


def _budget(ctx: Context, program: ProgramInfo, node: ast.BudgetDecl) -> BudgetInfo | None:
    path = program.file
    metric = node.metric.text
    if metric not in B.MEASURED:
        ctx.undefined(path, node.metric, B.MEASURED, "budget", code="E400")
        return None
    ctx.refer(path, node.metric, ctx.builtin(metric, B.MEASURED[metric]))
    limit = node.limit
    if metric == "cost" and isinstance(limit, ast.MoneyLit):
        return BudgetInfo("cost", limit.value, node)
    if metric == "latency" and isinstance(limit, ast.DurationLit):
        return BudgetInfo("latency", limit.seconds, node)
    if metric == "tokens" and isinstance(limit, ast.NumberLit) and isinstance(limit.value, int):
        return BudgetInfo("tokens", float(limit.value), node)
    expected = {
        "cost": "an amount such as $0.01",
        "latency": "a duration such as 2s",
        "tokens": "a whole number of tokens",
    }[metric]
    ctx.error("E200", msg.budget_type(metric, expected), path, limit.span)
    return None
