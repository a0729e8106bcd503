"""Server commands behind the editor's buttons: run a test, estimate, show a prompt, compile.

Contract: each command takes one `CommandTarget` argument
`{uri, position?, name?}` (see vscode-extension/src/commands.ts) and runs the
matching `dspxc` command (`test`, `estimate`, `prompt`, `compile`) in a
subprocess of the same Python - so an LM call or a crash never touches the
server - and answers `{title, content, language, message, severity}`: the
command's output as a document, and a one-line verdict. The program, step
or test comes from `name` or from the declaration at `position`. Files are
read from disk: when the buffer has unsaved changes the verdict says so. A
`dspxc` without that command, a bad target or a timeout is a message with
severity "warning" or "error", never an exception.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from dspx_lang.source import SourceFile
from dspx_lang.syntax import ast
from dspx_lsp.convert import uri_to_path
from dspx_lsp.guard import guarded

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer

Result = dict[str, Any]
TIMEOUTS = {"test": 900.0, "estimate": 120.0, "prompt": 120.0, "compile": 120.0}
COMMANDS = ("dspx.runTest", "dspx.estimate", "dspx.showPrompt", "dspx.compile")
D = TypeVar("D", bound=ast.Decl)


@dataclass(frozen=True, slots=True)
class Target:
    path: str
    offset: int | None
    name: str | None


def register(server: DspxServer) -> None:
    @server.command("dspx.runTest")
    @guarded(lambda: _failed("Run test"))
    async def run_test(*args: Any) -> Result:
        return await _run(server, "test", args)

    @server.command("dspx.estimate")
    @guarded(lambda: _failed("Estimate"))
    async def estimate(*args: Any) -> Result:
        return await _run(server, "estimate", args)

    @server.command("dspx.showPrompt")
    @guarded(lambda: _failed("Prompt"))
    async def show_prompt(*args: Any) -> Result:
        return await _run(server, "prompt", args)

    @server.command("dspx.compile")
    @guarded(lambda: _failed("Compile"))
    async def compile_file(*args: Any) -> Result:
        return await _run(server, "compile", args)


def _failed(title: str) -> Result:
    return {
        "title": title,
        "message": f"{title} failed; see the dspx output panel",
        "severity": "error",
    }


def _target(server: DspxServer, args: tuple[Any, ...]) -> Target | None:
    raw = args[0] if args else None
    if not isinstance(raw, dict) or not isinstance(raw.get("uri"), str):
        return None
    path = uri_to_path(raw["uri"])
    offset = None
    pos = raw.get("position")
    source = server.documents.source(path)
    if isinstance(pos, dict) and source is not None:
        line, character = pos.get("line"), pos.get("character")
        if isinstance(line, int) and isinstance(character, int):
            offset = source.offset_at_lsp(line, character)
    name = raw.get("name") if isinstance(raw.get("name"), str) else None
    return Target(path, offset, name)


def cli_arguments(kind: str, target: Target, module: ast.Module) -> list[str] | str:
    """The `dspxc` arguments for a command, or a message saying what is missing."""
    path = target.path
    if kind == "compile":
        return ["compile", path, "-o", os.path.join(os.path.dirname(path) or ".", "build")]
    if kind == "test":
        test = _named(module, ast.TestDecl, target)
        if test is None:
            return "no test here: put the cursor inside a `test NAME for PROGRAM { ... }` block"
        return ["test", path, "-k", test.name.text]
    program = _named(module, ast.ProgramDecl, target)
    if kind == "estimate":
        return ["estimate", path, *(["--program", program.name.text] if program else [])]
    if program is None:
        return "no program here: put the cursor inside a `program NAME { ... }` block"
    step = next(
        (
            s
            for s in program.steps()
            if target.offset is not None and s.span.start <= target.offset <= s.span.end
        ),
        None,
    )
    return [
        "prompt",
        path,
        "--program",
        program.name.text,
        *(["--step", step.name.text] if step else []),
    ]


def _named(module: ast.Module, kind: type[D], target: Target) -> D | None:
    decls = [d for d in module.decls if isinstance(d, kind)]
    if target.name is not None:
        named = next((d for d in decls if d.name.text == target.name), None)
        if named is not None:
            return named
    if target.offset is not None:
        return next((d for d in decls if d.span.start <= target.offset <= d.span.end), None)
    return None


async def _run(server: DspxServer, kind: str, args: tuple[Any, ...]) -> Result:
    title = {"test": "Test", "estimate": "Estimate", "prompt": "Prompt", "compile": "Compile"}[kind]
    target = _target(server, args)
    if target is None:
        return {
            "title": title,
            "message": "expected one argument {uri, position?, name?}",
            "severity": "error",
        }
    from dspx_lang.cli import COMMANDS as CLI

    if kind not in {name for name, _, _ in CLI}:
        return {
            "title": title,
            "message": f"`dspxc {kind}` is not available in this dspx installation",
            "severity": "warning",
        }
    source = server.documents.source(target.path)
    if source is None:
        return {"title": title, "message": f"cannot read {target.path}", "severity": "error"}
    planned = cli_arguments(kind, target, server.documents.cache.parse(source).module)
    if isinstance(planned, str):
        return {"title": title, "message": planned, "severity": "warning"}
    code, output = await run_cli(planned, os.path.dirname(target.path) or ".", TIMEOUTS[kind])
    verdict = _verdict(kind, planned, code)
    if _unsaved(target.path, source):
        verdict += " (for the saved file: save to include your unsaved changes)"
    return {
        "title": f"{title} {planned[-1] if kind == 'test' else os.path.basename(target.path)}",
        "content": output,
        "language": "plaintext",
        "message": verdict,
        "severity": "info" if code == 0 else "error",
    }


def _verdict(kind: str, planned: list[str], code: int | None) -> str:
    if code is None:
        return f"dspxc {kind} timed out after {TIMEOUTS[kind]:.0f} s"
    if kind == "test":
        return f"test {planned[-1]} {'passed' if code == 0 else 'failed'}"
    return f"dspxc {kind} {'finished' if code == 0 else f'failed (exit code {code})'}"


def _unsaved(path: str, source: SourceFile) -> bool:
    try:
        return SourceFile.read(path).text != source.text
    except OSError:
        return True


async def run_cli(arguments: list[str], cwd: str, timeout: float) -> tuple[int | None, str]:
    """Run `dspxc ARGUMENTS` with this Python; (exit code or None on timeout, output)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dspx_lang",
        *arguments,
        cwd=cwd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        # No terminal: tell rich how wide the result document may be, so tables don't wrap.
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        return None, ""
    return process.returncode, output.decode("utf-8", errors="replace")
