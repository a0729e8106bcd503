"""Document symbols (the outline) and workspace symbols.

Contract: the outline is built from the syntax tree alone, so it is there
even while the file has semantic errors (and for what parsed of a file with
syntax errors): declarations, with enum values, fields, and program members
(inputs, outputs, variables, steps, constraints, objectives, budgets,
optimize) as children. Every child's range lies inside its parent's and
every selection range inside its range. Workspace symbols search the
top-level declarations, variables and steps of every `.dspx` file in the
workspace folders and of open files, by case-insensitive subsequence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.source import SourceFile, Span
from dspx_lang.syntax import ast
from dspx_lsp.convert import span_range
from dspx_lsp.documents import Documents
from dspx_lsp.guard import guarded
from dspx_lsp.query import compiled

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer

K = types.SymbolKind
MAX_WORKSPACE_RESULTS = 500
_DECL_KINDS: dict[type[ast.Node], types.SymbolKind] = {
    ast.ModelDecl: K.Object,
    ast.EnumDecl: K.Enum,
    ast.ClassDecl: K.Class,
    ast.SignatureDecl: K.Interface,
    ast.ToolDecl: K.Function,
    ast.DatasetDecl: K.File,
    ast.ProgramDecl: K.Module,
    ast.TestDecl: K.Event,
}


def register(server: DspxServer) -> None:
    documents = server.documents

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    @guarded(lambda: [])
    def on_document_symbol(params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        path, compilation, source = compiled(server, params.text_document.uri)
        return outline(source, compilation.model.files[path].module)

    @server.feature(types.WORKSPACE_SYMBOL)
    @guarded(lambda: [])
    def on_workspace_symbol(params: types.WorkspaceSymbolParams) -> list[types.WorkspaceSymbol]:
        return workspace_symbols(documents, params.query)


def outline(source: SourceFile, module: ast.Module) -> list[types.DocumentSymbol]:
    items = []
    for decl in module.decls:
        if isinstance(decl, ast.Import):
            items.append(
                _symbol(source, f'import "{decl.path.value}"', K.Package, decl.span, decl.path.span)
            )
            continue
        kind = _DECL_KINDS[type(decl)]
        items.append(
            _symbol(
                source,
                decl.name.text,
                kind,
                decl.span,
                decl.name.span,
                _detail(decl),
                _children(source, decl),
            )
        )
    return items


def _detail(decl: ast.Decl) -> str:
    if isinstance(decl, ast.ModelDecl):
        return decl.model_id.value
    if isinstance(decl, ast.DatasetDecl):
        return decl.path.value
    if isinstance(decl, ast.TestDecl):
        return f"for {decl.program.text}"
    return type(decl).__name__.removesuffix("Decl").lower()


def _children(source: SourceFile, decl: ast.Decl) -> list[types.DocumentSymbol]:
    text = source.text
    if isinstance(decl, ast.EnumDecl):
        return [
            _symbol(source, v.name.text, K.EnumMember, v.span, v.name.span) for v in decl.values
        ]
    if isinstance(decl, ast.ClassDecl | ast.SignatureDecl):
        return [_field(source, f) for f in decl.fields]
    if not isinstance(decl, ast.ProgramDecl):
        return []
    items = []
    for item in decl.items:
        if isinstance(item, ast.Field):
            items.append(_field(source, item))
        elif isinstance(item, ast.VarDecl):
            items.append(
                _symbol(
                    source,
                    item.name.text,
                    K.Variable,
                    item.span,
                    item.name.span,
                    text[item.domain.span.start : item.domain.span.end],
                )
            )
        elif isinstance(item, ast.StepDecl):
            detail = f"{item.module.text} {item.signature.text}"
            items.append(
                _symbol(source, item.name.text, K.Function, item.span, item.name.span, detail)
            )
        elif isinstance(item, ast.ConstraintDecl):
            name = (
                item.label.value if item.label else text[item.expr.span.start : item.expr.span.end]
            )
            items.append(
                _symbol(source, name or "constraint", K.Boolean, item.span, item.span, "constraint")
            )
        elif isinstance(item, ast.ObjectiveDecl):
            name = text[item.span.start : item.span.end].removeprefix("objective").strip()
            items.append(
                _symbol(source, name, K.Operator, item.span, item.metric.span, "objective")
            )
        elif isinstance(item, ast.BudgetDecl):
            name = text[item.span.start : item.span.end].removeprefix("budget").strip()
            items.append(_symbol(source, name, K.Number, item.span, item.metric.span, "budget"))
        elif isinstance(item, ast.OptimizeDecl):
            items.append(_symbol(source, "optimize", K.Namespace, item.span, item.span))
    return items


def _field(source: SourceFile, node: ast.Field) -> types.DocumentSymbol:
    text = source.text[node.type.span.start : node.type.span.end]
    kind = K.Field if node.direction is None else K.Property
    detail = f"{node.direction} {text}" if node.direction else text
    return _symbol(source, node.name.text, kind, node.span, node.name.span, detail)


def _symbol(
    source: SourceFile,
    name: str,
    kind: types.SymbolKind,
    span: Span,
    selection: Span,
    detail: str | None = None,
    children: list[types.DocumentSymbol] | None = None,
) -> types.DocumentSymbol:
    if not (span.start <= selection.start <= selection.end <= span.end):
        selection = Span(span.start, span.start)
    return types.DocumentSymbol(
        name=" ".join(name.split()) or "?",
        kind=kind,
        range=span_range(source, span),
        selection_range=span_range(source, selection),
        detail=detail,
        children=children or None,
    )


def matches(query: str, name: str) -> bool:
    """Case-insensitive subsequence match, as editors' symbol pickers do."""
    rest = iter(name.lower())
    return all(char in rest for char in query.lower())


def workspace_symbols(documents: Documents, query: str) -> list[types.WorkspaceSymbol]:
    found: list[types.WorkspaceSymbol] = []
    for path in documents.workspace_files():
        source = documents.source(path)
        if source is None:
            continue
        module = documents.cache.parse(source).module
        for name, kind, span, container in _declared(module):
            if not matches(query, name):
                continue
            found.append(
                types.WorkspaceSymbol(
                    name=name,
                    kind=kind,
                    location=types.Location(
                        uri=documents.uri(path), range=span_range(source, span)
                    ),
                    container_name=container,
                )
            )
            if len(found) >= MAX_WORKSPACE_RESULTS:
                return found
    return found


def _declared(module: ast.Module) -> list[tuple[str, types.SymbolKind, Span, str | None]]:
    out: list[tuple[str, types.SymbolKind, Span, str | None]] = []
    for decl in module.decls:
        if isinstance(decl, ast.Import):
            continue
        out.append((decl.name.text, _DECL_KINDS[type(decl)], decl.name.span, None))
        if isinstance(decl, ast.ProgramDecl):
            for item in decl.items:
                if isinstance(item, ast.VarDecl):
                    out.append((item.name.text, K.Variable, item.name.span, decl.name.text))
                elif isinstance(item, ast.StepDecl):
                    out.append((item.name.text, K.Function, item.name.span, decl.name.text))
    return out
