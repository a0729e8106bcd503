"""Semantic tokens over LSP: names coloured by what they denote, UTF-16 encoded."""

from __future__ import annotations

from dspx_lsp.features.semantic_tokens import TOKEN_MODIFIERS, TOKEN_TYPES
from lsp_harness import Editor
from lsprotocol import types


def decode(data: list[int], text: str) -> list[tuple[str, str, set[str]]]:
    lines = text.splitlines()
    out = []
    line = char = 0
    for i in range(0, len(data), 5):
        delta_line, delta_char, length, kind, bits = data[i : i + 5]
        line += delta_line
        char = char + delta_char if delta_line == 0 else delta_char
        units = lines[line].encode("utf-16-le")
        word = units[char * 2 : (char + length) * 2].decode("utf-16-le")
        mods = {m for n, m in enumerate(TOKEN_MODIFIERS) if bits & (1 << n)}
        out.append((word, TOKEN_TYPES[kind], mods))
    return out


async def test_tokens_name_kinds_and_modifiers(editor: Editor) -> None:
    text = (
        editor.path("qa.dspx")
        .read_text(encoding="utf-8")
        .replace('expect answer == "Paris"', 'expect answer == "🇫🇷 Paris"')
    )
    await editor.open("qa.dspx", text)
    result = await editor.client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=editor.doc("qa.dspx"))
    )
    assert result is not None
    tokens = decode(list(result.data), text)
    assert ("AnswerQuestion", "interface", {"declaration"}) in tokens
    assert ("AnswerQuestion", "interface", set()) in tokens
    assert ("mini", "variable", {"readonly"}) in tokens
    assert ("cot", "type", {"defaultLibrary"}) in tokens
    assert ("temperature", "variable", {"declaration"}) in tokens
    assert ("answer", "method", {"declaration"}) in tokens
    assert ("qa", "namespace", set()) in tokens  # `test paris for qa`, after the emoji line
