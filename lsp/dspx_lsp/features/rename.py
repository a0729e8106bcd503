"""Rename a declaration everywhere it is used, across imported and importing files.

Contract: `plan_rename` returns the edits (per file) that rename the symbol
at an offset, or raises `RequestFailed` with a message for the user. It
refuses built-ins, names that are not identifiers, reserved words, and any
rename the compiler would not accept unchanged: the edits are applied to
in-memory copies and the affected files re-checked; the rename is refused if
it introduces a diagnostic (a collision, a keyword in the wrong place, a
shadowed name) or if the renamed declaration would not own exactly the edited
sites afterwards. Nothing is written; the client applies the edits.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.driver import Compilation, Session
from dspx_lang.semantics import ParseCache
from dspx_lang.semantics.model import Symbol, SymbolKind
from dspx_lang.source import SourceFile, Span
from dspx_lsp import xref
from dspx_lsp.convert import span_range
from dspx_lsp.documents import Documents
from dspx_lsp.guard import RequestFailed, guarded
from dspx_lsp.query import Here, at

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
RESERVED = frozenset({"in", "out", "and", "or", "not", "true", "false"})

Edits = dict[str, list[tuple[Span, str]]]


def register(server: DspxServer) -> None:
    documents = server.documents

    @server.feature(types.TEXT_DOCUMENT_PREPARE_RENAME)
    @guarded(lambda: None)
    def on_prepare(params: types.PrepareRenameParams) -> types.PrepareRenamePlaceholder | None:
        here = at(server, params.text_document.uri, params.position)
        symbol, span = _target(here)
        return types.PrepareRenamePlaceholder(
            range=span_range(here.source, span), placeholder=symbol.name
        )

    @server.feature(types.TEXT_DOCUMENT_RENAME)
    @guarded(lambda: None)
    def on_rename(params: types.RenameParams) -> types.WorkspaceEdit | None:
        here = at(server, params.text_document.uri, params.position)
        edits = plan_rename(documents, here, params.new_name)
        changes: dict[str, list[types.TextEdit]] = {}
        for path, items in edits.items():
            source = documents.source(path)
            if source is None:
                continue
            changes[documents.uri(path)] = [
                types.TextEdit(range=span_range(source, span), new_text=text)
                for span, text in items
            ]
        return types.WorkspaceEdit(changes=changes)


def _target(here: Here) -> tuple[Symbol, Span]:
    found = here.model.occurrence_at(here.path, here.offset)
    symbol = found[0] if found else None
    if found is None or symbol is None:
        raise RequestFailed("nothing to rename here: put the cursor on a declared name")
    reference = found[1]
    if symbol.kind is SymbolKind.BUILTIN:
        raise RequestFailed(f"'{symbol.name}' is built into the language and cannot be renamed")
    return symbol, reference.span if reference is not None else symbol.span


def plan_rename(documents: Documents, here: Here, new_name: str) -> Edits:
    symbol, _ = _target(here)
    if not IDENTIFIER.fullmatch(new_name):
        raise RequestFailed(f"'{new_name}' is not a valid name: use letters, digits and _")
    if new_name in RESERVED:
        raise RequestFailed(f"'{new_name}' is a reserved word and cannot be a name")
    sites = xref.references(documents, here.path, symbol)
    edits: Edits = {}
    for path, span in sites:
        edits.setdefault(path, []).append((span, new_name))
    if new_name != symbol.name:
        _verify(documents, symbol, new_name, edits)
    return edits


def _verify(documents: Documents, symbol: Symbol, new_name: str, edits: Edits) -> None:
    """Re-check the renamed texts; refuse anything that changes what the program means."""
    renamed = {path: _apply(documents, path, items) for path, items in edits.items()}
    roots = sorted(set(edits) | set(xref.importers_of(documents, symbol.file)))

    def load(path: str) -> SourceFile:
        return renamed.get(path) or documents.load(path)

    session = Session(loader=load, cache=ParseCache())
    before: Counter[tuple[str, str]] = Counter()
    after: Counter[tuple[str, str]] = Counter()
    new_sites: set[tuple[str, int]] = set()
    for root in roots:
        old = documents.finish(root)  # all passes, like `session.check` below
        before.update((d.file, d.code) for d in old.diagnostics)
        new = session.check(root)
        after.update((d.file, d.code) for d in new.diagnostics)
        declared = next(
            (
                s
                for s in new.model.symbols
                if s.file == symbol.file
                and s.name == new_name
                and s.kind is symbol.kind
                and s.span.start == _moved(symbol.span.start, edits.get(symbol.file, []), new_name)
            ),
            None,
        )
        if declared is None:
            raise RequestFailed(
                f"cannot rename '{symbol.name}' to '{new_name}': {_why(new, before)}"
            )
        new_sites.update(
            (r.file, r.span.start) for r in new.model.references if r.symbol is declared
        )
    introduced = after - before
    if introduced:
        raise RequestFailed(
            f"cannot rename '{symbol.name}' to '{new_name}': it would introduce "
            + ", ".join(sorted(f"{code} in {path}" for path, code in introduced))
        )
    expected = {
        (path, _moved(span.start, items, new_name))
        for path, items in edits.items()
        for span, _ in items
        if (path, span) != (symbol.file, symbol.span)
    }
    if new_sites != expected:
        raise RequestFailed(
            f"cannot rename '{symbol.name}' to '{new_name}': another declaration named "
            f"'{new_name}' would take over some of its uses"
        )


def _why(compilation: Compilation, before: Counter[tuple[str, str]]) -> str:
    new = [d for d in compilation.diagnostics if (d.file, d.code) not in before]
    return new[0].message if new else "the renamed declaration is no longer found"


def _apply(documents: Documents, path: str, items: Iterable[tuple[Span, str]]) -> SourceFile:
    source = documents.load(path)
    text = source.text
    for span, new_text in sorted(items, key=lambda i: i[0].start, reverse=True):
        text = text[: span.start] + new_text + text[span.end :]
    return SourceFile(path, text)


def _moved(offset: int, items: Iterable[tuple[Span, str]], new_name: str) -> int:
    """Where `offset` lands after the edits before it."""
    return offset + sum(len(new_name) - (s.end - s.start) for s, _ in items if s.start < offset)
