"""Code lenses and the server commands they invoke (`workspace/executeCommand`)."""

from __future__ import annotations

from typing import Any

import pytest
from fixtures.lm_server import FakeLMServer, Reply
from lsp_harness import Editor
from lsprotocol import types

from dspx_lang.cli import COMMANDS as CLI
from dspx_lang.prompts import FieldSpec, format_outputs


async def lenses(editor: Editor) -> list[types.CodeLens]:
    await editor.open("qa.dspx")
    result = await editor.client.text_document_code_lens_async(
        types.CodeLensParams(text_document=editor.doc("qa.dspx"))
    )
    assert result is not None
    return list(result)


async def test_lenses_on_programs_and_tests(editor: Editor) -> None:
    found = await lenses(editor)
    titles = [(lens.range.start.line, lens.command.title if lens.command else "") for lens in found]
    program_line = editor.pos("qa.dspx", "program qa").line
    test_line = editor.pos("qa.dspx", "test paris").line
    assert titles == [
        (program_line, "Estimate"),
        (program_line, "Show prompt"),
        (test_line, "▶ Run test"),
    ]
    run = found[2].command
    assert run is not None
    assert run.command == "dspx.runTest"
    assert list(run.arguments or []) == [
        {
            "uri": editor.uri("qa.dspx"),
            "position": {"line": test_line, "character": 5},
            "name": "paris",
        }
    ]


def available(kind: str) -> bool:
    return kind in {name for name, _, _ in CLI}


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        ("dspx.runTest", "test"),
        ("dspx.estimate", "estimate"),
        ("dspx.showPrompt", "prompt"),
        ("dspx.compile", "compile"),
    ],
)
async def test_lens_commands_answer_in_the_extensions_result_shape(
    editor: Editor, command: str, kind: str
) -> None:
    found = await lenses(editor)
    target: Any = next(
        (
            lens.command.arguments
            for lens in found
            if lens.command and lens.command.command == command
        ),
        None,
    )
    arguments = target or [{"uri": editor.uri("qa.dspx")}]
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=arguments)
    )
    assert isinstance(result, dict)
    assert isinstance(result["message"], str)
    assert result["severity"] in ("info", "warning", "error")
    if available(kind):
        assert isinstance(result["content"], str)
    else:
        assert result["message"] == f"`dspxc {kind}` is not available in this dspx installation"


async def test_commands_say_what_is_wrong_with_a_bad_target(editor: Editor) -> None:
    await editor.open("qa.dspx")
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="dspx.runTest", arguments=["not an object"])
    )
    assert result == {
        "title": "Test",
        "message": "expected one argument {uri, position?, name?}",
        "severity": "error",
    }


async def test_client_commands_option_uses_the_extensions_commands(vscode_editor: Editor) -> None:
    found = await lenses(vscode_editor)
    assert [lens.command.command for lens in found if lens.command] == [
        "dspx.showEstimates",
        "dspx.showPromptAtCursor",
        "dspx.runTestAtCursor",
    ]


def point_models_at(editor: Editor, server: FakeLMServer) -> None:
    shared = editor.path("shared.dspx")
    text = shared.read_text(encoding="utf-8").replace(
        'model mini = "openai/gpt-4o-mini"\n',
        f'model mini = "openai/gpt-4o-mini" {{ api_base: "{server.base_url}" }}\n',
    )
    shared.write_text(text, encoding="utf-8")


def reply(answer: str) -> str:
    fields = [FieldSpec(n, "string") for n in ("reasoning", "answer", "confidence")]
    return format_outputs("chat", fields, {"reasoning": "r", "answer": answer, "confidence": 0.9})


@pytest.mark.parametrize(("answer", "verdict"), [("Paris", "passed"), ("Lyon", "failed")])
async def test_run_test_lens_runs_the_test_against_a_real_endpoint(
    editor: Editor, lm_server: FakeLMServer, answer: str, verdict: str
) -> None:
    point_models_at(editor, lm_server)
    lm_server.script(Reply.text(reply(answer)))
    found = await lenses(editor)
    run = next(
        lens.command for lens in found if lens.command and lens.command.command == "dspx.runTest"
    )
    result = await editor.client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=run.command, arguments=run.arguments)
    )
    assert result["message"] == f"test paris {verdict}", result.get("content")
    assert result["severity"] == ("info" if verdict == "passed" else "error")
    assert len(lm_server.chat_requests) == 1
