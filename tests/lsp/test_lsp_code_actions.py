"""Quick fixes over LSP: the fixes that travel with diagnostics, applied for real."""

from __future__ import annotations

import pytest
from lsp_harness import Editor
from lsprotocol import types
from test_lsp_rename import apply


async def fix(editor: Editor, old: str, new: str, code: str) -> tuple[str, list[types.Diagnostic]]:
    """Make the edit, apply the quick fix offered for `code`: (its title, diagnostics after)."""
    await editor.open("qa.dspx")
    diagnostics = await editor.replace("qa.dspx", old, new)
    target = next(d for d in diagnostics if d.code == code)
    actions = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=editor.doc("qa.dspx"),
            range=target.range,
            context=types.CodeActionContext(diagnostics=[target]),
        )
    )
    assert actions is not None
    [action] = [
        a
        for a in actions
        if isinstance(a, types.CodeAction) and a.diagnostics and a.diagnostics[0].code == code
    ]
    assert action.kind == types.CodeActionKind.QuickFix
    assert action.edit is not None
    assert action.edit.changes is not None
    fixed = apply(editor.texts["qa.dspx"], action.edit.changes[editor.uri("qa.dspx")])
    await editor.open("qa.dspx", fixed)
    return action.title, await editor.diagnostics("qa.dspx")


@pytest.mark.parametrize(
    ("old", "new", "code", "title"),
    [
        ("question: question)", "question: quesion)", "E100", "Change to 'question'"),
        ("(context, question: question)", "(context)", "E201", "Add question"),
        (
            "var demos: int in 0..8 = 4",
            "var demos: int in 0..8 = 12",
            "E300",
            "Change the default to 8",
        ),
    ],
)
async def test_quick_fix_removes_its_diagnostic(
    editor: Editor, old: str, new: str, code: str, title: str
) -> None:
    shown, after = await fix(editor, old, new, code)
    assert shown == title
    assert after == []


async def test_no_actions_where_there_is_no_diagnostic(editor: Editor) -> None:
    await editor.open("qa.dspx")
    pos = editor.pos("qa.dspx", "program qa")
    actions = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=editor.doc("qa.dspx"),
            range=types.Range(start=pos, end=pos),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    assert not actions


async def test_remove_an_unused_variable(editor: Editor) -> None:
    text = (
        editor.path("qa.dspx")
        .read_text(encoding="utf-8")
        .replace(
            "  var adapter: [chat, json] = chat\n",
            "  var adapter: [chat, json] = chat\n  var knob: int in 1..3\n",
        )
    )
    await editor.open("qa.dspx", text)
    [warning] = await editor.eventually("qa.dspx", bool)
    actions = await editor.client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=editor.doc("qa.dspx"),
            range=warning.range,
            context=types.CodeActionContext(diagnostics=[warning]),
        )
    )
    assert actions is not None
    [action] = [a for a in actions if isinstance(a, types.CodeAction)]
    assert action.title == "Remove variable 'knob'"
    assert action.edit is not None
    assert action.edit.changes is not None
    fixed = apply(text, action.edit.changes[editor.uri("qa.dspx")])
    assert fixed == editor.path("qa.dspx").read_text(encoding="utf-8")
