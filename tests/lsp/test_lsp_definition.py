"""Go to definition and find references over LSP, across imported and importing files."""

from __future__ import annotations

import re

from lsp_harness import Editor
from lsprotocol import types


async def definition(
    editor: Editor, name: str, needle: str, delta: int = 0
) -> list[types.Location]:
    result = await editor.client.text_document_definition_async(
        types.DefinitionParams(
            text_document=editor.doc(name), position=editor.pos(name, needle, delta)
        )
    )
    assert isinstance(result, list)
    return [loc for loc in result if isinstance(loc, types.Location)]


async def test_definition_in_an_imported_file(editor: Editor) -> None:
    await editor.open("qa.dspx")
    [target] = await definition(editor, "qa.dspx", "[mini, local]", 1)
    assert target.uri == editor.uri("shared.dspx")
    assert target.range.start == editor.pos("shared.dspx", "mini =")
    assert target.range.end == editor.pos("shared.dspx", "mini =", 4)


async def test_definition_of_a_step_field_and_a_variable(editor: Editor) -> None:
    await editor.open("qa.dspx")
    [field] = await definition(editor, "qa.dspx", "answer.answer", 7)
    assert field.range.start == editor.pos("qa.dspx", 'answer: string "often')
    [var] = await definition(editor, "qa.dspx", "temperature: temperature", 13)
    assert var.range.start == editor.pos("qa.dspx", "temperature: float", 0)


async def test_import_path_goes_to_the_file(editor: Editor) -> None:
    await editor.open("qa.dspx")
    [target] = await definition(editor, "qa.dspx", '"shared.dspx"', 3)
    assert target.uri == editor.uri("shared.dspx")


async def test_builtins_have_no_definition(editor: Editor) -> None:
    await editor.open("qa.dspx")
    result = await editor.client.text_document_definition_async(
        types.DefinitionParams(
            text_document=editor.doc("qa.dspx"),
            position=editor.pos("qa.dspx", "[predict, cot]", 10),
        )
    )
    assert result is None


async def test_references_from_the_declaring_file_include_importers(editor: Editor) -> None:
    await editor.open("shared.dspx")
    result = await editor.client.text_document_references_async(
        types.ReferenceParams(
            text_document=editor.doc("shared.dspx"),
            position=editor.pos("shared.dspx", "mini =", 1),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert result is not None
    sites = [(loc.uri, loc.range.start.line) for loc in result]
    assert sites[0] == (editor.uri("shared.dspx"), 2)
    qa_lines = {line for uri, line in sites if uri == editor.uri("qa.dspx")}
    text = editor.path("qa.dspx").read_text(encoding="utf-8").splitlines()
    assert qa_lines == {n for n, line in enumerate(text) if re.search(r"\bmini\b", line)}
    without = await editor.client.text_document_references_async(
        types.ReferenceParams(
            text_document=editor.doc("shared.dspx"),
            position=editor.pos("shared.dspx", "mini =", 1),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert without is not None
    assert len(without) == len(result) - 1
