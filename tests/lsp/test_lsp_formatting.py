"""Formatting over LSP: the `dspxc fmt` output, and nothing for files with syntax errors."""

from __future__ import annotations

import subprocess
import sys

from lsp_harness import Editor
from lsprotocol import types
from test_lsp_rename import apply

MESSY = 'model   m="openai/gpt-4o-mini"\nsignature S{\nin q:string\n  out a :string}\n'


async def test_formatting_edits_produce_dspxc_fmt_output(editor: Editor) -> None:
    editor.path("messy.dspx").write_text(MESSY, encoding="utf-8")
    await editor.open("messy.dspx")
    edits = await editor.client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=editor.doc("messy.dspx"),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert edits
    subprocess.run(
        [sys.executable, "-m", "dspx_lang", "fmt", str(editor.path("messy.dspx"))],
        check=True,
        capture_output=True,
    )
    assert apply(MESSY, edits) == editor.path("messy.dspx").read_text(encoding="utf-8")


async def test_formatted_file_gets_no_edits_and_broken_file_is_left_alone(editor: Editor) -> None:
    await editor.open("qa.dspx")
    subprocess.run(
        [sys.executable, "-m", "dspx_lang", "fmt", str(editor.path("qa.dspx"))],
        check=True,
        capture_output=True,
    )
    text = editor.path("qa.dspx").read_text(encoding="utf-8")
    await editor.open("qa.dspx", text)
    options = types.FormattingOptions(tab_size=2, insert_spaces=True)
    same = await editor.client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=editor.doc("qa.dspx"), options=options)
    )
    assert same is not None
    assert len(same) == 0
    await editor.open("broken.dspx", "program p {\n  step = \n")
    broken = await editor.client.text_document_formatting_async(
        types.DocumentFormattingParams(text_document=editor.doc("broken.dspx"), options=options)
    )
    assert broken is None
