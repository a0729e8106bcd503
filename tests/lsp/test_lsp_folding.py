"""Folding ranges over LSP."""

from __future__ import annotations

from lsp_harness import Editor
from lsprotocol import types


async def test_blocks_comments_and_imports_fold(editor: Editor) -> None:
    text = '// one\n// two\nimport "shared.dspx"\n' + editor.path("qa.dspx").read_text(
        encoding="utf-8"
    ).replace('import "shared.dspx"\n', "")
    await editor.open("qa.dspx", text)
    result = await editor.client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=editor.doc("qa.dspx"))
    )
    assert result is not None
    lines = text.splitlines()
    spans = {(r.start_line, r.end_line, r.kind) for r in result}
    program = next(n for n, line in enumerate(lines) if line.startswith("program qa"))
    closing = next(n for n in range(program, len(lines)) if lines[n] == "}")
    assert (program, closing - 1, None) in spans  # the closing brace stays visible
    assert (0, 1, types.FoldingRangeKind.Comment) in spans
    step = next(n for n, line in enumerate(lines) if "step answer" in line)
    assert any(start == step for start, _, _ in spans)
    assert all(end > start for start, end, _ in spans)
