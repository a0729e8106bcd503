"""Go to definition and find references.

Contract: definition of a name is its declaration's name span (in whatever
file declares it); the path string of an `import` goes to the imported file.
References list every use in the files that can see the declaration (see
`xref`), the declaration first when the client asks for it. Built-in names
have no definition.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.semantics.imports import resolve_import
from dspx_lang.source import Span
from dspx_lang.syntax import ast
from dspx_lsp import xref
from dspx_lsp.convert import path_to_uri, span_range
from dspx_lsp.documents import Documents
from dspx_lsp.guard import guarded
from dspx_lsp.query import Here, at, node_path

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer


def register(server: DspxServer) -> None:
    documents = server.documents

    @server.feature(types.TEXT_DOCUMENT_DEFINITION)
    @guarded(lambda: None)
    def on_definition(params: types.DefinitionParams) -> list[types.Location] | None:
        here = at(server, params.text_document.uri, params.position)
        target = definition(here)
        if target is None:
            return None
        return [_location(documents, *target)]

    @server.feature(types.TEXT_DOCUMENT_REFERENCES)
    @guarded(lambda: None)
    def on_references(params: types.ReferenceParams) -> list[types.Location] | None:
        here = at(server, params.text_document.uri, params.position)
        symbol = here.model.symbol_at(here.path, here.offset)
        if symbol is None:
            return None
        sites = xref.references(documents, here.path, symbol)
        if not params.context.include_declaration:
            sites = [s for s in sites if s != (symbol.file, symbol.span)]
        return [_location(documents, path, span) for path, span in sites]


def definition(here: Here) -> tuple[str, Span] | None:
    symbol = here.model.definition_at(here.path, here.offset)
    if symbol is not None:
        return symbol.file, symbol.span
    for node in node_path(here.module, here.offset):
        if isinstance(node, ast.Import):
            target = resolve_import(here.path, node.path.value)
            return (target, Span(0, 0)) if os.path.exists(target) else None
    return None


def _location(documents: Documents, path: str, span: Span) -> types.Location:
    source = documents.source(path)
    if source is None:
        zero = types.Position(line=0, character=0)
        return types.Location(uri=path_to_uri(path), range=types.Range(start=zero, end=zero))
    return types.Location(uri=documents.uri(path), range=span_range(source, span))
