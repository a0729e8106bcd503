"""Bind top-level names: one symbol per declaration, per-file scopes, E101.

Contract: after `check_declarations`, every top-level declaration of every
loaded file has a `Symbol`; each file's `scope` maps the names it can see (its
own declarations, then those of the files it reaches through imports, nearest
first) to symbols; enum values have symbols and an `EnumInfo`. A name declared
twice where one file can see both is E101 on the second declaration, pointing
at the first.
"""

from __future__ import annotations

from dspx_lang.diagnostics import Label
from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics.context import Context, first_defined
from dspx_lang.semantics.imports import closure_of
from dspx_lang.semantics.model import EnumInfo, FileUnit, Symbol, SymbolKind
from dspx_lang.syntax import ast

KINDS: dict[type[ast.Decl], SymbolKind] = {
    ast.ModelDecl: SymbolKind.MODEL,
    ast.EnumDecl: SymbolKind.ENUM,
    ast.ClassDecl: SymbolKind.CLASS,
    ast.SignatureDecl: SymbolKind.SIGNATURE,
    ast.ToolDecl: SymbolKind.TOOL,
    ast.DatasetDecl: SymbolKind.DATASET,
    ast.ProgramDecl: SymbolKind.PROGRAM,
    ast.TestDecl: SymbolKind.TEST,
}


def check_declarations(ctx: Context) -> None:
    own: dict[str, dict[str, Symbol]] = {}
    for path, unit in ctx.model.files.items():
        own[path] = _declare_file(ctx, unit)
    for path, unit in ctx.model.files.items():
        unit.scope = _scope(ctx, path, unit, own)


def _declare_file(ctx: Context, unit: FileUnit) -> dict[str, Symbol]:
    """Symbols for one file's declarations; tests live in their own namespace."""
    path = unit.source.path
    names: dict[str, Symbol] = {}
    tests: dict[str, Symbol] = {}
    for decl in unit.module.decls:
        if isinstance(decl, ast.Import):
            continue
        kind = KINDS[type(decl)]
        symbol = ctx.model.add_symbol(
            Symbol(decl.name.text, kind, path, decl.name.span, decl.span, doc=decl.doc)
        )
        table = tests if kind is SymbolKind.TEST else names
        if decl.name.text in table:
            first = table[decl.name.text]
            ctx.error(
                "E101",
                msg.duplicate(decl.name.text, first.kind.value),
                path,
                decl.name.span,
                related=[first_defined(first)],
            )
            continue
        table[decl.name.text] = symbol
        if isinstance(decl, ast.EnumDecl):
            _declare_enum(ctx, path, decl, symbol)
    return names


def _declare_enum(ctx: Context, path: str, decl: ast.EnumDecl, symbol: Symbol) -> None:
    info = EnumInfo(decl.name.text, symbol)
    if decl.name.text not in ctx.model.enums:
        ctx.model.enums[decl.name.text] = info
    for value in decl.values:
        if value.name.text in info.values:
            first = info.values[value.name.text]
            ctx.error(
                "E101",
                msg.duplicate(value.name.text, "enum value"),
                path,
                value.name.span,
                related=[first_defined(first)],
            )
            continue
        info.values[value.name.text] = ctx.model.add_symbol(
            Symbol(
                value.name.text,
                SymbolKind.ENUM_VALUE,
                path,
                value.name.span,
                value.span,
                doc=value.doc,
                container=symbol,
                detail=value.description.value if value.description else "",
            )
        )
        if value.description is not None:
            info.descriptions[value.name.text] = value.description.value


def _scope(
    ctx: Context, path: str, unit: FileUnit, own: dict[str, dict[str, Symbol]]
) -> dict[str, Symbol]:
    scope: dict[str, Symbol] = {}
    origin: dict[str, str] = {}
    for other in closure_of(path, ctx.model.files):
        for name, symbol in own.get(other, {}).items():
            if name not in scope:
                scope[name] = symbol
                origin[name] = other
                continue
            if scope[name] is symbol:
                continue
            first = scope[name]
            if other == path:
                continue  # already reported by _declare_file
            if origin[name] == path:
                ctx.error(
                    "E101",
                    msg.duplicate_imported(name, other),
                    path,
                    first.span,
                    related=[Label(symbol.file, symbol.span, f"'{name}' is also defined here")],
                )
            else:
                _report_import_clash(ctx, path, unit, name, first, symbol)
    return scope


def _report_import_clash(
    ctx: Context, path: str, unit: FileUnit, name: str, first: Symbol, second: Symbol
) -> None:
    imports = [d for d in unit.module.decls if isinstance(d, ast.Import)]
    if not imports:
        return
    ctx.error(
        "E101",
        msg.duplicate_imports(name, first.file, second.file),
        path,
        imports[-1].span,
        related=[
            first_defined(first),
            Label(second.file, second.span, f"'{name}' is also defined here"),
        ],
    )
