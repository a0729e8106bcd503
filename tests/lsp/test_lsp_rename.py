"""Rename over LSP: across files, and refusals with a message for the user."""

from __future__ import annotations

import re

import pytest
from lsp_harness import Editor
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from dspx_lang.driver import Session
from dspx_lang.source import SourceFile


def apply(text: str, edits: list[types.TextEdit]) -> str:
    source = SourceFile("x", text)
    for edit in sorted(
        edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start = source.offset_at_lsp(edit.range.start.line, edit.range.start.character)
        end = source.offset_at_lsp(edit.range.end.line, edit.range.end.character)
        text = text[:start] + edit.new_text + text[end:]
        source = SourceFile("x", text)
    return text


async def rename(
    editor: Editor, name: str, needle: str, delta: int, new: str
) -> types.WorkspaceEdit:
    result = await editor.client.text_document_rename_async(
        types.RenameParams(
            text_document=editor.doc(name), position=editor.pos(name, needle, delta), new_name=new
        )
    )
    assert result is not None
    return result


async def test_renaming_an_imported_model_edits_both_files_and_still_checks(editor: Editor) -> None:
    await editor.open("qa.dspx")
    prepared = await editor.client.text_document_prepare_rename_async(
        types.PrepareRenameParams(
            text_document=editor.doc("qa.dspx"), position=editor.pos("qa.dspx", "[mini, local]", 1)
        )
    )
    assert isinstance(prepared, types.PrepareRenamePlaceholder)
    assert prepared.placeholder == "mini"
    result = await rename(editor, "qa.dspx", "[mini, local]", 1, "small")
    assert result.changes is not None
    assert set(result.changes) == {editor.uri("qa.dspx"), editor.uri("shared.dspx")}
    for name in ("qa.dspx", "shared.dspx"):
        path = editor.path(name)
        path.write_text(
            apply(path.read_text(encoding="utf-8"), result.changes[editor.uri(name)]),
            encoding="utf-8",
        )
    assert not re.search(r"\bmini\b", editor.path("qa.dspx").read_text(encoding="utf-8"))
    assert Session().check(str(editor.path("qa.dspx"))).diagnostics == []


async def test_rename_refuses_reserved_words_and_bad_names(editor: Editor) -> None:
    await editor.open("qa.dspx")
    for bad, reason in (
        ("or", "reserved"),
        ("2fast", "not a valid name"),
        ("a-b", "not a valid name"),
    ):
        with pytest.raises(JsonRpcException, match=reason):
            await rename(editor, "qa.dspx", "var demos", 5, bad)


async def test_rename_refuses_collisions(editor: Editor) -> None:
    await editor.open("qa.dspx")
    with pytest.raises(JsonRpcException, match="cannot rename 'mini' to 'local'"):
        await rename(editor, "qa.dspx", "[mini, local]", 1, "local")
    with pytest.raises(JsonRpcException, match="cannot rename 'demos' to 'temperature'"):
        await rename(editor, "qa.dspx", "var demos", 5, "temperature")


async def test_rename_refuses_builtins(editor: Editor) -> None:
    await editor.open("qa.dspx")
    with pytest.raises(JsonRpcException, match="built into the language"):
        await rename(editor, "qa.dspx", "[predict, cot]", 10, "chain")
