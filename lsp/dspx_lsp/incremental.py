"""Incremental parsing for the editor: re-parse only the declarations an edit touched.

Contract (a law, checked by a property test on random edits): for every text,
`IncrementalParseCache.parse(source)` returns what `dspx_lang.syntax.parse(source)`
returns - the same declarations, nodes, spans, docs, comments and E001
diagnostics, in the same order.

How: the text is cut into chunks, each starting at a line that opens a
top-level declaration at column 0, moved up over the comment lines right above
it (a `///` doc belongs to the declaration below). Each chunk is parsed alone
with the text before it blanked to whitespace, so offsets are the file's. An
unchanged chunk is reused; one that only moved has its spans shifted in place
(see `_move` for why that is safe).

A chunk followed by another is parsed with a probe after it, `import ""`, on a
line of its own: the probe parses as a clean declaration exactly when the
parser is back at the top level after the chunk (anywhere else it is an error
on a fresh line, or it is swallowed by an unterminated comment or string, or
the parser gave up). Then the chunk's parse, without the probe's declaration,
is what the whole-file parse produces for it. The chunked result is used only
where that holds (see `_confine`); the stretch from the first to the last
chunk with errors is parsed as one piece, since error recovery carries state
from one error to the next. Otherwise the whole file is parsed.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from dspx_lang.diagnostics import Diagnostic
from dspx_lang.semantics import ParseCache
from dspx_lang.source import SourceFile, Span
from dspx_lang.syntax import ParseResult, ast, parse

_DECL_LINE = re.compile(
    r"^(?:import|model|enum|class|signature|tool|dataset|program|test)(?![A-Za-z0-9_])", re.M
)
PROBE = 'import ""'


@dataclass(slots=True)
class _Chunk:
    start: int
    text: str
    decls: list[ast.TopLevel]
    comments: list[ast.Comment]
    diagnostics: list[Diagnostic]
    at_top: bool  # the parser is at the top level after it (always true for the last chunk)
    probed: bool  # parsed with the probe after it (it was not the last chunk)
    whole: bool = False  # the parser gave up and salvaged a module spanning all the text
    nodes: list[ast.Node] | None = None  # every node once, for moving (built on first move)

    @property
    def end(self) -> int:
        return self.start + len(self.text)


@dataclass(slots=True)
class ParseStats:
    """How parses were answered (for tests and the latency benchmark)."""

    full: int = 0
    incremental: int = 0
    chunks_parsed: int = 0
    chunks_reused: int = 0


@dataclass(slots=True)
class IncrementalParseCache(ParseCache):
    """A `ParseCache` that re-parses only the changed declarations of a file."""

    chunks: dict[str, list[_Chunk]] = field(default_factory=dict)
    stats: ParseStats = field(default_factory=ParseStats)

    def parse(self, source: SourceFile) -> ParseResult:
        cached = self.entries.get(source.path)
        if cached is not None and cached.source.text == source.text:
            return cached
        result = self._parse(source)
        self.entries[source.path] = result
        return result

    def forget(self, path: str) -> None:
        self.entries.pop(path, None)
        self.chunks.pop(path, None)

    def _parse(self, source: SourceFile) -> ParseResult:
        if source.decode_error:
            self.stats.full += 1
            return parse(source)
        previous: dict[tuple[str, bool], list[_Chunk]] = {}
        for chunk in self.chunks.get(source.path, []):
            previous.setdefault((chunk.text, chunk.probed), []).append(chunk)
        cuts = boundaries(source.text)
        chunks = [
            self._chunk(source, start, end, n < len(cuts) - 1, previous)
            for n, (start, end) in enumerate(cuts)
        ]
        self.chunks[source.path] = chunks
        pieces = _confine(source, chunks)
        if pieces is None:
            self.stats.full += 1
            return parse(source)
        self.stats.incremental += 1
        decls = [d for c in pieces for d in c.decls]
        span = Span(decls[0].span.start, decls[-1].span.end) if decls else ast.NO_SPAN
        module = ast.Module(
            decls=decls,
            comments=[m for c in pieces for m in c.comments],
            span=Span(0, len(source.text)) if pieces[-1].whole else span,
        )
        return ParseResult(source, module, [d for c in pieces for d in c.diagnostics])

    def _chunk(
        self,
        source: SourceFile,
        start: int,
        end: int,
        probe: bool,
        previous: dict[tuple[str, bool], list[_Chunk]],
    ) -> _Chunk:
        text = source.text[start:end]
        candidates = previous.get((text, probe))
        if candidates:
            self.stats.chunks_reused += 1
            chunk = candidates.pop(
                next((i for i, c in enumerate(candidates) if c.start == start), 0)
            )
            if chunk.start != start:
                _move(chunk, start)
            return chunk
        self.stats.chunks_parsed += 1
        return _parse_chunk(source, start, text, probe)


def _parse_chunk(source: SourceFile, start: int, text: str, probe: bool) -> _Chunk:
    """Parse `text` standing at `start`; with `probe`, also learn if it ends at the top level."""
    newlines = source.text.count("\n", 0, start)
    blank = "\n" * newlines + " " * (start - newlines)
    parsed = blank + text + (PROBE if probe else "")
    result = parse(SourceFile(source.path, parsed))
    decls = list(result.module.decls)
    # The parser spans a module it salvaged after giving up over the whole text.
    whole = result.module.span != (
        Span(decls[0].span.start, decls[-1].span.end) if decls else ast.NO_SPAN
    )
    diagnostics = result.diagnostics
    at_top = True
    if probe:
        end = start + len(text)
        last = decls[-1] if decls else None
        at_top = (
            isinstance(last, ast.Import)
            and last.span.start == end
            and all(d.span.start < end for d in diagnostics)
        )
        if at_top:
            decls.pop()
    return _Chunk(start, text, decls, result.module.comments, diagnostics, at_top, probe, whole)


def boundaries(text: str) -> list[tuple[int, int]]:
    """(start, end) of each chunk: cut before top-level declaration lines and their comments."""
    cuts = [0]
    for match in _DECL_LINE.finditer(text):
        cut = match.start()
        while cut > 0:
            above = text.rfind("\n", 0, cut - 1) + 1
            if not text[above : cut - 1].lstrip().startswith("//"):
                break
            cut = above
        if cut > cuts[-1]:
            cuts.append(cut)
    cuts.append(len(text))
    return list(itertools.pairwise(cuts))


def _confine(source: SourceFile, chunks: list[_Chunk]) -> list[_Chunk] | None:
    """Pieces whose parses, side by side, are exactly the whole-file parse; None if unsure.

    Clean chunks stand alone (they end at the top level). The chunks from the first to
    the last one with errors are parsed as one piece (error recovery carries state from
    one error to the next), which must end at the top level as well.
    """
    failing = [i for i, c in enumerate(chunks) if c.diagnostics or not c.at_top]
    if not failing:
        return chunks
    first, last = failing[0], failing[-1]
    piece = chunks[first]
    if last > first:
        start = piece.start
        text = source.text[start : chunks[last].end]
        piece = _parse_chunk(source, start, text, probe=last < len(chunks) - 1)
    if not piece.at_top:
        return None
    return [*chunks[:first], piece, *chunks[last + 1 :]]


def _move(chunk: _Chunk, start: int) -> None:
    """Move a reused chunk to `start`, shifting its nodes' spans in place.

    In place, because copying every node after each keystroke costs more than the
    parse it saves. Safe: only this cache hands these nodes out, and a compilation
    built on the old text is never read again - its file's generation changed with
    the edit, so `Documents.compile` analyses anew before answering anything.
    """
    delta = start - chunk.start
    if chunk.nodes is None:
        unique: dict[int, ast.Node] = {}
        for top in [*chunk.decls, *chunk.comments]:
            unique.update((id(n), n) for n in ast.walk(top))
        chunk.nodes = list(unique.values())
    for node in chunk.nodes:
        span = node.span
        node.span = Span(span.start + delta, span.end + delta)
    chunk.diagnostics = [_shift_diagnostic(d, delta) for d in chunk.diagnostics]
    chunk.start = start


def _shift_diagnostic(diagnostic: Diagnostic, delta: int) -> Diagnostic:
    span = Span(diagnostic.span.start + delta, diagnostic.span.end + delta)
    return dataclasses.replace(diagnostic, span=span)


def same_tree(a: ast.Node, b: ast.Node) -> bool:
    """Equal nodes with equal spans and docs everywhere (AST equality ignores spans)."""
    if a != b:
        return False
    return all(
        x.span == y.span and getattr(x, "doc", None) == getattr(y, "doc", None)
        for x, y in zip(ast.walk(a), ast.walk(b), strict=True)
    )


def same_result(a: ParseResult, b: ParseResult) -> bool:
    """The law of this module, spelled out (used by tests and the benchmark's self-check)."""
    return (
        same_tree(a.module, b.module)
        and a.module.span == b.module.span
        and _comments(a.module.comments) == _comments(b.module.comments)
        and a.diagnostics == b.diagnostics
    )


def _comments(comments: Iterable[ast.Comment]) -> list[tuple[str, Span]]:
    return [(c.text, c.span) for c in comments]
