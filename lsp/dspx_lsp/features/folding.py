"""Folding ranges: declarations, multi-line program items, block comments, comment runs.

Contract: every range spans at least two lines; a block's closing `}` line
stays visible (the range ends on the line before it); runs of two or more
`//` line comments fold as comments, runs of imports as imports. Built from
the syntax tree, so it works on files with semantic errors.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.source import SourceFile, Span
from dspx_lang.syntax import ast
from dspx_lsp.guard import guarded
from dspx_lsp.query import compiled

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer

_BLOCKS = (
    ast.Decl,
    ast.StepDecl,
    ast.OptimizeDecl,
    ast.TestInput,
    ast.ReturnDecl,
    ast.ConstraintDecl,
    ast.StringLit,
)


def register(server: DspxServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    @guarded(lambda: [])
    def on_folding(params: types.FoldingRangeParams) -> list[types.FoldingRange]:
        path, compilation, source = compiled(server, params.text_document.uri)
        return folding_ranges(source, compilation.model.files[path].module)


def folding_ranges(source: SourceFile, module: ast.Module) -> list[types.FoldingRange]:
    ranges: dict[tuple[int, int], types.FoldingRangeKind | None] = {}
    for node in ast.walk(module):
        if isinstance(node, _BLOCKS) and not isinstance(node, ast.Module):
            _add(ranges, source, node.span, None)
    for comment in module.comments:
        if comment.text.startswith("/*"):
            _add(ranges, source, comment.span, types.FoldingRangeKind.Comment)
    alone = [
        c.span
        for c in module.comments
        if c.text.startswith("//")
        and source.line_text(source.line_of(c.span.start)).strip() == c.text.strip()
    ]
    _runs(ranges, source, alone, types.FoldingRangeKind.Comment)
    _runs(
        ranges,
        source,
        [d.span for d in module.decls if isinstance(d, ast.Import)],
        types.FoldingRangeKind.Imports,
    )
    return [
        types.FoldingRange(start_line=start, end_line=end, kind=kind)
        for (start, end), kind in sorted(ranges.items())
    ]


def _add(
    ranges: dict[tuple[int, int], types.FoldingRangeKind | None],
    source: SourceFile,
    span: Span,
    kind: types.FoldingRangeKind | None,
) -> None:
    start = source.line_of(span.start)
    end = source.line_of(max(span.start, span.end - 1))
    if kind is None and source.line_text(end).strip().startswith(("}", ")", "]")):
        end -= 1
    if end > start:
        ranges.setdefault((start, end), kind)


def _runs(
    ranges: dict[tuple[int, int], types.FoldingRangeKind | None],
    source: SourceFile,
    spans: list[Span],
    kind: types.FoldingRangeKind,
) -> None:
    """Fold consecutive lines each holding one of `spans` (two lines or more)."""
    lines = sorted({source.line_of(s.start) for s in spans})
    start = previous = None
    for line in [*lines, None]:
        if line is not None and previous is not None and line == previous + 1:
            previous = line
            continue
        if start is not None and previous is not None and previous > start:
            ranges.setdefault((start, previous), kind)
        start = previous = line
