"""What every check shares: the model, the sink, and name resolution with suggestions.

Contract: `resolve` records a `Reference` for every name it looks up (so the
language server sees uses the checks saw) and reports E100 (with a
"did you mean" note and a quick fix) or E102 for the wrong kind. A check never
reports a second error for a name that failed to resolve.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from dspx_lang.diagnostics import Edit, Fix, Label, Sink
from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics.model import SemanticModel, Symbol, SymbolKind
from dspx_lang.source import Span
from dspx_lang.syntax import ast


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    pool = [c for c in candidates if c != name]
    lowered = {c.lower(): c for c in pool}
    if name.lower() in lowered:
        return lowered[name.lower()]
    close = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    return close[0] if close else None


@dataclass(slots=True)
class Context:
    model: SemanticModel
    sink: Sink

    def error(
        self,
        code: str,
        message: str,
        file: str,
        span: Span,
        *,
        note: str | None = None,
        related: Iterable[Label] = (),
        fixes: Iterable[Fix] = (),
    ) -> None:
        self.sink.add(code, message, file, span, note=note, related=related, fixes=fixes)

    def undefined(
        self,
        file: str,
        name: ast.Name,
        candidates: Iterable[str],
        what: str = "name",
        code: str = "E100",
        message: str | None = None,
    ) -> None:
        """Report an unknown name with a suggestion and a quick fix when one is close."""
        guess = suggest(name.text, candidates)
        fixes: tuple[Fix, ...] = ()
        note = None
        if guess is not None:
            note = f"did you mean '{guess}'?"
            fixes = (Fix(f"Change to '{guess}'", (Edit(file, name.span, guess),)),)
        text = message or msg.undefined(what, name.text)
        self.error(code, text, file, name.span, note=note, fixes=fixes)
        self.model.add_reference(file, name.span, name.text, None)

    def resolve(
        self,
        file: str,
        name: ast.Name,
        scope: dict[str, Symbol],
        kinds: tuple[SymbolKind, ...],
        expected: str,
    ) -> Symbol | None:
        """Look `name` up in `scope`; report E100/E102; record the reference."""
        symbol = scope.get(name.text)
        if symbol is None:
            candidates = [n for n, s in scope.items() if s.kind in kinds]
            self.undefined(file, name, candidates, expected)
            return None
        self.model.add_reference(file, name.span, name.text, symbol)
        if symbol.kind not in kinds:
            self.error(
                "E102",
                msg.wrong_kind(name.text, symbol.kind.value, expected),
                file,
                name.span,
                related=[Label(symbol.file, symbol.span, f"'{name.text}' is declared here")],
            )
            return None
        return symbol

    def refer(self, file: str, name: ast.Name, symbol: Symbol) -> None:
        self.model.add_reference(file, name.span, name.text, symbol)

    def builtin(self, name: str, doc: str) -> Symbol:
        """The one symbol of a built-in name (module kind, adapter, metric, ...)."""
        symbol = self.model.builtins.get(name)
        if symbol is None:
            symbol = Symbol(name, SymbolKind.BUILTIN, BUILTIN_FILE, Span(0, 0), Span(0, 0), doc=doc)
            self.model.builtins[name] = symbol
        return symbol


def first_defined(symbol: Symbol) -> Label:
    return Label(symbol.file, symbol.span, f"'{symbol.name}' is first defined here")


def literal_value(expr: ast.Expr) -> object:
    """The Python value of a literal expression (lists of literals included), else None."""
    if isinstance(expr, ast.StringLit):
        return expr.value
    if isinstance(expr, ast.NumberLit | ast.MoneyLit):
        return expr.value
    if isinstance(expr, ast.DurationLit):
        return expr.seconds
    if isinstance(expr, ast.BoolLit):
        return expr.value
    if isinstance(expr, ast.Unary) and expr.op == "-" and isinstance(expr.operand, ast.NumberLit):
        return -expr.operand.value
    if isinstance(expr, ast.ListLit):
        return [literal_value(item) for item in expr.items]
    return None


def is_literal(expr: ast.Expr) -> bool:
    if isinstance(expr, ast.ListLit):
        return all(is_literal(item) for item in expr.items)
    if isinstance(expr, ast.Unary):
        return expr.op == "-" and isinstance(expr.operand, ast.NumberLit)
    return isinstance(
        expr, ast.StringLit | ast.NumberLit | ast.MoneyLit | ast.DurationLit | ast.BoolLit
    )


BUILTIN_FILE = "<builtin>"
