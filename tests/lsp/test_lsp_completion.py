"""Completion over LSP: parser keywords, names of the right kind, fields, settings, model ids."""

from __future__ import annotations

from lsp_harness import Editor
from lsprotocol import types

from dspx_lang.source import SourceFile


async def complete(editor: Editor, name: str, text: str, marker: str = "|") -> types.CompletionList:
    """Open `text` (with `marker` at the cursor, removed) and complete there."""
    at = text.index(marker)
    content = text[:at] + text[at + len(marker) :]
    await editor.open(name, content)
    line, character = SourceFile(name, content).lsp_position(at)
    pos = types.Position(line=line, character=character)
    result = await editor.client.text_document_completion_async(
        types.CompletionParams(text_document=editor.doc(name), position=pos)
    )
    assert isinstance(result, types.CompletionList)
    return result


def labels(result: types.CompletionList) -> list[str]:
    return [item.label for item in result.items]


def qa_with(editor: Editor, old: str, new: str) -> str:
    text = editor.path("qa.dspx").read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


async def test_keywords_come_from_the_parser(editor: Editor) -> None:
    result = await complete(
        editor, "qa.dspx", qa_with(editor, "  var reasoning", "  |\n  var reasoning")
    )
    assert set(labels(result)) == {
        "in",
        "out",
        "var",
        "step",
        "return",
        "constraint",
        "objective",
        "budget",
        "optimize",
    }
    top = await complete(editor, "new.dspx", "|")
    assert set(labels(top)) == {
        "import",
        "model",
        "enum",
        "class",
        "signature",
        "tool",
        "dataset",
        "program",
        "test",
    }


async def test_module_kinds_and_module_variables_after_step_equals(editor: Editor) -> None:
    result = await complete(
        editor,
        "qa.dspx",
        qa_with(editor, "= reasoning AnswerQuestion", "= |reasoning AnswerQuestion"),
    )
    assert {"predict", "cot", "pot", "react", "reasoning"} <= set(labels(result))
    assert "mini" not in labels(result)


async def test_fields_after_step_dot_include_what_the_module_adds(editor: Editor) -> None:
    result = await complete(
        editor, "qa.dspx", qa_with(editor, "answer: answer.answer", "answer: answer.|answer")
    )
    assert labels(result) == ["reasoning", "answer", "confidence"]
    item = result.items[1]
    assert isinstance(item.text_edit, types.TextEdit)
    assert item.text_edit.range.start == item.text_edit.range.end  # nothing typed after the dot yet


async def test_step_setting_keys_not_yet_written(editor: Editor) -> None:
    result = await complete(
        editor,
        "qa.dspx",
        qa_with(editor, "    adapter: adapter\n", "    adapter: adapter\n    |\n"),
    )
    names = labels(result)
    assert {"max_tokens", "instructions", "max_iters", "tools"} <= set(names)
    assert not {"model", "temperature", "demos", "adapter"} & set(names)
    item = next(i for i in result.items if i.label == "max_tokens")
    assert isinstance(item.text_edit, types.TextEdit)
    assert item.text_edit.new_text == "max_tokens: "


async def test_model_setting_offers_models_and_model_variables(editor: Editor) -> None:
    result = await complete(
        editor, "qa.dspx", qa_with(editor, "    model: model", "    model: |model")
    )
    assert {"mini", "local", "model"} <= set(labels(result))
    assert "AnswerQuestion" not in labels(result)


async def test_model_ids_inside_a_model_string(editor: Editor) -> None:
    text = qa_with(editor, "dataset qa_train", 'model fresh = "gpt-4o-mi|"\n\ndataset qa_train')
    result = await complete(editor, "qa.dspx", text)
    assert "openai/gpt-4o-mini" in labels(result)
    assert all("gpt-4o-mi" in label for label in labels(result))
    item = next(i for i in result.items if i.label == "openai/gpt-4o-mini")
    assert isinstance(item.text_edit, types.TextEdit)
    line = editor.texts["qa.dspx"].splitlines()[item.text_edit.range.start.line]
    assert line[item.text_edit.range.start.character :].startswith('gpt-4o-mi"')


async def test_enum_values_after_the_enum_name(editor: Editor) -> None:
    text = qa_with(
        editor, "  var adapter: [chat, json] = chat", "  var topic: [Topic.billing, Topic.|]"
    )
    result = await complete(editor, "qa.dspx", text)
    assert labels(result) == ["billing", "shipping", "other"]


async def test_domain_members_of_the_compared_variable_in_constraints(editor: Editor) -> None:
    text = qa_with(
        editor, "constraint reasoning == cot =>", "constraint model == | and reasoning == cot =>"
    )
    result = await complete(editor, "qa.dspx", text)
    assert labels(result)[:2] == ["mini", "local"]
    text = qa_with(
        editor,
        "constraint reasoning == cot =>",
        "constraint adapter in [json, |] and reasoning == cot =>",
    )
    assert labels(await complete(editor, "qa.dspx", text))[:2] == ["chat", "json"]


async def test_signatures_after_the_module_and_types_after_a_colon(editor: Editor) -> None:
    text = qa_with(editor, "= reasoning AnswerQuestion", "= reasoning |AnswerQuestion")
    assert labels(await complete(editor, "qa.dspx", text)) == ["AnswerQuestion"]
    text = qa_with(
        editor, "  in question: string\n  in context", "  in question: |string\n  in context"
    )
    result = labels(await complete(editor, "qa.dspx", text))
    assert {"string", "int", "list", "Topic", "Citation"} <= set(result)


async def test_completion_after_an_emoji_replaces_the_typed_name(editor: Editor) -> None:
    text = qa_with(editor, '  expect answer == "Paris"', '  expect answer == "Paris 🇫🇷" or ans|')
    result = await complete(editor, "qa.dspx", text)
    item = next(i for i in result.items if i.label == "answer")
    assert isinstance(item.text_edit, types.TextEdit)
    rng = item.text_edit.range
    line = editor.texts["qa.dspx"].splitlines()[rng.start.line]
    utf16 = line.encode("utf-16-le")
    assert utf16[rng.start.character * 2 : rng.end.character * 2].decode("utf-16-le") == "ans"


async def test_nothing_inside_a_comment(editor: Editor) -> None:
    text = qa_with(editor, "dataset qa_train", "// a comment about st|\ndataset qa_train")
    assert labels(await complete(editor, "qa.dspx", text)) == []
