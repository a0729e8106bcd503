"""Conversions at the protocol boundary: URIs <-> paths, LSP positions <-> offsets.

Contract: everything inside the server works on normalised file paths and
character offsets (Python string indices) into a `SourceFile`; only this
module turns them into LSP URIs and (line, UTF-16 column) positions and back.
A URI that is not a `file:` URI (an untitled buffer) is used as its own path.
"""

from __future__ import annotations

from lsprotocol import types
from pygls.uris import from_fs_path, to_fs_path

from dspx_lang.semantics.imports import normalize
from dspx_lang.source import SourceFile, Span


def uri_to_path(uri: str) -> str:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return normalize(path) if path else uri


def path_to_uri(path: str) -> str:
    if "://" in path or path.startswith("untitled:"):
        return path
    return from_fs_path(path) or path


def position(source: SourceFile, offset: int) -> types.Position:
    line, character = source.lsp_position(offset)
    return types.Position(line=line, character=character)


def span_range(source: SourceFile, span: Span) -> types.Range:
    return types.Range(start=position(source, span.start), end=position(source, span.end))


def offset(source: SourceFile, pos: types.Position) -> int:
    return source.offset_at_lsp(pos.line, pos.character)


def range_span(source: SourceFile, rng: types.Range) -> Span:
    return Span(offset(source, rng.start), offset(source, rng.end))


def location(source: SourceFile, span: Span) -> types.Location:
    return types.Location(uri=path_to_uri(source.path), range=span_range(source, span))
