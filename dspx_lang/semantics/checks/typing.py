"""Resolve field types and field checks of classes, signatures and tools.

Contract: after `check_types`, every class, signature and tool declaration has
a `ClassInfo`/`SignatureInfo`/`ToolInfo` whose field types are resolved
(`UNKNOWN` where a type failed, already reported). Codes: E100/E102 for type
names, E101 for duplicate fields, E206 for malformed checks, E207 for
`reasoning`/`code` outputs, E208 for a signature without outputs, E209 for a
malformed tool target.
"""

from __future__ import annotations

import re
import warnings
from typing import cast

from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.context import Context, first_defined, is_literal, literal_value
from dspx_lang.semantics.model import (
    CheckInfo,
    ClassInfo,
    FieldInfo,
    ParamInfo,
    SignatureInfo,
    Symbol,
    SymbolKind,
    ToolInfo,
    Value,
)
from dspx_lang.semantics.types import (
    GENERICS,
    PRIMITIVES,
    STRING,
    UNKNOWN,
    ClassT,
    EnumT,
    ListT,
    LiteralsT,
    MapT,
    OptionalT,
    Type,
    fits,
    is_numeric,
    is_sized,
    is_textual,
)
from dspx_lang.syntax import ast

ParamValue = Value | list[Value] | None
PYTHON_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def check_types(ctx: Context) -> None:
    for path, unit in ctx.model.files.items():
        for decl in unit.module.decls:
            if isinstance(decl, ast.ClassDecl):
                _class(ctx, path, unit.scope, decl)
            elif isinstance(decl, ast.SignatureDecl):
                _signature(ctx, path, unit.scope, decl)
            elif isinstance(decl, ast.ToolDecl):
                _tool(ctx, path, unit.scope, decl)


def resolve_type(ctx: Context, file: str, scope: dict[str, Symbol], node: ast.TypeExpr) -> Type:
    if isinstance(node, ast.OptionalType):
        inner = resolve_type(ctx, file, scope, node.inner)
        return inner if isinstance(inner, OptionalT) else OptionalT(inner)
    if isinstance(node, ast.UnionType):
        values = tuple(option.value for option in node.options)
        if len(set(values)) != len(values):
            ctx.error("E101", msg.duplicate_literal(values), file, node.span)
        return LiteralsT(tuple(dict.fromkeys(values)))
    assert isinstance(node, ast.NamedType)
    name = node.name.text
    if name == "<error>":
        return UNKNOWN
    if name in GENERICS:
        return _generic(ctx, file, scope, node)
    if node.args:
        ctx.error("E102", msg.not_generic(name), file, node.span)
        return UNKNOWN
    if name in PRIMITIVES:
        return PRIMITIVES[name]
    symbol = ctx.resolve(file, node.name, scope, (SymbolKind.ENUM, SymbolKind.CLASS), "type")
    if symbol is None:
        return UNKNOWN
    if symbol.kind is SymbolKind.ENUM:
        info = ctx.model.enums.get(name)
        return EnumT(name, tuple(info.values) if info else ())
    return ClassT(name)


def _generic(ctx: Context, file: str, scope: dict[str, Symbol], node: ast.NamedType) -> Type:
    name = node.name.text
    arity = GENERICS[name]
    if len(node.args) != arity:
        ctx.error("E102", msg.generic_arity(name, arity, len(node.args)), file, node.span)
        return UNKNOWN
    args = [resolve_type(ctx, file, scope, a) for a in node.args]
    if name == "list":
        return ListT(args[0])
    if args[0] not in (STRING, UNKNOWN):
        ctx.error("E102", msg.map_key(), file, node.args[0].span)
    return MapT(args[1])


def resolve_field(
    ctx: Context,
    file: str,
    scope: dict[str, Symbol],
    node: ast.Field,
    kind: SymbolKind,
    container: Symbol,
) -> FieldInfo:
    field_type = resolve_type(ctx, file, scope, node.type)
    symbol = ctx.model.add_symbol(
        Symbol(
            node.name.text,
            kind,
            file,
            node.name.span,
            node.span,
            doc=node.doc,
            container=container,
            type=field_type,
            detail=node.description.value if node.description else "",
        )
    )
    checks = tuple(c for c in (_check(ctx, file, field_type, c) for c in node.checks) if c)
    return FieldInfo(
        node.name.text,
        field_type,
        symbol,
        description=node.description.value if node.description else None,
        checks=checks,
        doc=node.doc,
    )


def _check(ctx: Context, file: str, field_type: Type, node: ast.Check) -> CheckInfo | None:
    name = node.name.text
    if name not in B.CHECKS:
        ctx.undefined(file, node.name, B.CHECKS, "check", code="E206")
        return None
    values = [literal_value(a) if is_literal(a) else None for a in node.args]
    if name == "pattern":
        if len(values) != 1 or not isinstance(values[0], str):
            ctx.error(
                "E206", msg.check_args(name, 'one string: @pattern("regex")'), file, node.span
            )
            return None
        if not is_textual(field_type) and field_type is not UNKNOWN:
            ctx.error("E206", msg.check_type(name, "strings", str(field_type)), file, node.span)
            return None
        try:
            # A valid pattern that a future Python may read otherwise (`[[`) is still valid.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)
                re.compile(values[0])
        except re.error as exc:
            ctx.error("E206", msg.bad_regex(exc), file, node.args[0].span)
            return None
        return CheckInfo(name, (values[0],))
    if name == "tokens":
        if len(values) != 1 or not isinstance(values[0], int) or values[0] <= 0:
            ctx.error(
                "E206", msg.check_args(name, "one positive integer: @tokens(n)"), file, node.span
            )
            return None
        return CheckInfo(name, (values[0],))
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(values) != 2 or len(numbers) != 2:
        ctx.error("E206", msg.check_args(name, f"two numbers: @{name}(lo, hi)"), file, node.span)
        return None
    low, high = numbers
    applies = is_numeric if name == "range" else is_sized
    if not applies(field_type) and field_type is not UNKNOWN:
        what = "numbers" if name == "range" else "strings and lists"
        ctx.error("E206", msg.check_type(name, what, str(field_type)), file, node.span)
        return None
    if low > high:
        ctx.error("E206", msg.check_bounds(name, low, high), file, node.span)
        return None
    if name == "len" and (low < 0 or not all(isinstance(n, int) for n in numbers)):
        ctx.error("E206", msg.check_args(name, "two non-negative integers"), file, node.span)
        return None
    return CheckInfo(name, (low, high))


def _fields(
    ctx: Context,
    file: str,
    scope: dict[str, Symbol],
    nodes: list[ast.Field],
    container: Symbol,
) -> list[tuple[ast.Field, FieldInfo]]:
    """Resolve fields, reporting duplicates (E101); returns the first of each name."""
    seen: dict[str, FieldInfo] = {}
    out: list[tuple[ast.Field, FieldInfo]] = []
    for node in nodes:
        info = resolve_field(ctx, file, scope, node, SymbolKind.FIELD, container)
        if node.name.text in seen:
            ctx.error(
                "E101",
                msg.duplicate(node.name.text, "field"),
                file,
                node.name.span,
                related=[first_defined(seen[node.name.text].symbol)],
            )
            continue
        seen[node.name.text] = info
        out.append((node, info))
    return out


def _class(ctx: Context, file: str, scope: dict[str, Symbol], decl: ast.ClassDecl) -> None:
    symbol = scope.get(decl.name.text)
    if symbol is None or symbol.span != decl.name.span or decl.name.text in ctx.model.classes:
        return
    info = ClassInfo(decl.name.text, symbol)
    for _node, field_info in _fields(ctx, file, scope, decl.fields, symbol):
        info.fields[field_info.name] = field_info
    ctx.model.classes[decl.name.text] = info


def _signature(ctx: Context, file: str, scope: dict[str, Symbol], decl: ast.SignatureDecl) -> None:
    symbol = scope.get(decl.name.text)
    if symbol is None or symbol.span != decl.name.span or decl.name.text in ctx.model.signatures:
        return
    instructions = decl.instructions.value if decl.instructions else ""
    info = SignatureInfo(decl.name.text, symbol, instructions)
    for node, field_info in _fields(ctx, file, scope, decl.fields, symbol):
        if node.direction == "in":
            info.inputs[field_info.name] = field_info
        elif field_info.name in B.RESERVED_OUTPUTS:
            module = B.RESERVED_OUTPUTS[field_info.name]
            ctx.error("E207", msg.reserved_output(field_info.name, module), file, node.name.span)
        else:
            info.outputs[field_info.name] = field_info
    if not any(f.direction == "out" for f in decl.fields):
        ctx.error("E208", msg.no_outputs(decl.name.text), file, decl.name.span)
    ctx.model.signatures[decl.name.text] = info


def _tool(ctx: Context, file: str, scope: dict[str, Symbol], decl: ast.ToolDecl) -> None:
    symbol = scope.get(decl.name.text)
    if symbol is None or symbol.span != decl.name.span or decl.name.text in ctx.model.tools:
        return
    params: list[ParamInfo] = []
    seen: set[str] = set()
    for param in decl.params:
        param_type = resolve_type(ctx, file, scope, param.type)
        ctx.model.add_symbol(
            Symbol(
                param.name.text,
                SymbolKind.PARAM,
                file,
                param.name.span,
                param.span,
                container=symbol,
                type=param_type,
            )
        )
        if param.name.text in seen:
            ctx.error("E101", msg.duplicate(param.name.text, "parameter"), file, param.name.span)
            continue
        seen.add(param.name.text)
        default = None
        if param.default is not None:
            default = check_literal(
                ctx, file, param.default, param_type, f"parameter '{param.name.text}'"
            )
        params.append(ParamInfo(param.name.text, param_type, cast(ParamValue, default)))
    returns = resolve_type(ctx, file, scope, decl.returns)
    if not PYTHON_TARGET.match(decl.target.value):
        ctx.error("E209", msg.bad_target(decl.target.value), file, decl.target.span)
    ctx.model.tools[decl.name.text] = ToolInfo(
        decl.name.text, symbol, params, returns, decl.target.value
    )


def literal_type(expr: ast.Expr) -> Type:
    """The type of a literal expression (lists: their first element's type)."""
    from dspx_lang.semantics.types import BOOL, FLOAT, INT

    if isinstance(expr, ast.StringLit):
        return LiteralsT((expr.value,))
    if isinstance(expr, ast.NumberLit):
        return INT if isinstance(expr.value, int) else FLOAT
    if isinstance(expr, ast.Unary) and isinstance(expr.operand, ast.NumberLit):
        return literal_type(expr.operand)
    if isinstance(expr, ast.MoneyLit | ast.DurationLit):
        return FLOAT
    if isinstance(expr, ast.BoolLit):
        return BOOL
    if isinstance(expr, ast.ListLit):
        if not expr.items:
            return ListT(UNKNOWN)
        elems = [literal_type(i) for i in expr.items]
        first = elems[0]
        if isinstance(first, LiteralsT) and all(isinstance(e, LiteralsT) for e in elems):
            return ListT(STRING)
        if all(e == first for e in elems):
            return ListT(first)
        if all(e in (INT, FLOAT) for e in elems):
            return ListT(FLOAT)
        return ListT(UNKNOWN)
    return UNKNOWN


def literal_fits(expr: ast.Expr, target: Type) -> bool:
    """Like `fits`, but element-wise for list literals (`[1, 2]` fits `list<float>`)."""
    inner = target.inner if isinstance(target, OptionalT) else target
    if isinstance(expr, ast.ListLit) and isinstance(inner, ListT):
        return all(literal_fits(item, inner.elem) for item in expr.items)
    return fits(literal_type(expr), target)


def check_literal(ctx: Context, file: str, expr: ast.Expr, target: Type, what: str) -> object:
    """The literal's value if it is a literal of a type fitting `target`, else report E200."""
    if not is_literal(expr):
        ctx.error("E200", msg.expected_literal(what, str(target)), file, expr.span)
        return None
    if not literal_fits(expr, target):
        ctx.error(
            "E200", msg.type_mismatch(what, str(target), str(literal_type(expr))), file, expr.span
        )
        return None
    return literal_value(expr)
