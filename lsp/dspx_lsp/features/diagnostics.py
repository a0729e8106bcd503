"""Diagnostics: the compiler's, converted to LSP and published per file.

Contract: for an open root file the server publishes exactly the diagnostics
`dspxc check ROOT` prints for that file - same codes, messages, ranges and
related locations - with the note appended to the message ("; did you mean
'x'?") and the buffer version the analysis saw, once the later passes have run
(before that, their previous diagnostics are carried along: see `Documents`).
Diagnostics of imported files that are not open are published under their own
URI from the importing root (as `dspxc check` prints them too), and cleared
when no open root imports them any more. W307 (unused variable) is tagged
`Unnecessary` so editors fade it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.diagnostics import Diagnostic, Severity
from dspx_lang.diagnostics.registry import CODES
from dspx_lang.source import SourceFile, Span
from dspx_lsp.convert import path_to_uri, span_range

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer

SOURCE = "dspx"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFORMATION: types.DiagnosticSeverity.Information,
}
_UNNECESSARY = frozenset({"W307"})


def to_lsp(diagnostic: Diagnostic, sources: Mapping[str, SourceFile]) -> types.Diagnostic:
    source = sources.get(diagnostic.file)
    message = diagnostic.message
    if diagnostic.note:
        message = f"{message}; {diagnostic.note}"
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=path_to_uri(label.file),
                range=_range(sources.get(label.file), label.span),
            ),
            message=label.message,
        )
        for label in diagnostic.related
    ]
    code = CODES.get(diagnostic.code)
    return types.Diagnostic(
        range=_range(source, diagnostic.span),
        severity=_SEVERITY[diagnostic.severity],
        code=diagnostic.code,
        source=SOURCE,
        message=message,
        related_information=related or None,
        tags=[types.DiagnosticTag.Unnecessary] if diagnostic.code in _UNNECESSARY else None,
        data={"name": code.name} if code else None,
    )


def _range(source: SourceFile | None, span: Span) -> types.Range:
    if source is None:
        zero = types.Position(line=0, character=0)
        return types.Range(start=zero, end=zero)
    return span_range(source, span)


def by_file(diagnostics: list[Diagnostic]) -> dict[str, list[Diagnostic]]:
    grouped: dict[str, list[Diagnostic]] = {}
    for diagnostic in diagnostics:
        grouped.setdefault(diagnostic.file, []).append(diagnostic)
    return grouped


class Publisher:
    """Publishes a root's diagnostics and remembers which imported files it spoke for."""

    def __init__(self, server: DspxServer) -> None:
        self.server = server
        self.imported: dict[str, set[str]] = {}  # root -> imported files published for it

    def publish(self, root: str, full: bool = False) -> None:
        """Publish `root`'s diagnostics: after all passes with `full`, else after the
        semantic checks, with the later passes' last diagnostics carried along."""
        documents = self.server.documents
        compilation = documents.finish(root) if full else documents.compile(root)
        sources = compilation.sources
        diagnostics = compilation.diagnostics
        carried = documents.carried(root)
        if carried:
            diagnostics = sorted([*diagnostics, *carried], key=Diagnostic.sort_key)
        grouped = by_file(diagnostics)
        self._send(root, [to_lsp(d, sources) for d in grouped.get(root, [])])
        spoken = {p for p in compilation.model.files if p != root and p not in documents.buffers}
        for path in sorted(spoken):
            self._send(path, [to_lsp(d, sources) for d in grouped.get(path, [])])
        before = self.imported.get(root, set())
        self.imported[root] = spoken
        self._clear_orphans(before - spoken)

    def closed(self, root: str) -> None:
        """`root` was closed: forget what it published unless another root imports it."""
        self._clear_orphans({root} | self.imported.pop(root, set()))

    def _clear_orphans(self, paths: set[str]) -> None:
        documents = self.server.documents
        for path in sorted(paths):
            still = path in documents.buffers or any(path in s for s in self.imported.values())
            if not still:
                self._send(path, [])

    def _send(self, path: str, diagnostics: list[types.Diagnostic]) -> None:
        documents = self.server.documents
        self.server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=documents.uri(path),
                diagnostics=diagnostics,
                version=documents.version(path),
            )
        )
