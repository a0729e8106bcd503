"""Variable domains and defaults (E301, E300).

Contract: `check_variable` returns a `VarInfo` with a resolved domain and a
default inside it, or None after reporting. Choice members are all literals of
one type or all identifiers of one kind (module kinds, adapters, models, values
of one enum); the kind is the one every member can be. A missing default is the
first choice, the lower bound, `false`, or the signature's own instructions.
"""

from __future__ import annotations

import math

from dspx_lang.diagnostics import Edit, Fix
from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.context import Context, is_literal, literal_value
from dspx_lang.semantics.model import (
    BoolDom,
    ChoiceDom,
    Dom,
    DomainKind,
    FloatDom,
    Ident,
    InstructionsDom,
    IntDom,
    Symbol,
    SymbolKind,
    Value,
    VarInfo,
)
from dspx_lang.syntax import ast

_KIND_ORDER: tuple[DomainKind, ...] = ("module", "adapter", "model", "enum")


def check_variable(
    ctx: Context, path: str, scope: dict[str, Symbol], node: ast.VarDecl, program: Symbol
) -> VarInfo | None:
    domain = _domain(ctx, path, scope, node.domain)
    if domain is None:
        return None
    symbol = ctx.model.add_symbol(
        Symbol(
            node.name.text,
            SymbolKind.VARIABLE,
            path,
            node.name.span,
            node.span,
            doc=node.doc,
            container=program,
            detail=domain_str(domain),
        )
    )
    default = _default(ctx, path, scope, node, domain)
    if default is None:
        return None
    return VarInfo(node.name.text, symbol, domain, default, node)


def domain_str(domain: Dom) -> str:
    if isinstance(domain, ChoiceDom):
        return "[" + ", ".join(value_str(v) for v in domain.values) + "]"
    if isinstance(domain, IntDom | FloatDom):
        kind = "int" if isinstance(domain, IntDom) else "float"
        text = f"{kind} in {domain.low}..{domain.high}"
        if domain.log:
            text += " log"
        if isinstance(domain, FloatDom) and domain.step is not None:
            text += f" step {domain.step}"
        return text
    if isinstance(domain, BoolDom):
        return "bool"
    return f"instructions({domain.signature})"


def value_str(value: Value | list[Value] | None) -> str:
    if isinstance(value, Ident):
        return value.name
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(value_str(v) for v in value) + "]"
    return str(value)


def _domain(ctx: Context, path: str, scope: dict[str, Symbol], node: ast.Domain) -> Dom | None:
    if isinstance(node, ast.ChoiceDomain):
        return _choice(ctx, path, scope, node)
    if isinstance(node, ast.RangeDomain):
        return _range(ctx, path, node)
    if isinstance(node, ast.NamedDomain):
        if node.name.text == "bool":
            return BoolDom()
        ctx.undefined(path, node.name, ["bool"], "domain", code="E301")
        return None
    assert isinstance(node, ast.CallDomain)
    if node.func.text != "instructions":
        ctx.undefined(path, node.func, ["instructions"], "domain", code="E301")
        return None
    symbol = ctx.resolve(path, node.arg, scope, (SymbolKind.SIGNATURE,), "signature")
    return InstructionsDom(node.arg.text) if symbol else None


def _choice(
    ctx: Context, path: str, scope: dict[str, Symbol], node: ast.ChoiceDomain
) -> ChoiceDom | None:
    if not node.options:
        ctx.error("E301", msg.empty_choice(), path, node.span)
        return None
    if all(is_literal(o) for o in node.options):
        return _literal_choice(ctx, path, node)
    if any(is_literal(o) for o in node.options):
        ctx.error("E301", msg.mixed_choice(), path, node.span)
        return None
    options: list[tuple[ast.Name, dict[DomainKind, tuple[Symbol, str | None]]]] = []
    for option in node.options:
        resolved = _identifier_kinds(ctx, path, scope, option)
        if resolved is None:
            return None
        options.append(resolved)
    common = set(options[0][1])
    for _, kinds in options[1:]:
        common &= set(kinds)
    enums = {kinds["enum"][1] for _, kinds in options if "enum" in kinds}
    if "enum" in common and len(enums) > 1:
        common.discard("enum")
    if not common:
        ctx.error("E301", msg.mixed_choice(), path, node.span)
        return None
    kind = next(k for k in _KIND_ORDER if k in common)
    values: list[Value] = []
    for name, kinds in options:
        symbol, _ = kinds[kind]
        ctx.refer(path, name, symbol)
        if Ident(name.text) in values:
            ctx.error("E301", msg.duplicate_member(name.text), path, name.span)
            return None
        values.append(Ident(name.text))
    enum = next(iter(enums)) if kind == "enum" else None
    return ChoiceDom(kind, tuple(values), enum)


def _identifier_kinds(
    ctx: Context, path: str, scope: dict[str, Symbol], option: ast.Expr
) -> tuple[ast.Name, dict[DomainKind, tuple[Symbol, str | None]]] | None:
    """Every kind an identifier member could be, with the symbol it would name."""
    if isinstance(option, ast.Member) and isinstance(option.target, ast.NameRef):
        enum = ctx.model.enums.get(option.target.name.text)
        if enum is None:
            ctx.resolve(path, option.target.name, scope, (SymbolKind.ENUM,), "enum")
            return None
        ctx.refer(path, option.target.name, enum.symbol)
        value = enum.values.get(option.member.text)
        if value is None:
            ctx.undefined(path, option.member, enum.values, f"value of enum '{enum.name}'")
            return None
        return option.member, {"enum": (value, enum.name)}
    if not isinstance(option, ast.NameRef):
        ctx.error("E301", msg.bad_member(), path, option.span)
        return None
    name = option.name
    kinds: dict[DomainKind, tuple[Symbol, str | None]] = {}
    if name.text in B.MODULES:
        kinds["module"] = (ctx.builtin(name.text, B.MODULES[name.text]), None)
    if name.text in B.ADAPTERS:
        kinds["adapter"] = (ctx.builtin(name.text, B.ADAPTERS[name.text]), None)
    symbol = scope.get(name.text)
    if symbol is not None and symbol.kind is SymbolKind.MODEL:
        kinds["model"] = (symbol, None)
    for enum_name, enum in ctx.model.enums.items():
        if name.text in enum.values and scope.get(enum_name) is enum.symbol:
            kinds.setdefault("enum", (enum.values[name.text], enum_name))
    if not kinds:
        models = [n for n, s in scope.items() if s.kind is SymbolKind.MODEL]
        values = [v for e in ctx.model.enums.values() for v in e.values]
        ctx.undefined(path, name, [*B.MODULES, *B.ADAPTERS, *models, *values], "choice member")
        return None
    return name, kinds


def _literal_choice(ctx: Context, path: str, node: ast.ChoiceDomain) -> ChoiceDom | None:
    values = [literal_value(o) for o in node.options]
    if all(isinstance(v, bool) for v in values):
        kind: DomainKind = "bool"
    elif all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        kind = "int"
    elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        kind = "float"
        values = [float(v) for v in values]  # type: ignore[arg-type]
    elif all(isinstance(v, str) for v in values):
        kind = "string"
    else:
        ctx.error("E301", msg.mixed_choice(), path, node.span)
        return None
    if len(set(map(repr, values))) != len(values):
        ctx.error("E301", msg.duplicate_member("a value"), path, node.span)
        return None
    return ChoiceDom(kind, tuple(v for v in values if isinstance(v, bool | int | float | str)))


def _range(ctx: Context, path: str, node: ast.RangeDomain) -> IntDom | FloatDom | None:
    kind = node.kind.text
    if kind not in ("int", "float"):
        ctx.undefined(path, node.kind, ["int", "float"], "range type", code="E301")
        return None
    low, high = node.low.value, node.high.value
    if kind == "int" and not (isinstance(low, int) and isinstance(high, int)):
        ctx.error("E301", msg.int_bounds(), path, node.span)
        return None
    if low > high:
        ctx.error("E301", msg.range_order(low, high), path, node.span)
        return None
    if node.log and low <= 0:
        ctx.error("E301", msg.log_bounds(), path, node.span)
        return None
    if kind == "int":
        if node.step is not None:
            ctx.error("E301", msg.int_step(), path, node.step.span)
            return None
        assert isinstance(low, int)
        assert isinstance(high, int)
        return IntDom(low, high, node.log)
    step = None
    if node.step is not None:
        step = float(node.step.value)
        if step <= 0 or (high > low and step > high - low):
            ctx.error("E301", msg.bad_step(step), path, node.step.span)
            return None
        if node.log:
            ctx.error("E301", msg.log_and_step(), path, node.step.span)
            return None
    return FloatDom(float(low), float(high), node.log, step)


def on_grid(value: float, domain: FloatDom) -> bool:
    if domain.step is None:
        return True
    k = (value - domain.low) / domain.step
    return math.isclose(k, round(k), abs_tol=1e-9)


def _default(
    ctx: Context, path: str, scope: dict[str, Symbol], node: ast.VarDecl, domain: Dom
) -> Value | None:
    expr = node.default
    if expr is None:
        if isinstance(domain, ChoiceDom):
            return domain.values[0]
        if isinstance(domain, IntDom | FloatDom):
            return domain.low
        if isinstance(domain, BoolDom):
            return False
        signature = ctx.model.signatures.get(domain.signature)
        return signature.instructions if signature else ""
    value = _default_value(ctx, path, scope, expr, domain)
    if value is not None:
        return value
    fix = _nearest(domain, expr)
    fixes = [Fix(f"Change the default to {fix}", (Edit(path, expr.span, fix),))] if fix else []
    ctx.error("E300", msg.default_outside(domain_str(domain)), path, expr.span, fixes=fixes)
    return None


def _default_value(
    ctx: Context, path: str, scope: dict[str, Symbol], expr: ast.Expr, domain: Dom
) -> Value | None:
    if isinstance(domain, ChoiceDom):
        if domain.kind in ("int", "float", "string", "bool"):
            value = literal_value(expr) if is_literal(expr) else None
            if isinstance(value, bool) != (domain.kind == "bool"):
                return None
            return next(
                (v for v in domain.values if v == value and not isinstance(value, list)), None
            )
        name = (
            expr.member
            if isinstance(expr, ast.Member)
            else (expr.name if isinstance(expr, ast.NameRef) else None)
        )
        if name is None or Ident(name.text) not in domain.values:
            return None
        symbol = scope.get(name.text)
        if domain.kind == "enum" and domain.enum in ctx.model.enums:
            symbol = ctx.model.enums[domain.enum].values.get(name.text)
        elif domain.kind in ("module", "adapter"):
            table = B.MODULES if domain.kind == "module" else B.ADAPTERS
            symbol = ctx.builtin(name.text, table[name.text])
        if symbol is not None:
            ctx.refer(path, name, symbol)
        return Ident(name.text)
    value = literal_value(expr) if is_literal(expr) else None
    if isinstance(domain, BoolDom):
        return value if isinstance(value, bool) else None
    if isinstance(domain, InstructionsDom):
        return value if isinstance(value, str) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    if isinstance(domain, IntDom) and not isinstance(value, int):
        return None
    if not domain.low <= value <= domain.high:
        return None
    if isinstance(domain, FloatDom) and not on_grid(value, domain):
        return None
    return value


def _nearest(domain: Dom, expr: ast.Expr) -> str | None:
    """The valid default closest to what was written, as source text."""
    if isinstance(domain, ChoiceDom):
        return value_str(domain.values[0])
    if isinstance(domain, BoolDom):
        return "false"
    if isinstance(domain, InstructionsDom):
        return None
    value = literal_value(expr) if is_literal(expr) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(domain.low)
    clamped = min(max(value, domain.low), domain.high)
    if isinstance(domain, IntDom):
        return str(round(clamped))
    if domain.step is not None:
        clamped = domain.low + round((clamped - domain.low) / domain.step) * domain.step
        clamped = min(clamped, domain.high)
    return repr(round(clamped, 12))
