"""Lark reductions -> AST nodes, applied inline while the LALR parser runs.

Contract: each callback receives the children of one grammar rule (keyword and
punctuation tokens included, `None` for absent optional parts) and returns an
AST node whose span covers all of them. Callbacks never mutate their children
lists (recovery parses on shallow copies of the parser's value stack). Problems
found while building nodes (bad escapes, unterminated strings, nesting too
deep) are recorded in the per-parse `ParseState` held in a context variable,
so one compiled parser serves every thread and task.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, cast

from lark import Token

from dspx_lang.source import Span
from dspx_lang.syntax import ast

MAX_DEPTH = 100  # deeper expressions or types are replaced by an error node

_ESCAPE = re.compile(r"\\(u\{[0-9A-Fa-f]{1,6}\}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r", "0": "\0"}


@dataclass(slots=True)
class ParseState:
    """What one parse collects besides the tree."""

    errors: list[tuple[Span, str]] = field(default_factory=list)
    comments: list[ast.Comment] = field(default_factory=list)
    depth_reported: bool = False
    # The last token the lexer handed out, and the one before it (contextual keywords).
    previous: Token | None = None
    before: Token | None = None


STATE: ContextVar[ParseState] = ContextVar("dspx_parse_state")


def _edge(item: Any, last: bool) -> int | None:
    """Start (or end) offset of a child: a token, a node, or a list/tuple of them."""
    if isinstance(item, Token):
        return item.end_pos if last else item.start_pos
    if isinstance(item, ast.Node):
        return item.span.end if last else item.span.start
    if isinstance(item, list | tuple):
        for sub in reversed(item) if last else item:
            edge = _edge(sub, last)
            if edge is not None:
                return edge
    return None


def span_of(children: list[Any]) -> Span:
    start = _edge(children, False)
    end = _edge(children, True)
    if start is None or end is None:
        return ast.NO_SPAN
    return Span(start, end)


def _name(token: Token) -> ast.Name:
    return ast.Name(text=str(token), span=Span(token.start_pos or 0, token.end_pos or 0))


def _nodes(children: list[Any], kind: type[Any]) -> list[Any]:
    return [c for c in children if isinstance(c, kind)]


def _tokens(children: list[Any], *types: str) -> list[Token]:
    return [c for c in children if isinstance(c, Token) and c.type in types]


def _first(children: list[Any], kind: type[Any]) -> Any:
    for child in children:
        if isinstance(child, kind):
            return child
    return None


def _report(span: Span, message: str) -> None:
    STATE.get().errors.append((span, message))


def _unescape(body: str, start: int) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape.startswith("u{"):
            code = int(escape[2:-1], 16)
            if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                return chr(code)
        elif escape in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[escape]
        offset = start + match.start()
        _report(Span(offset, offset + len(match.group(0))), f"invalid escape '{match.group(0)}'")
        return escape

    return _ESCAPE.sub(replace, body) if "\\" in body else body


def _depth(node: ast.Node) -> int:
    return node.depth if isinstance(node, ast.Expr | ast.TypeExpr) else 1


def _limit(node: ast.Expr, *parts: ast.Node) -> ast.Expr:
    """Record the node's depth; past MAX_DEPTH, report once and drop the subtree."""
    node.depth = 1 + max((_depth(p) for p in parts), default=0)
    if node.depth > MAX_DEPTH:
        _report_depth(node.span, "expression")
        return ast.ErrorExpr(span=node.span)
    return node


def _limit_type(node: ast.TypeExpr, *parts: ast.Node) -> ast.TypeExpr:
    node.depth = 1 + max((_depth(p) for p in parts), default=0)
    if node.depth > MAX_DEPTH:
        _report_depth(node.span, "type")
        return ast.NamedType(name=ast.Name(text="<error>", span=node.span), span=node.span)
    return node


def _report_depth(span: Span, what: str) -> None:
    state = STATE.get()
    if not state.depth_reported:
        state.depth_reported = True
        _report(span, f"{what} nested too deeply (more than {MAX_DEPTH} levels)")


class Builder:
    """One method per grammar rule name (see grammar/dspx.lark)."""

    # ------------------------------------------------------------ literals

    def string(self, c: list[Any]) -> ast.StringLit:
        token: Token = c[0]
        raw = str(token)
        start = token.start_pos or 0
        span = Span(start, token.end_pos or start)
        if token.type == "BLOCK_STRING":
            if len(raw) < 6 or not raw.endswith('"""'):
                _report(span, 'unterminated block string: expected \'"""\'')
                body = raw[3:]
            else:
                body = raw[3:-3]
            value = inspect.cleandoc(_unescape(body, start + 3))
            return ast.StringLit(value=value, block=True, raw=raw, span=span)
        if len(raw) < 2 or not raw.endswith('"') or (raw.endswith('\\"') and _odd_backslashes(raw)):
            _report(span, "unterminated string: expected '\"' before the end of the line")
            body = raw[1:]
        else:
            body = raw[1:-1]
        return ast.StringLit(value=_unescape(body, start + 1), raw=raw, span=span)

    def number(self, c: list[Any]) -> ast.NumberLit:
        return _number(c[0], negative=False, span=span_of(c))

    def signed_number(self, c: list[Any]) -> ast.NumberLit:
        number_token = _tokens(c, "NUMBER")[0]
        return _number(number_token, negative=bool(_tokens(c, "MINUS")), span=span_of(c))

    def money(self, c: list[Any]) -> ast.MoneyLit:
        raw = str(c[0])
        return ast.MoneyLit(value=float(raw[1:]), raw=raw, span=span_of(c))

    def duration(self, c: list[Any]) -> ast.DurationLit:
        raw = str(c[0])
        if raw.endswith("ms"):
            seconds = float(raw[:-2]) / 1000
        elif raw.endswith("s"):
            seconds = float(raw[:-1])
        else:
            seconds = float(raw[:-1]) * 60
        return ast.DurationLit(seconds=seconds, raw=raw, span=span_of(c))

    def true(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(value=True, span=span_of(c))

    def false(self, c: list[Any]) -> ast.BoolLit:
        return ast.BoolLit(value=False, span=span_of(c))

    def list_literal(self, c: list[Any]) -> ast.ListLit:
        items = _nodes(c, ast.Expr)
        return cast(ast.ListLit, _limit(ast.ListLit(items=items, span=span_of(c)), *items))

    # --------------------------------------------------------- expressions

    def name_ref(self, c: list[Any]) -> ast.NameRef:
        return ast.NameRef(name=_name(c[0]), span=span_of(c))

    def paren(self, c: list[Any]) -> ast.Expr:
        inner = _first(c, ast.Expr) or ast.ErrorExpr(span=span_of(c))
        return _limit(ast.Paren(inner=inner, span=span_of(c)), inner)

    def binary(self, c: list[Any]) -> ast.Expr:
        left, op, right = c
        node = ast.Binary(op=cast(ast.BinaryOp, str(op)), left=left, right=right, span=span_of(c))
        return _limit(node, left, right)

    def compare_op(self, c: list[Any]) -> Token:
        token: Token = c[0]
        return token

    add_op = compare_op
    mul_op = compare_op

    def unary(self, c: list[Any]) -> ast.Expr:
        op, operand = c
        node = ast.Unary(op=cast(ast.UnaryOp, str(op)), operand=operand, span=span_of(c))
        return _limit(node, operand)

    def in_expr(self, c: list[Any]) -> ast.Expr:
        target, options = c[0], c[-1]
        return _limit(ast.InList(target=target, options=options, span=span_of(c)), target, options)

    def not_in_expr(self, c: list[Any]) -> ast.Expr:
        target, options = c[0], c[-1]
        node = ast.InList(target=target, options=options, negated=True, span=span_of(c))
        return _limit(node, target, options)

    def member(self, c: list[Any]) -> ast.Expr:
        target, _dot, name = c
        return _limit(ast.Member(target=target, member=_name(name), span=span_of(c)), target)

    def call(self, c: list[Any]) -> ast.Expr:
        args = _nodes(c, ast.Argument)
        node = ast.Call(func=_name(c[0]), args=args, span=span_of(c))
        return _limit(node, *(a.value for a in args))

    def named_argument(self, c: list[Any]) -> ast.Argument:
        return ast.Argument(name=_name(c[0]), value=c[2], span=span_of(c))

    def positional_argument(self, c: list[Any]) -> ast.Argument:
        return ast.Argument(name=None, value=c[0], span=span_of(c))

    # --------------------------------------------------------------- types

    def named_type(self, c: list[Any]) -> ast.TypeExpr:
        return ast.NamedType(name=_name(c[0]), span=span_of(c))

    def generic_type(self, c: list[Any]) -> ast.TypeExpr:
        args = _nodes(c, ast.TypeExpr)
        node = ast.NamedType(name=_name(c[0]), args=args, span=span_of(c))
        return _limit_type(node, *args)

    def optional_type(self, c: list[Any]) -> ast.TypeExpr:
        return _limit_type(ast.OptionalType(inner=c[0], span=span_of(c)), c[0])

    def union_type(self, c: list[Any]) -> ast.TypeExpr:
        return ast.UnionType(options=_nodes(c, ast.StringLit), span=span_of(c))

    # -------------------------------------------------------- declarations

    def start(self, c: list[Any]) -> ast.Module:
        decls = [d for d in flatten(c[0]) if isinstance(d, ast.Node)]
        return ast.Module(decls=cast(list[ast.TopLevel], decls), span=span_of(c))

    def decls(self, c: list[Any]) -> Cons:
        return (c[0], c[1]) if len(c) == 2 else (None, c[0])

    program_items = decls

    def import_decl(self, c: list[Any]) -> ast.Import:
        return ast.Import(path=_first(c, ast.StringLit), span=span_of(c))

    def settings(self, c: list[Any]) -> list[ast.Setting]:
        return _nodes(c, ast.Setting)

    def setting(self, c: list[Any]) -> ast.Setting:
        return ast.Setting(key=_name(c[0]), value=c[2], span=span_of(c))

    def model_decl(self, c: list[Any]) -> ast.ModelDecl:
        settings = next((x for x in c if isinstance(x, list)), None)
        return ast.ModelDecl(name=_name(c[1]), model_id=c[3], settings=settings, span=span_of(c))

    def enum_value(self, c: list[Any]) -> ast.EnumValue:
        return ast.EnumValue(name=_name(c[0]), description=c[1], span=span_of(c))

    def enum_decl(self, c: list[Any]) -> ast.EnumDecl:
        values = _nodes(c, ast.EnumValue)
        return ast.EnumDecl(name=_name(c[1]), values=values, span=span_of(c))

    def direction(self, c: list[Any]) -> Token:
        token: Token = c[0]
        return token

    def check(self, c: list[Any]) -> ast.Check:
        return ast.Check(name=_name(c[1]), args=_nodes(c, ast.Expr), span=span_of(c))

    def class_field(self, c: list[Any]) -> ast.Field:
        return ast.Field(
            direction=None,
            name=_name(c[0]),
            type=c[2],
            description=c[3],
            checks=_nodes(c[4:], ast.Check),
            span=span_of(c),
        )

    def sig_field(self, c: list[Any]) -> ast.Field:
        return ast.Field(
            direction="in" if str(c[0]) == "in" else "out",
            name=_name(c[1]),
            type=c[3],
            description=c[4],
            checks=_nodes(c[5:], ast.Check),
            span=span_of(c),
        )

    def class_decl(self, c: list[Any]) -> ast.ClassDecl:
        return ast.ClassDecl(name=_name(c[1]), fields=_nodes(c, ast.Field), span=span_of(c))

    def signature_decl(self, c: list[Any]) -> ast.SignatureDecl:
        return ast.SignatureDecl(
            name=_name(c[1]),
            instructions=c[3],
            fields=_nodes(c, ast.Field),
            span=span_of(c),
        )

    def param(self, c: list[Any]) -> ast.Param:
        default = c[4] if len(c) > 4 and isinstance(c[4], ast.Expr) else None
        return ast.Param(name=_name(c[0]), type=c[2], default=default, span=span_of(c))

    def tool_decl(self, c: list[Any]) -> ast.ToolDecl:
        return ast.ToolDecl(
            name=_name(c[1]),
            params=_nodes(c, ast.Param),
            returns=_first(c, ast.TypeExpr),
            target=c[-1],
            span=span_of(c),
        )

    def dataset_decl(self, c: list[Any]) -> ast.DatasetDecl:
        mapping = next((x for x in c if isinstance(x, list)), None)
        return ast.DatasetDecl(name=_name(c[1]), path=c[3], mapping=mapping, span=span_of(c))

    # ------------------------------------------------------------ programs

    def program_decl(self, c: list[Any]) -> ast.ProgramDecl:
        items = [x for x in flatten(c[3]) if isinstance(x, ast.Node)]
        return ast.ProgramDecl(name=_name(c[1]), items=cast(Any, items), span=span_of(c))

    def choice_domain(self, c: list[Any]) -> ast.ChoiceDomain:
        return ast.ChoiceDomain(options=_nodes(c, ast.Expr), span=span_of(c))

    def range_domain(self, c: list[Any]) -> ast.RangeDomain:
        low, high = _nodes(c, ast.NumberLit)[:2]
        mods = [x for x in c if isinstance(x, tuple)]
        step = next((m[1] for m in mods if m[0] == "step"), None)
        return ast.RangeDomain(
            kind=_name(c[0]),
            low=low,
            high=high,
            log=any(m[0] == "log" for m in mods),
            step=step,
            span=span_of(c),
        )

    def log_mod(self, c: list[Any]) -> tuple[str, Token]:
        return ("log", c[0])

    def step_mod(self, c: list[Any]) -> tuple[str, ast.NumberLit]:
        return ("step", c[1])

    def call_domain(self, c: list[Any]) -> ast.CallDomain:
        return ast.CallDomain(func=_name(c[0]), arg=_name(c[2]), span=span_of(c))

    def named_domain(self, c: list[Any]) -> ast.NamedDomain:
        return ast.NamedDomain(name=_name(c[0]), span=span_of(c))

    def var_decl(self, c: list[Any]) -> ast.VarDecl:
        default = c[5] if len(c) > 5 and isinstance(c[5], ast.Expr) else None
        return ast.VarDecl(name=_name(c[1]), domain=c[3], default=default, span=span_of(c))

    def step_decl(self, c: list[Any]) -> ast.StepDecl:
        settings = c[-1] if isinstance(c[-1], list) else None
        return ast.StepDecl(
            name=_name(c[1]),
            module=_name(c[3]),
            signature=_name(c[4]),
            args=_nodes(c, ast.Argument),
            settings=settings,
            span=span_of(c),
        )

    def return_fields(self, c: list[Any]) -> ast.ReturnDecl:
        return ast.ReturnDecl(fields=_nodes(c, ast.Setting), span=span_of(c))

    def return_step(self, c: list[Any]) -> ast.ReturnDecl:
        return ast.ReturnDecl(step=_name(c[1]), span=span_of(c))

    def constraint_decl(self, c: list[Any]) -> ast.ConstraintDecl:
        label = c[1] if isinstance(c[1], ast.StringLit) and len(c) > 3 else None
        return ast.ConstraintDecl(label=label, expr=c[-1], span=span_of(c))

    def objective_direction(self, c: list[Any]) -> str:
        return str(c[0])

    def objective_args(self, c: list[Any]) -> list[ast.Expr]:
        return _nodes(c, ast.Expr)

    def objective_decl(self, c: list[Any]) -> ast.ObjectiveDecl:
        args = next((x for x in c if isinstance(x, list)), None)
        return ast.ObjectiveDecl(
            direction="maximize" if c[1] == "maximize" else "minimize",
            metric=_name(c[2]),
            args=args,
            weight=_first(c[3:], ast.NumberLit),
            span=span_of(c),
        )

    def budget_decl(self, c: list[Any]) -> ast.BudgetDecl:
        return ast.BudgetDecl(metric=_name(c[1]), limit=c[3], span=span_of(c))

    def optimize_item(self, c: list[Any]) -> ast.OptimizeItem:
        condition = c[3] if len(c) > 3 and isinstance(c[3], ast.Expr) else None
        return ast.OptimizeItem(key=_name(c[0]), value=c[1], condition=condition, span=span_of(c))

    def optimize_decl(self, c: list[Any]) -> ast.OptimizeDecl:
        return ast.OptimizeDecl(items=_nodes(c, ast.OptimizeItem), span=span_of(c))

    def test_input(self, c: list[Any]) -> ast.TestInput:
        return ast.TestInput(settings=_nodes(c, ast.Setting), span=span_of(c))

    def test_expect(self, c: list[Any]) -> ast.TestExpect:
        return ast.TestExpect(expr=c[1], span=span_of(c))

    def test_decl(self, c: list[Any]) -> ast.TestDecl:
        items = [x for x in c if isinstance(x, ast.TestInput | ast.TestExpect)]
        return ast.TestDecl(name=_name(c[1]), program=_name(c[3]), items=items, span=span_of(c))


Cons = tuple[Any, Any]  # (rest, last item): an immutable list built left to right


def flatten(cons: Cons | None) -> list[Any]:
    items: list[Any] = []
    while cons is not None:
        cons, item = cons
        items.append(item)
    items.reverse()
    return items


def _odd_backslashes(raw: str) -> bool:
    """True when the closing quote of `raw` is itself escaped."""
    count = len(raw) - 1 - len(raw[:-1].rstrip("\\"))
    return count % 2 == 1


def _number(token: Token, *, negative: bool, span: Span) -> ast.NumberLit:
    raw = str(token)
    value: int | float = int(raw) if raw.isdigit() else float(raw)
    if negative:
        value = -value
        raw = "-" + raw
    return ast.NumberLit(value=value, raw=raw, span=span)


CALLBACKS: dict[str, Callable[[list[Any]], Any]] = {
    name: getattr(Builder(), name) for name in dir(Builder) if not name.startswith("_")
}
