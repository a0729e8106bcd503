"""Cross-file references: every use of a declaration in the files that can see it.

Contract: `references(documents, path, symbol)` returns (file, span) sites of
`symbol` (declared in `symbol.file`) in every workspace file that imports that
file, directly or not, and in the file itself - the definition first, then the
uses in file and offset order, each site once. Symbols are objects of one
compilation, so a declaration is matched across compilations by its file,
name span and kind. Built-ins are only looked up in the asking file.
"""

from __future__ import annotations

from dspx_lang.semantics.imports import resolve_import
from dspx_lang.semantics.model import Symbol, SymbolKind
from dspx_lang.source import Span
from dspx_lang.syntax import ast
from dspx_lsp.documents import Documents
from dspx_lsp.query import same_symbol

Site = tuple[str, Span]


def imports_of(documents: Documents, path: str) -> list[str]:
    """The files `path` imports (parsed, not analysed)."""
    source = documents.source(path)
    if source is None:
        return []
    module = documents.cache.parse(source).module
    return [resolve_import(path, d.path.value) for d in module.decls if isinstance(d, ast.Import)]


def importers_of(documents: Documents, target: str) -> list[str]:
    """Workspace files that reach `target` through imports (not `target` itself)."""
    graph = {path: imports_of(documents, path) for path in documents.workspace_files()}
    reaching: set[str] = {target}
    changed = True
    while changed:
        changed = False
        for path, imported in graph.items():
            if path not in reaching and reaching.intersection(imported):
                reaching.add(path)
                changed = True
    reaching.discard(target)
    return sorted(reaching)


def references(documents: Documents, path: str, symbol: Symbol) -> list[Site]:
    if symbol.kind is SymbolKind.BUILTIN:
        model = documents.compile(path).model
        return sorted(
            {(r.file, r.span) for r in model.references if r.symbol is symbol and r.file == path},
            key=_order,
        )
    roots = [symbol.file, *importers_of(documents, symbol.file)]
    if path not in roots:
        roots.append(path)
    sites: set[Site] = set()
    for root in roots:
        try:
            model = documents.compile(root).model
        except OSError:
            continue
        sites.update(
            (r.file, r.span)
            for r in model.references
            if r.symbol is not None and same_symbol(r.symbol, symbol)
        )
    definition = (symbol.file, symbol.span)
    sites.discard(definition)
    return [definition, *sorted(sites, key=_order)]


def _order(site: Site) -> tuple[str, int, int]:
    return site[0], site[1].start, site[1].end
