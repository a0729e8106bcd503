"""Diagnostics over LSP: the same as `dspxc check`, on open, change and save, across imports."""

from __future__ import annotations

import json
import subprocess
import sys

from lsp_harness import Editor
from lsprotocol import types


def check_json(editor: Editor, name: str) -> list[dict[str, object]]:
    done = subprocess.run(
        [sys.executable, "-m", "dspx_lang", "check", "--format", "json", str(editor.path(name))],
        capture_output=True,
        text=True,
        check=False,
    )
    data: list[dict[str, object]] = json.loads(done.stdout)
    return data


def as_check_json(d: types.Diagnostic) -> tuple[object, ...]:
    r = d.range
    return (d.code, (r.start.line, r.start.character, r.end.line, r.end.character), d.message)


def from_check_json(item: dict[str, object]) -> tuple[object, ...]:
    rng = item["range"]
    assert isinstance(rng, dict)
    start, end = rng["start"], rng["end"]
    message = str(item["message"]) + (f"; {item['note']}" if "note" in item else "")
    return (
        item["code"],
        (start["line"], start["character"], end["line"], end["character"]),
        message,
    )


BROKEN = """import "shared.dspx"

signature Ask {
  in question: string
  out answer: string
}

program p {
  in question: string
  out answer: string
  var temperature: float in 0.0..1.0 = 3.5
  step first = cot Ask(quesion) { model: mini }
  step again = predict Ask() { model: mini }
  return { answer: first.answer }
}

model mini = "openai/gpt-4o-mini"
"""


async def test_open_publishes_exactly_what_dspxc_check_reports(editor: Editor) -> None:
    editor.path("broken.dspx").write_text(BROKEN, encoding="utf-8")
    published = await editor.open("broken.dspx")
    expected = [
        from_check_json(i)
        for i in check_json(editor, "broken.dspx")
        if str(i["file"]).endswith("broken.dspx")
    ]
    assert sorted(map(as_check_json, published)) == sorted(expected)
    codes = {d.code for d in published}
    assert {"E101", "E201", "E300"} <= codes
    assert all(d.source == "dspx" for d in published)


async def test_related_locations_point_into_the_imported_file(editor: Editor) -> None:
    editor.path("broken.dspx").write_text(BROKEN, encoding="utf-8")
    published = await editor.open("broken.dspx")
    duplicate = next(d for d in published if d.code == "E101")
    related = duplicate.related_information or []
    assert [r.location.uri for r in related] == [editor.uri("shared.dspx")]
    assert related[0].location.range.start.line == 2  # `model mini` in shared.dspx


async def test_an_edit_publishes_for_its_version_with_the_note(editor: Editor) -> None:
    assert await editor.open("qa.dspx") == []
    after = await editor.replace("qa.dspx", "question: question)", "question: quesion)")
    assert [(d.code, d.message) for d in after] == [
        ("E100", "undefined input 'quesion'; did you mean 'question'?")
    ]
    fixed = await editor.replace("qa.dspx", "quesion", "question")
    assert fixed == []


async def test_columns_count_utf16_after_emoji(editor: Editor) -> None:
    await editor.open("qa.dspx")
    text = '  expect answer == "Paris 🇫🇷" and nope == 1\n'
    diagnostics = await editor.replace("qa.dspx", '  expect answer == "Paris"\n', text)
    error = next(d for d in diagnostics if d.code == "E501" or "nope" in d.message)
    line = editor.text("qa.dspx").splitlines()[error.range.start.line]
    # Each flag half is 2 UTF-16 units, so the column is past `nope` in UTF-16, not code points.
    prefix = line[: line.index("nope")]
    assert error.range.start.character == len(prefix.encode("utf-16-le")) // 2
    assert error.range.start.character == line.index("nope") + 2


async def test_changing_an_imported_file_republishes_its_importers(editor: Editor) -> None:
    await editor.open("qa.dspx")
    await editor.open("shared.dspx")
    before = editor.count("qa.dspx")
    await editor.replace("shared.dspx", "model mini =", "model small =")
    qa = await editor.eventually(
        "qa.dspx", lambda found: any("'mini'" in d.message for d in found), after=before
    )
    assert {d.code for d in qa} == {"E100"}


async def test_diagnostics_of_an_imported_file_are_published_and_cleared(editor: Editor) -> None:
    shared = editor.text("shared.dspx").replace("tokens_per_second: 40", "tokens_per_secnd: 40")
    editor.path("shared.dspx").write_text(shared, encoding="utf-8")
    await editor.open("qa.dspx")
    imported = await editor.latest("shared.dspx")
    assert [d.code for d in imported] == ["E202"]
    before = editor.count("shared.dspx")
    await editor.replace("qa.dspx", 'import "shared.dspx"', "")
    assert await editor.eventually("shared.dspx", lambda found: not found, after=before) == []


async def test_a_burst_of_changes_ends_with_the_last_version(editor: Editor) -> None:
    await editor.open("qa.dspx")
    at = editor.texts["qa.dspx"].index("question: question)") + len("question: ")
    editor.send_change("qa.dspx", at, at + len("question"), "")
    for char in "quesion":  # typed quickly: one change per character, no waiting
        editor.send_change("qa.dspx", at, at, char)
        at += 1
    final = await editor.diagnostics("qa.dspx")
    assert editor.versions["qa.dspx"] == 9
    assert [(d.code, d.message.split(";")[0]) for d in final] == [
        ("E100", "undefined input 'quesion'")
    ]
    versions = [p.version for p in editor.published if p.uri == editor.uri("qa.dspx")]
    assert versions == sorted(versions)  # never an older analysis after a newer one


async def test_save_republishes(editor: Editor) -> None:
    await editor.open("qa.dspx")
    before = editor.count("qa.dspx")
    editor.client.text_document_did_save(
        types.DidSaveTextDocumentParams(text_document=editor.doc("qa.dspx"))
    )
    assert await editor.latest("qa.dspx", after=before) == []


async def test_closing_a_file_clears_its_diagnostics(editor: Editor) -> None:
    await editor.open("qa.dspx")
    await editor.replace("qa.dspx", "question: question)", "question: quesion)")
    before = editor.count("qa.dspx")
    editor.client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=editor.doc("qa.dspx"))
    )
    assert await editor.eventually("qa.dspx", lambda found: not found, after=before) == []


async def test_creating_a_missing_import_clears_the_error(editor: Editor) -> None:
    text = 'import "later.dspx"\n\nprogram p {\n  in x: string\n}\n'
    published = await editor.open("uses_later.dspx", text)
    assert [d.code for d in published] == ["E103"]
    editor.path("later.dspx").write_text('model m = "openai/gpt-4o-mini"\n', encoding="utf-8")
    before = editor.count("uses_later.dspx")
    editor.client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=editor.uri("later.dspx"), type=types.FileChangeType.Created)
            ]
        )
    )
    cleared = await editor.eventually("uses_later.dspx", lambda found: not found, after=before)
    assert cleared == []


UNUSED = (
    "  var adapter: [chat, json] = chat\n",
    "  var adapter: [chat, json] = chat\n  var knob: int in 1..3\n",
)


async def test_later_passes_publish_what_dspxc_check_reports(editor: Editor) -> None:
    text = editor.path("qa.dspx").read_text(encoding="utf-8").replace(*UNUSED)
    editor.path("qa.dspx").write_text(text, encoding="utf-8")
    await editor.open("qa.dspx")
    full = await editor.eventually("qa.dspx", bool)
    expected = [from_check_json(i) for i in check_json(editor, "qa.dspx")]
    assert sorted(map(as_check_json, full)) == sorted(expected)
    assert [d.code for d in full] == ["W307"]
    assert list(full[0].tags or []) == [types.DiagnosticTag.Unnecessary]


async def test_later_warnings_are_carried_through_edits_until_rechecked(editor: Editor) -> None:
    text = editor.path("qa.dspx").read_text(encoding="utf-8").replace(*UNUSED)
    await editor.open("qa.dspx", text)
    [warning] = await editor.eventually("qa.dspx", bool)
    # An edit above the warning: the immediate publication still has it, moved one line down.
    version = editor.send_change("qa.dspx", 0, 0, "// a new first line\n")
    [carried] = await editor.diagnostics("qa.dspx", version)
    assert carried.code == "W307"
    assert carried.range.start.line == warning.range.start.line + 1
    assert carried.range.start.character == warning.range.start.character
    # Editing the warned text itself drops it until the passes run again.
    at = editor.texts["qa.dspx"].index("knob")
    version = editor.send_change("qa.dspx", at, at + 4, "kno")
    assert await editor.diagnostics("qa.dspx", version) == []
    again = await editor.eventually("qa.dspx", bool, after=editor.count("qa.dspx") - 1)
    assert [(d.code, "'kno'" in d.message) for d in again] == [("W307", True)]
