"""Formatting: the same formatter as `dspxc fmt`, as minimal line edits.

Contract: a file with syntax errors (E001) is never formatted - like
`dspxc fmt`, the request returns no edits. Otherwise the edits turn the
buffer into exactly `format_module`'s output; they replace only the lines
that differ (difflib), so the cursor and folds elsewhere stay put.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.source import SourceFile
from dspx_lang.syntax.format import format_module
from dspx_lsp.convert import uri_to_path
from dspx_lsp.guard import guarded, log

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer


def register(server: DspxServer) -> None:
    documents = server.documents

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    @guarded(lambda: None)
    def on_formatting(params: types.DocumentFormattingParams) -> list[types.TextEdit] | None:
        path = uri_to_path(params.text_document.uri)
        source = documents.load(path)
        result = documents.cache.parse(source)
        if result.diagnostics:
            log.info("dspx: %s has syntax errors; not formatted", path)
            return None
        return line_edits(source, format_module(source, result.module))


def line_edits(source: SourceFile, formatted: str) -> list[types.TextEdit]:
    """Edits replacing only the differing lines of `source` to produce `formatted`."""
    old = source.text.splitlines(keepends=True)
    new = formatted.splitlines(keepends=True)
    edits = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        start = source.offset(i1, 0) if i1 < len(old) else len(source.text)
        end = source.offset(i2, 0) if i2 < len(old) else len(source.text)
        start_line, start_char = source.lsp_position(start)
        end_line, end_char = source.lsp_position(end)
        edits.append(
            types.TextEdit(
                range=types.Range(
                    start=types.Position(line=start_line, character=start_char),
                    end=types.Position(line=end_line, character=end_char),
                ),
                new_text="".join(new[j1:j2]),
            )
        )
    return edits
