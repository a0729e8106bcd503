"""Incremental parsing for the editor: re-parse only the declarations an edit touched.

Contract (a law, checked by a property test on random edits): for every text,
`IncrementalParseCache.parse(source)` returns what `dspx_lang.syntax.parse(source)`
returns - the same declarations, nodes, spans, docs, comments and E001
diagnostics, in the same order. Where `parse` raises (a parser bug), it never
raises: it keeps the declarations of the chunks that parse and reports an E001
"internal parser error" over the chunk that does not, so the editor keeps
working on the rest of the file.

How: the text is cut into chunks, each starting at a line that opens a
top-level declaration at column 0, moved up over the comment lines right above
it (a `///` doc belongs to the declaration below). Each chunk is parsed alone
with the text before it blanked to whitespace, so offsets are the file's. An
unchanged chunk is reused; one that only moved is copied with shifted spans.
The chunked result is used only where it must equal a whole-file parse: every
chunk but one parses cleanly, so the parser is at the top level at each
boundary, and that one is the last chunk, or parsing it together with the next
chunk gives exactly their two parses side by side (so it ends at the top level:
no unexpected end of file, no unterminated comment or string running on, no
giving up). Otherwise the whole file is parsed.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from dspx_lang.diagnostics import Diagnostic, Severity
from dspx_lang.semantics import ParseCache
from dspx_lang.source import SourceFile, Span
from dspx_lang.syntax import ParseResult, ast, parse
from dspx_lsp.guard import log

_DECL_LINE = re.compile(
    r"^(?:import|model|enum|class|signature|tool|dataset|program|test)(?![A-Za-z0-9_])", re.M
)
N = TypeVar("N", bound=ast.Node)


@dataclass(slots=True)
class _Chunk:
    start: int
    text: str
    decls: list[ast.TopLevel]
    comments: list[ast.Comment]
    diagnostics: list[Diagnostic]
    failed: bool = False  # the parser raised on this chunk (a parser bug)

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
        previous: dict[str, list[_Chunk]] = {}
        for chunk in self.chunks.get(source.path, []):
            previous.setdefault(chunk.text, []).append(chunk)
        chunks = [
            self._chunk(source, start, end, previous) for start, end in boundaries(source.text)
        ]
        self.chunks[source.path] = chunks
        if not _equivalent(source, chunks):
            self.stats.full += 1
            try:
                return parse(source)
            except Exception:  # a parser bug: keep what the chunks could parse
                log.exception(
                    "dspx: the parser failed on %s; using the declarations it could parse",
                    source.path,
                )
        self.stats.incremental += 1
        decls = [d for c in chunks for d in c.decls]
        module = ast.Module(
            decls=decls,
            comments=[m for c in chunks for m in c.comments],
            span=Span(decls[0].span.start, decls[-1].span.end) if decls else ast.NO_SPAN,
        )
        return ParseResult(source, module, [d for c in chunks for d in c.diagnostics])

    def _chunk(
        self, source: SourceFile, start: int, end: int, previous: dict[str, list[_Chunk]]
    ) -> _Chunk:
        text = source.text[start:end]
        candidates = previous.get(text)
        if candidates:
            self.stats.chunks_reused += 1
            same = next((c for c in candidates if c.start == start), None)
            return same if same is not None else _moved(candidates[0], start)
        self.stats.chunks_parsed += 1
        try:
            result = _parse_at(source, start, text)
        except Exception as exc:  # a parser bug: report it here and keep the other chunks
            span = Span(start, start + len(text.rstrip()))
            message = f"internal parser error ({type(exc).__name__}); please report this file"
            return _Chunk(
                start,
                text,
                [],
                [],
                [Diagnostic("E001", Severity.ERROR, message, source.path, span)],
                failed=True,
            )
        return _Chunk(
            start, text, list(result.module.decls), result.module.comments, result.diagnostics
        )


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


def _equivalent(source: SourceFile, chunks: list[_Chunk]) -> bool:
    """Is the concatenation of the chunk parses exactly the whole-file parse?"""
    failing = [i for i, c in enumerate(chunks) if c.diagnostics]
    if len(failing) > 1 or any(c.failed for c in chunks):
        return False
    if not failing or failing[0] == len(chunks) - 1:
        return True
    # The failing chunk must leave the parser at the top level for the next one: check
    # that parsing the two together gives exactly the two parses side by side.
    first, second = chunks[failing[0]], chunks[failing[0] + 1]
    try:
        joint = _parse_at(source, first.start, first.text + second.text)
    except Exception:  # a parser bug; the caller parses the whole file instead
        return False
    return (
        len(joint.module.decls) == len(first.decls) + len(second.decls)
        and all(
            same_tree(a, b)
            for a, b in zip(joint.module.decls, [*first.decls, *second.decls], strict=True)
        )
        and _comments(joint.module.comments) == _comments([*first.comments, *second.comments])
        and joint.diagnostics == first.diagnostics
    )


def _parse_at(source: SourceFile, start: int, text: str) -> ParseResult:
    """Parse `text` as if it stood at `start` in `source` (what precedes it is blanked)."""
    newlines = source.text.count("\n", 0, start)
    blank = "\n" * newlines + " " * (start - newlines)
    return parse(SourceFile(source.path, blank + text))


def _moved(chunk: _Chunk, start: int) -> _Chunk:
    delta = start - chunk.start
    return _Chunk(
        start,
        chunk.text,
        [shift(d, delta) for d in chunk.decls],
        [shift(c, delta) for c in chunk.comments],
        [_shift_diagnostic(d, delta) for d in chunk.diagnostics],
    )


_FIELDS: dict[type[Any], tuple[str, ...]] = {}


def shift(node: N, delta: int) -> N:
    """A copy of `node` and everything under it with every span moved by `delta`."""
    cls = type(node)
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    copy = object.__new__(cls)
    for name in names:
        value = getattr(node, name)
        if isinstance(value, Span):
            value = Span(value.start + delta, value.end + delta)
        elif isinstance(value, ast.Node):
            value = shift(value, delta)
        elif isinstance(value, list):
            value = [shift(v, delta) if isinstance(v, ast.Node) else v for v in value]
        object.__setattr__(copy, name, value)
    return copy


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
