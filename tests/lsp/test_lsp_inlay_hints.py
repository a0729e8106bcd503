"""Inlay hints over LSP: implicit defaults and models (estimates when the compiler has them)."""

from __future__ import annotations

from lsp_harness import Editor
from lsprotocol import types


async def test_hints_show_implicit_defaults_and_the_default_model(editor: Editor) -> None:
    text = (
        editor.path("qa.dspx")
        .read_text(encoding="utf-8")
        .replace("var demos: int in 0..8 = 4", "var demos: int in 2..8")
        .replace("var adapter: [chat, json] = chat", "var adapter: [json, chat]")
        .replace("    model: model\n", "")
    )
    await editor.open("qa.dspx", text)
    lines = text.splitlines()
    result = await editor.client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=editor.doc("qa.dspx"),
            range=types.Range(
                start=types.Position(line=0, character=0),
                end=types.Position(line=len(lines), character=0),
            ),
        )
    )
    assert result is not None
    shown = {(h.position.line, h.label) for h in result}
    demos = next(n for n, line in enumerate(lines) if "var demos" in line)
    adapter = next(n for n, line in enumerate(lines) if "var adapter" in line)
    step = next(n for n, line in enumerate(lines) if "step answer" in line)
    assert (demos, "= 2") in shown
    assert (adapter, "= json") in shown
    assert (step, "model: mini") in shown
    hint = next(h for h in result if h.label == "= 2")
    assert hint.position.character == len(lines[demos])  # right after the domain


async def test_hints_are_limited_to_the_requested_range(editor: Editor) -> None:
    text = (
        editor.path("qa.dspx")
        .read_text(encoding="utf-8")
        .replace("var demos: int in 0..8 = 4", "var demos: int in 2..8")
    )
    await editor.open("qa.dspx", text)
    result = await editor.client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=editor.doc("qa.dspx"),
            range=types.Range(
                start=types.Position(line=0, character=0), end=types.Position(line=3, character=0)
            ),
        )
    )
    assert result == [] or result is None or len(result) == 0


async def test_estimate_hints_after_the_passes(editor: Editor) -> None:
    await editor.open("qa.dspx")
    await editor.eventually("qa.dspx", lambda found: found == [], after=1)  # the later passes
    lines = editor.texts["qa.dspx"].splitlines()
    result = await editor.client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=editor.doc("qa.dspx"),
            range=types.Range(
                start=types.Position(line=0, character=0),
                end=types.Position(line=len(lines), character=0),
            ),
        )
    )
    assert result is not None
    program = next(n for n, line in enumerate(lines) if line.startswith("program qa"))
    step = next(n for n, line in enumerate(lines) if "step answer" in line)
    labels = {h.position.line: str(h.label) for h in result}
    assert labels[program].startswith("≈ $")
    assert labels[program].endswith("per call")
    assert labels[step].startswith("≈ $")
