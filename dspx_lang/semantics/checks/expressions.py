"""Typing and resolving the expression language (constraints, `when`, `expect`).

Contract: `Resolver.boolean(expr)` returns a resolved `RExpr` or None after
reporting. Names come from an environment (variables, fields or compile-time
facts); a bare identifier that is not in the environment is resolved against
the other side of its comparison (`model == local`: `local` must be a member
of `model`'s domain). Type errors use the resolver's code (E302 for
constraints, E501 for tests); unknown names E100 (E501 in tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics.context import Context, suggest
from dspx_lang.semantics.model import (
    BoolDom,
    ChoiceDom,
    Dom,
    FloatDom,
    Ident,
    InstructionsDom,
    IntDom,
    RBinary,
    RCall,
    RConst,
    RExpr,
    RIn,
    RUnary,
    RVar,
    Symbol,
    Value,
)
from dspx_lang.semantics.types import (
    BOOL,
    FLOAT,
    INT,
    STRING,
    EnumT,
    ListT,
    LiteralsT,
    OptionalT,
    Type,
)
from dspx_lang.syntax import ast


@dataclass(frozen=True, slots=True)
class Sort:
    """What an expression denotes: bool, num, str, sym (identifiers), list, other, or ident
    (a bare identifier still to be resolved against the other side of a comparison)."""

    kind: str
    key: str = ""  # for sym: module | adapter | model | enum:NAME
    values: tuple[Value, ...] | None = None  # allowed members, when known
    elem: Sort | None = None


BOOL_S = Sort("bool")
NUM_S = Sort("num")
STR_S = Sort("str")


def sort_of_domain(domain: Dom) -> Sort:
    if isinstance(domain, ChoiceDom):
        if domain.kind in ("int", "float"):
            return NUM_S
        if domain.kind == "bool":
            return BOOL_S
        if domain.kind == "string":
            return Sort("str", values=domain.values)
        key = f"enum:{domain.enum}" if domain.kind == "enum" else domain.kind
        return Sort("sym", key, domain.values)
    if isinstance(domain, IntDom | FloatDom):
        return NUM_S
    if isinstance(domain, BoolDom):
        return BOOL_S
    assert isinstance(domain, InstructionsDom)
    return STR_S


def sort_of_type(t: Type) -> Sort:
    if isinstance(t, OptionalT):
        return sort_of_type(t.inner)
    if t in (INT, FLOAT):
        return NUM_S
    if t == BOOL:
        return BOOL_S
    if t == STRING:
        return STR_S
    if isinstance(t, LiteralsT):
        return Sort("str", values=t.values)
    if isinstance(t, EnumT):
        return Sort("sym", f"enum:{t.name}", tuple(Ident(v) for v in t.values))
    if isinstance(t, ListT):
        return Sort("list", elem=sort_of_type(t.elem))
    return Sort("other")


Env = Mapping[str, tuple[Symbol | None, Sort]]
IdentSymbol = Callable[[str, str], Symbol | None]  # (sort key, name) -> symbol


class Resolver:
    def __init__(
        self,
        ctx: Context,
        path: str,
        env: Env,
        *,
        code: str = "E302",
        unknown_code: str = "E100",
        what: str = "variable",
        functions: dict[str, str] | None = None,
        ident_symbol: IdentSymbol | None = None,
    ) -> None:
        self.ctx = ctx
        self.path = path
        self.env = env
        self.code = code
        self.unknown_code = unknown_code
        self.what = what
        self.functions = functions or {}
        self.ident_symbol = ident_symbol

    def error(self, node: ast.Node, message: str) -> None:
        self.ctx.error(self.code, message, self.path, node.span)

    def boolean(self, expr: ast.Expr) -> RExpr | None:
        resolved = self.expr(expr)
        if resolved is None:
            return None
        rexpr, sort = resolved
        if sort.kind == "ident":
            self.unknown(expr)
            return None
        if sort.kind != "bool":
            self.error(expr, msg.not_boolean(_sort_name(sort)))
            return None
        return rexpr

    def unknown(self, expr: ast.Expr) -> None:
        name = expr.name if isinstance(expr, ast.NameRef) else None
        if name is not None:
            self.ctx.undefined(self.path, name, self.env, self.what, code=self.unknown_code)

    def expr(self, e: ast.Expr) -> tuple[RExpr, Sort] | None:
        if isinstance(e, ast.Paren):
            return self.expr(e.inner)
        if isinstance(e, ast.NameRef):
            entry = self.env.get(e.name.text)
            if entry is None:
                return RConst(Ident(e.name.text)), Sort("ident", e.name.text)
            symbol, sort = entry
            if symbol is not None:
                self.ctx.refer(self.path, e.name, symbol)
            return RVar(e.name.text), sort
        if isinstance(e, ast.StringLit):
            return RConst(e.value), Sort("str", values=(e.value,))
        if isinstance(e, ast.NumberLit | ast.MoneyLit):
            return RConst(e.value), NUM_S
        if isinstance(e, ast.DurationLit):
            return RConst(e.seconds), NUM_S
        if isinstance(e, ast.BoolLit):
            return RConst(e.value), BOOL_S
        if isinstance(e, ast.Unary):
            return self.unary(e)
        if isinstance(e, ast.Binary):
            return self.binary(e)
        if isinstance(e, ast.InList):
            return self.in_list(e)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.Member):
            return self.member(e)
        if isinstance(e, ast.ErrorExpr):
            return None
        self.error(e, msg.unsupported_expression())
        return None

    def unary(self, e: ast.Unary) -> tuple[RExpr, Sort] | None:
        if e.op == "-" and isinstance(e.operand, ast.NumberLit):
            return RConst(-e.operand.value), NUM_S  # a negative literal, usable in `in [...]`
        inner = self.expr(e.operand)
        if inner is None:
            return None
        want = BOOL_S if e.op == "not" else NUM_S
        if inner[1].kind != want.kind:
            if inner[1].kind == "ident":
                self.unknown(e.operand)
                return None
            self.error(e.operand, msg.operand_type(e.op, want.kind, _sort_name(inner[1])))
            return None
        return RUnary(e.op, inner[0]), want

    def binary(self, e: ast.Binary) -> tuple[RExpr, Sort] | None:
        left = self.expr(e.left)
        right = self.expr(e.right)
        if left is None or right is None:
            return None
        if e.op in ("==", "!="):
            return self.equality(e, left, right)
        want = BOOL_S if e.op in ("and", "or", "=>") else NUM_S
        for side, node in ((left, e.left), (right, e.right)):
            if side[1].kind == "ident":
                self.unknown(node)
                return None
            if side[1].kind != want.kind:
                self.error(node, msg.operand_type(e.op, want.kind, _sort_name(side[1])))
                return None
        if (e.op == "/" and right[0] == RConst(0)) or (e.op == "/" and right[0] == RConst(0.0)):
            self.error(e.right, msg.division_by_zero())
            return None
        result = BOOL_S if e.op in ("and", "or", "=>", "<", "<=", ">", ">=") else NUM_S
        return RBinary(e.op, left[0], right[0]), result

    def equality(
        self, e: ast.Binary, left: tuple[RExpr, Sort], right: tuple[RExpr, Sort]
    ) -> tuple[RExpr, Sort] | None:
        resolved_left = self.against(e.left, left, right[1])
        if resolved_left is None:
            return None  # one unknown name, one diagnostic
        resolved_right = self.against(e.right, right, resolved_left[1])
        if resolved_right is None:
            return None
        a, b = resolved_left[1], resolved_right[1]
        if not _comparable(a, b):
            self.error(e, msg.incomparable(_sort_name(a), _sort_name(b)))
            return None
        for node, sort, other in ((e.left, a, b), (e.right, b, a)):
            if not self.member_ok(node, sort, other):
                return None
        return RBinary(e.op, resolved_left[0], resolved_right[0]), BOOL_S

    def against(
        self, node: ast.Expr, side: tuple[RExpr, Sort], other: Sort
    ) -> tuple[RExpr, Sort] | None:
        """Resolve a bare identifier against the sort it is compared with."""
        rexpr, sort = side
        if sort.kind != "ident":
            return side
        if other.kind == "sym" and other.values is not None:
            if Ident(sort.key) in other.values:
                if self.ident_symbol is not None and isinstance(node, ast.NameRef):
                    symbol = self.ident_symbol(other.key, sort.key)
                    if symbol is not None:
                        self.ctx.refer(self.path, node.name, symbol)
                return rexpr, Sort("sym", other.key, (Ident(sort.key),))
            names = [v.name for v in other.values if isinstance(v, Ident)]
            guess = suggest(sort.key, names)
            note = f"did you mean '{guess}'?" if guess else None
            self.ctx.error(
                self.code, msg.not_in_domain(sort.key, names), self.path, node.span, note=note
            )
            return None
        self.unknown(node)
        return None

    def member_ok(self, node: ast.Expr, sort: Sort, other: Sort) -> bool:
        """A string literal compared with a string choice must be one of its members."""
        if (
            sort.kind == "str"
            and other.kind == "str"
            and other.values is not None
            and (
                sort.values is not None
                and len(sort.values) == 1
                and sort.values[0] not in other.values
            )
        ):
            self.error(node, msg.not_in_domain(str(sort.values[0]), [str(v) for v in other.values]))
            return False
        return True

    def in_list(self, e: ast.InList) -> tuple[RExpr, Sort] | None:
        target = self.expr(e.target)
        if target is None:
            return None
        if target[1].kind == "ident":
            self.unknown(e.target)
            return None
        options: list[Value] = []
        for item in e.options.items:
            resolved = self.expr(item)
            if resolved is None:
                return None
            resolved = self.against(item, resolved, target[1])
            if resolved is None:
                return None
            rexpr, sort = resolved
            if not isinstance(rexpr, RConst) or not _comparable(target[1], sort):
                self.error(item, msg.incomparable(_sort_name(target[1]), _sort_name(sort)))
                return None
            if not self.member_ok(item, sort, target[1]):
                return None
            options.append(rexpr.value)
        return RIn(target[0], tuple(options), e.negated), BOOL_S

    def call(self, e: ast.Call) -> tuple[RExpr, Sort] | None:
        if e.func.text not in self.functions:
            self.error(e.func, msg.no_functions(sorted(self.functions)))
            return None
        args = [self.expr(a.value) for a in e.args]
        if any(a is None for a in args):
            return None
        resolved = [a for a in args if a is not None]
        for arg, node in zip(resolved, e.args, strict=True):
            if arg[1].kind == "ident":
                self.unknown(node.value)
                return None
        arity = {"contains": 2, "len": 1, "lower": 1}.get(e.func.text, len(args))
        if len(args) != arity:
            self.error(e, msg.call_arity(e.func.text, arity))
            return None
        kinds = [a[1].kind for a in resolved]
        result = {"contains": BOOL_S, "len": NUM_S, "lower": STR_S}[e.func.text]
        valid = {
            "contains": kinds[0] in ("str", "list", "sym"),
            "len": kinds[0] in ("str", "list"),
            "lower": kinds[0] in ("str", "sym"),
        }[e.func.text]
        if not valid:
            self.error(e, msg.call_type(e.func.text, _sort_name(resolved[0][1])))
            return None
        return RCall(e.func.text, tuple(a[0] for a in resolved)), result

    def member(self, e: ast.Member) -> tuple[RExpr, Sort] | None:
        if isinstance(e.target, ast.NameRef) and e.target.name.text not in self.env:
            enum = self.ctx.model.enums.get(e.target.name.text)
            if enum is not None:
                self.ctx.refer(self.path, e.target.name, enum.symbol)
                value = enum.values.get(e.member.text)
                if value is None:
                    self.ctx.undefined(
                        self.path, e.member, enum.values, f"value of enum '{enum.name}'"
                    )
                    return None
                self.ctx.refer(self.path, e.member, value)
                key = f"enum:{enum.name}"
                return RConst(Ident(e.member.text)), Sort("sym", key, (Ident(e.member.text),))
        target = self.expr(e.target)
        if target is None:
            return None
        if target[1].kind == "ident":
            self.unknown(e.target)
            return None
        self.error(e, msg.no_members(_sort_name(target[1])))
        return None


def _comparable(a: Sort, b: Sort) -> bool:
    if a.kind == "sym" and b.kind == "sym":
        return a.key == b.key
    if {a.kind, b.kind} == {"sym", "str"}:
        return a.key.startswith("enum:")  # enum values compare with their names
    if a.kind == "other" or b.kind == "other":
        return False
    return a.kind == b.kind


def _sort_name(sort: Sort) -> str:
    if sort.kind == "sym":
        return sort.key.replace("enum:", "") + " value"
    return {
        "bool": "a boolean",
        "num": "a number",
        "str": "a string",
        "list": "a list",
        "ident": f"'{sort.key}'",
    }.get(sort.kind, "a value")
