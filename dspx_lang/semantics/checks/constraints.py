"""Constraints: resolve and type each one over the program's variables (E302).

Contract: after `check_constraints`, each program's `constraints` holds one
`ConstraintInfo` (with a resolved boolean `RExpr`) per constraint that typed.
A variable named only in constraints still counts as unused (W307): no step
reads it, so it changes nothing the program does.
"""

from __future__ import annotations

from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.checks.expressions import Env, Resolver, sort_of_domain
from dspx_lang.semantics.context import Context
from dspx_lang.semantics.model import (
    ConstraintInfo,
    ProgramInfo,
    RBinary,
    RExpr,
    RIn,
    RUnary,
    RVar,
    Symbol,
)


def ident_symbols(ctx: Context, program: ProgramInfo) -> IdentLookup:
    return IdentLookup(ctx, ctx.model.files[program.file].scope)


class IdentLookup:
    """Finds the symbol an identifier value names, for references (hover, rename)."""

    def __init__(self, ctx: Context, scope: dict[str, Symbol]) -> None:
        self.ctx = ctx
        self.scope = scope

    def __call__(self, key: str, name: str) -> Symbol | None:
        if key == "module" and name in B.MODULES:
            return self.ctx.builtin(name, B.MODULES[name])
        if key == "adapter" and name in B.ADAPTERS:
            return self.ctx.builtin(name, B.ADAPTERS[name])
        if key == "model":
            return self.scope.get(name)
        if key.startswith("enum:"):
            enum = self.ctx.model.enums.get(key[5:])
            return enum.values.get(name) if enum else None
        return None


def variable_env(program: ProgramInfo) -> Env:
    return {
        name: (var.symbol, sort_of_domain(var.domain)) for name, var in program.variables.items()
    }


def check_constraints(ctx: Context) -> None:
    for program in ctx.model.programs.values():
        resolver = Resolver(
            ctx, program.file, variable_env(program), ident_symbol=ident_symbols(ctx, program)
        )
        for index, node in enumerate(program.node.constraints()):
            expr = resolver.boolean(node.expr)
            if expr is None:
                continue
            label = node.label.value if node.label else None
            program.constraints.append(ConstraintInfo(label, expr, node, index))


def variables_of(expr: RExpr) -> set[str]:
    """Names of the variables an expression reads."""
    found: set[str] = set()
    stack = [expr]
    while stack:
        current = stack.pop()
        if isinstance(current, RVar):
            found.add(current.name)
        elif isinstance(current, RUnary):
            stack.append(current.operand)
        elif isinstance(current, RBinary):
            stack.extend((current.left, current.right))
        elif isinstance(current, RIn):
            stack.append(current.target)
    return found
