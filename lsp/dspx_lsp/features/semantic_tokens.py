"""Semantic tokens: colour names by what they denote, which a TextMate grammar cannot know.

Contract: one token per declared or resolved name of the file (declarations
carry the `declaration` modifier; models and datasets `readonly`; built-ins
`defaultLibrary`), in the LSP's relative encoding with UTF-16 columns, sorted
and non-overlapping. Keywords, strings, numbers and comments are left to the
grammar. Unresolved names get no token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.semantics.model import SemanticModel, SymbolKind
from dspx_lang.source import SourceFile
from dspx_lsp.guard import guarded
from dspx_lsp.query import compiled

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer

TOKEN_TYPES = [
    "namespace",
    "type",
    "class",
    "enum",
    "interface",
    "parameter",
    "variable",
    "property",
    "enumMember",
    "function",
    "method",
    "event",
]
TOKEN_MODIFIERS = ["declaration", "readonly", "defaultLibrary"]
LEGEND = types.SemanticTokensLegend(token_types=TOKEN_TYPES, token_modifiers=TOKEN_MODIFIERS)

_TYPE_OF: dict[SymbolKind, str] = {
    SymbolKind.MODEL: "variable",
    SymbolKind.ENUM: "enum",
    SymbolKind.ENUM_VALUE: "enumMember",
    SymbolKind.CLASS: "class",
    SymbolKind.FIELD: "property",
    SymbolKind.SIGNATURE: "interface",
    SymbolKind.TOOL: "function",
    SymbolKind.PARAM: "parameter",
    SymbolKind.DATASET: "variable",
    SymbolKind.PROGRAM: "namespace",
    SymbolKind.INPUT: "parameter",
    SymbolKind.OUTPUT: "property",
    SymbolKind.VARIABLE: "variable",
    SymbolKind.STEP: "method",
    SymbolKind.TEST: "event",
    SymbolKind.BUILTIN: "type",
}
_READONLY = frozenset({SymbolKind.MODEL, SymbolKind.DATASET})


def register(server: DspxServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, LEGEND)
    @guarded(lambda: types.SemanticTokens(data=[]))
    def on_tokens(params: types.SemanticTokensParams) -> types.SemanticTokens:
        path, compilation, source = compiled(server, params.text_document.uri)
        return types.SemanticTokens(data=encode(source, tokens(compilation.model, path)))


def tokens(model: SemanticModel, path: str) -> list[tuple[int, int, int, int]]:
    """(start, end, type index, modifier bits) per name, sorted, overlaps dropped."""
    found: dict[int, tuple[int, int, int, int]] = {}
    for symbol in model.symbols_in(path):
        kind = TOKEN_TYPES.index(_TYPE_OF[symbol.kind])
        bits = 1 | (2 if symbol.kind in _READONLY else 0)
        found[symbol.span.start] = (symbol.span.start, symbol.span.end, kind, bits)
    for reference in model.references:
        target = reference.symbol
        if reference.file != path or target is None or reference.span.start in found:
            continue
        kind = TOKEN_TYPES.index(_TYPE_OF[target.kind])
        bits = (2 if target.kind in _READONLY else 0) | (
            4 if target.kind is SymbolKind.BUILTIN else 0
        )
        found[reference.span.start] = (reference.span.start, reference.span.end, kind, bits)
    ordered = sorted(found.values())
    kept: list[tuple[int, int, int, int]] = []
    for token in ordered:
        if token[1] > token[0] and (not kept or token[0] >= kept[-1][1]):
            kept.append(token)
    return kept


def encode(source: SourceFile, items: list[tuple[int, int, int, int]]) -> list[int]:
    data: list[int] = []
    last_line = last_char = 0
    for start, end, kind, bits in items:
        line, char = source.lsp_position(start)
        end_line, end_char = source.lsp_position(end)
        if end_line != line:
            continue
        delta_line = line - last_line
        delta_char = char - last_char if delta_line == 0 else char
        data += [delta_line, delta_char, end_char - char, kind, bits]
        last_line, last_char = line, char
    return data
