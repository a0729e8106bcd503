"""Code actions: the quick fixes that travel with the compiler's diagnostics.

Contract: for every diagnostic shown for the file (the compilation's and the
carried ones) whose range meets the requested range, each of its `fixes`
becomes one `quickfix` action carrying that diagnostic and a workspace edit
built from the fix's edits (which may touch other files); nothing is
recomputed here (habit 7). A fix marked safe is preferred when it is its
diagnostic's only fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.diagnostics import Diagnostic, Fix
from dspx_lang.driver import Compilation
from dspx_lang.source import Span
from dspx_lsp.convert import range_span, span_range
from dspx_lsp.documents import Documents
from dspx_lsp.features.diagnostics import to_lsp
from dspx_lsp.guard import guarded
from dspx_lsp.query import compiled

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer


def register(server: DspxServer) -> None:
    documents = server.documents

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix]),
    )
    @guarded(lambda: [])
    def on_code_action(params: types.CodeActionParams) -> list[types.CodeAction]:
        path, compilation, source = compiled(server, params.text_document.uri)
        only = params.context.only
        if only and not any(str(k) in ("", "quickfix") for k in only):
            return []
        return quick_fixes(documents, compilation, path, range_span(source, params.range))


def quick_fixes(
    documents: Documents, compilation: Compilation, path: str, span: Span
) -> list[types.CodeAction]:
    actions = []
    shown = [*compilation.diagnostics, *documents.carried(path)]
    for diagnostic in shown:
        if diagnostic.file != path or not _meets(diagnostic.span, span):
            continue
        for fix in diagnostic.fixes:
            actions.append(_action(documents, compilation, diagnostic, fix))
    return actions


def _meets(a: Span, b: Span) -> bool:
    return a.start <= b.end and b.start <= a.end


def _action(
    documents: Documents, compilation: Compilation, diagnostic: Diagnostic, fix: Fix
) -> types.CodeAction:
    sources = compilation.sources
    changes: dict[str, list[types.TextEdit]] = {}
    for edit in fix.edits:
        source = sources.get(edit.file)
        if source is None:
            continue
        changes.setdefault(documents.uri(edit.file), []).append(
            types.TextEdit(range=span_range(source, edit.span), new_text=edit.new_text)
        )
    return types.CodeAction(
        title=fix.title,
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[to_lsp(diagnostic, sources)],
        edit=types.WorkspaceEdit(changes=changes),
        is_preferred=fix.safe and len(diagnostic.fixes) == 1,
    )
