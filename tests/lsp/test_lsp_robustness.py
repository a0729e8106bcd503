"""Robustness over LSP: any edit sequence leaves the server answering every feature.

The edits (a fixed pseudo-random sequence: half-typed declarations, deleted braces,
unterminated strings and comments, emoji) are sent as incremental changes; after
each one every feature is asked at a random position and must answer without an
error response, and diagnostics arrive for the latest version.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
from lsp_harness import Editor
from lsprotocol import types

from dspx_lang.source import SourceFile

PIECES = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    '"',
    '"""',
    "/*",
    "//",
    "\n",
    "step s = ",
    "var v: ",
    "program p {",
    "constraint ",
    "🇫🇷",
    'model m = "',
    "= ",
    ".",
    ":",
    "in ",
    "test t for ",
]


async def ask_everything(editor: Editor, name: str, rng: random.Random) -> None:
    text = editor.texts[name]
    line, character = SourceFile(name, text).lsp_position(rng.randrange(len(text) + 1))
    pos = types.Position(line=line, character=character)
    doc = editor.doc(name)
    whole = types.Range(
        start=types.Position(line=0, character=0), end=types.Position(line=line + 50, character=0)
    )
    client = editor.client
    await client.text_document_hover_async(types.HoverParams(text_document=doc, position=pos))
    await client.text_document_completion_async(
        types.CompletionParams(text_document=doc, position=pos)
    )
    await client.text_document_definition_async(
        types.DefinitionParams(text_document=doc, position=pos)
    )
    await client.text_document_references_async(
        types.ReferenceParams(
            text_document=doc,
            position=pos,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    await client.text_document_document_symbol_async(types.DocumentSymbolParams(text_document=doc))
    await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=doc)
    )
    await client.text_document_folding_range_async(types.FoldingRangeParams(text_document=doc))
    await client.text_document_inlay_hint_async(
        types.InlayHintParams(text_document=doc, range=whole)
    )
    await client.text_document_code_lens_async(types.CodeLensParams(text_document=doc))
    await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=doc,
            range=types.Range(start=pos, end=pos),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=doc, options=types.FormattingOptions(tab_size=2, insert_spaces=True)
        )
    )


async def test_random_edits_never_stop_the_server(editor: Editor) -> None:
    rng = random.Random(20250611)
    await editor.open("qa.dspx")
    for _ in range(60):
        text = editor.texts["qa.dspx"]
        start = rng.randrange(len(text) + 1)
        end = min(len(text), start + rng.choice([0, 0, 1, 3, 12]))
        editor.send_change("qa.dspx", start, end, rng.choice(PIECES))
        await ask_everything(editor, "qa.dspx", rng)
    diagnostics = await editor.diagnostics("qa.dspx")
    assert all(d.source == "dspx" for d in diagnostics)
    # After all that, restoring the file brings back a clean check.
    original = editor.path("qa.dspx").read_text(encoding="utf-8")
    editor.send_change("qa.dspx", 0, len(editor.texts["qa.dspx"]), original)
    assert await editor.diagnostics("qa.dspx") == []


EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.dspx")))
async def test_random_edits_over_every_example(editor: Editor, example: str) -> None:
    shutil.copytree(EXAMPLES, editor.root / "examples")
    name = f"examples/{example}"
    assert await editor.open(name) == []
    rng = random.Random(example)
    for _ in range(25):
        text = editor.texts[name]
        start = rng.randrange(len(text) + 1)
        end = min(len(text), start + rng.choice([0, 1, 4, 40]))
        editor.send_change(name, start, end, rng.choice(PIECES))
        await ask_everything(editor, name, rng)
    assert all(d.source == "dspx" for d in await editor.diagnostics(name))
    original = editor.path(name).read_text(encoding="utf-8")
    editor.send_change(name, 0, len(editor.texts[name]), original)
    assert await editor.diagnostics(name) == []


async def test_requests_for_an_unknown_file_get_empty_answers(editor: Editor) -> None:
    doc = types.TextDocumentIdentifier(uri=editor.uri("does-not-exist.dspx"))
    pos = types.Position(line=0, character=0)
    hover = await editor.client.text_document_hover_async(
        types.HoverParams(text_document=doc, position=pos)
    )
    symbols = await editor.client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=doc)
    )
    assert hover is None
    assert symbols == [] or symbols is None or len(symbols) == 0
    # ...and the server still works for real files afterwards.
    assert await editor.open("qa.dspx") == []
