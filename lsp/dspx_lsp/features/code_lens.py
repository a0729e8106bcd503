"""Code lenses: "Run test" above each `test` block, "Estimate" and "Show prompt" above programs.

Contract: lenses come from the syntax tree (so they stay while a file has
semantic errors) and carry a `CommandTarget` argument `{uri, position, name}`
pointing into their declaration. By default they invoke the server's own
commands (`dspx.runTest`, `dspx.estimate`, `dspx.showPrompt`) through
`workspace/executeCommand`; with the `clientCommands` option they invoke the
VS Code extension's commands, which show the results.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types

from dspx_lang.syntax import ast
from dspx_lsp.convert import position, span_range
from dspx_lsp.guard import guarded
from dspx_lsp.query import compiled

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer

SERVER_COMMANDS = {"test": "dspx.runTest", "estimate": "dspx.estimate", "prompt": "dspx.showPrompt"}
CLIENT_COMMANDS = {
    "test": "dspx.runTestAtCursor",
    "estimate": "dspx.showEstimates",
    "prompt": "dspx.showPromptAtCursor",
}


def register(server: DspxServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_CODE_LENS, types.CodeLensOptions(resolve_provider=False))
    @guarded(lambda: [])
    def on_code_lens(params: types.CodeLensParams) -> list[types.CodeLens]:
        path, compilation, source = compiled(server, params.text_document.uri)
        names = CLIENT_COMMANDS if server.options.client_commands else SERVER_COMMANDS
        lenses = []
        for decl in compilation.model.files[path].module.decls:
            if not isinstance(decl, ast.TestDecl | ast.ProgramDecl):
                continue
            target: dict[str, Any] = {
                "uri": params.text_document.uri,
                "position": _json(position(source, decl.name.span.start)),
                "name": decl.name.text,
            }
            rng = span_range(source, decl.name.span)
            if isinstance(decl, ast.TestDecl):
                lenses.append(_lens(rng, "▶ Run test", names["test"], target))
            else:
                lenses.append(_lens(rng, "Estimate", names["estimate"], target))
                lenses.append(_lens(rng, "Show prompt", names["prompt"], target))
        return lenses


def _json(pos: types.Position) -> dict[str, int]:
    return {"line": pos.line, "character": pos.character}


def _lens(rng: types.Range, title: str, command: str, target: dict[str, Any]) -> types.CodeLens:
    return types.CodeLens(
        range=rng, command=types.Command(title=title, command=command, arguments=[target])
    )
