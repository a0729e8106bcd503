"""Hover over LSP: declarations, types, docs, model facts, domains, steps, settings keys."""

from __future__ import annotations

from lsp_harness import Editor
from lsprotocol import types


async def hover(editor: Editor, name: str, needle: str, delta: int = 0, nth: int = 0) -> str:
    result = await editor.client.text_document_hover_async(
        types.HoverParams(
            text_document=editor.doc(name), position=editor.pos(name, needle, delta, nth)
        )
    )
    assert result is not None, f"no hover at {needle!r}"
    assert isinstance(result.contents, types.MarkupContent)
    return result.contents.value


async def test_signature_shows_doc_instructions_and_fields(editor: Editor) -> None:
    await editor.open("qa.dspx")
    text = await hover(editor, "qa.dspx", "AnswerQuestion(", 2)
    assert "signature AnswerQuestion" in text
    assert "Answers short factual questions." in text  # the /// doc
    assert "Answer the question from the context" in text  # the instructions
    assert "in `context: list<string>`" in text
    assert "out `confidence: float`" in text


async def test_model_shows_id_settings_and_prices_from_litellm(editor: Editor) -> None:
    await editor.open("qa.dspx")
    text = await hover(editor, "qa.dspx", "[mini, local]", 1)
    assert 'model mini = "openai/gpt-4o-mini"' in text
    assert "provider: openai" in text
    assert "per 1M tokens" in text
    assert "context window" in text
    local = await hover(editor, "qa.dspx", "[mini, local]", 8)
    assert "`api_base`: http://127.0.0.1:8080/v1" in local


async def test_variable_shows_domain_and_default(editor: Editor) -> None:
    await editor.open("qa.dspx")
    assert "var demos: int in 0..8 = 4" in await hover(editor, "qa.dspx", "demos: demos", 8)
    text = await hover(editor, "qa.dspx", "var reasoning", 5)
    assert "var reasoning: [predict, cot] = cot" in text


async def test_step_shows_module_signature_model_and_outputs(editor: Editor) -> None:
    await editor.open("qa.dspx")
    text = await hover(editor, "qa.dspx", "step answer", 6)
    assert "The one LM call." in text
    assert "signature: `AnswerQuestion`" in text
    assert "model: `mini`" in text
    assert "`reasoning: string`" in text  # the variable's members include cot


async def test_field_of_an_imported_enum_and_its_values(editor: Editor) -> None:
    text = editor.text("qa.dspx").replace(
        "  out answer: string\n\n", "  out answer: string\n  out topic: Topic\n\n", 1
    )
    text = text.replace(
        "return { answer: answer.answer }", 'return { answer: answer.answer, topic: "billing" }'
    )
    await editor.open("qa.dspx", text)
    shown = await hover(editor, "qa.dspx", "out topic: Topic", 12)
    assert "Support ticket topics." in shown  # doc from shared.dspx
    assert "- `billing`: charges, refunds, invoices" in shown


async def test_settings_key_and_builtin_have_their_docs(editor: Editor) -> None:
    await editor.open("qa.dspx")
    assert "sampling temperature" in await hover(
        editor, "qa.dspx", "    temperature: temperature", 6
    )
    assert "chain of thought" in await hover(editor, "qa.dspx", "[predict, cot]", 10)
    assert "number of configurations" in await hover(editor, "qa.dspx", "trials 40", 1)


async def test_hover_range_is_utf16_after_an_emoji(editor: Editor) -> None:
    text = editor.text("qa.dspx").replace(
        '  expect answer == "Paris"',
        '  input { question: "🇫🇷 ok", context: [] }\n  expect answer == "Paris"',
    )
    await editor.open("qa.dspx", text)
    pos = editor.pos("qa.dspx", "context: [] }", 0, nth=0)
    line = editor.text("qa.dspx").splitlines()[pos.line]
    assert pos.character == line.index("context: [] }") + 2  # two surrogate pairs before it
    result = await editor.client.text_document_hover_async(
        types.HoverParams(text_document=editor.doc("qa.dspx"), position=pos)
    )
    assert result is not None
    assert result.range is not None
    assert result.range.start == pos
    assert isinstance(result.contents, types.MarkupContent)
    assert "in context: list<string>" in result.contents.value


async def test_nothing_to_show_on_whitespace(editor: Editor) -> None:
    await editor.open("qa.dspx")
    result = await editor.client.text_document_hover_async(
        types.HoverParams(
            text_document=editor.doc("qa.dspx"), position=types.Position(line=1, character=0)
        )
    )
    assert result is None


async def test_steps_and_programs_show_estimates_once_made(editor: Editor) -> None:
    await editor.open("qa.dspx")
    await editor.eventually("qa.dspx", lambda found: found == [], after=1)  # the later passes
    step = await hover(editor, "qa.dspx", "step answer", 6)
    assert "**Estimate** (per program call)" in step
    assert "prompt +" in step
    assert "to `mini`" in step
    program = await hover(editor, "qa.dspx", "program qa", 9)
    assert "**Estimates** (per call)" in program
    assert "over the feasible space" in program
