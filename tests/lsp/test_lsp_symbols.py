"""Document symbols (outline) and workspace symbols over LSP."""

from __future__ import annotations

from lsp_harness import Editor
from lsprotocol import types


async def test_outline_has_declarations_and_program_members(editor: Editor) -> None:
    await editor.open("qa.dspx")
    result = await editor.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=editor.doc("qa.dspx"))
    )
    assert result is not None
    symbols = [s for s in result if isinstance(s, types.DocumentSymbol)]
    assert [s.name for s in symbols] == [
        'import "shared.dspx"',
        "AnswerQuestion",
        "qa_train",
        "qa",
        "paris",
    ]
    program = symbols[3]
    assert program.kind == types.SymbolKind.Module
    members = [(c.name, c.kind) for c in program.children or []]
    assert ("reasoning", types.SymbolKind.Variable) in members
    assert ("answer", types.SymbolKind.Function) in members
    assert ("local model only without reasoning", types.SymbolKind.Boolean) in members
    for child in program.children or []:
        assert (child.range.start.line, child.range.start.character) >= (
            program.range.start.line,
            program.range.start.character,
        )
        assert child.range.end.line <= program.range.end.line


async def test_outline_survives_semantic_errors(editor: Editor) -> None:
    text = editor.path("qa.dspx").read_text(encoding="utf-8").replace("AnswerQuestion(", "Missing(")
    await editor.open("qa.dspx", text)
    result = await editor.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=editor.doc("qa.dspx"))
    )
    assert result is not None
    assert "qa" in [s.name for s in result]


async def test_workspace_symbols_search_every_file(editor: Editor) -> None:
    await editor.open("qa.dspx")
    result = await editor.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="cit"))
    assert result is not None
    # The client may read the answer as SymbolInformation or WorkspaceSymbol: same fields here.
    found = {(s.name, s.location.uri) for s in result}
    assert ("Citation", editor.uri("shared.dspx")) in found
    steps = await editor.client.workspace_symbol_async(types.WorkspaceSymbolParams(query="answer"))
    assert steps is not None
    assert any(s.name == "answer" and s.container_name == "qa" for s in steps)
