"""End-to-end harness: the real language server process, driven by pytest-lsp.

The `editor` fixture (conftest.py) starts `python -m dspx_lang lsp` (what
`dspxc lsp` runs) on a fresh copy of `tests/lsp/workspace/` and initializes it
like an editor would, with that copy as the workspace folder. `Editor` opens
and edits documents, waits for the diagnostics of a given document version
(polling what the client received; the wait has a generous timeout so a broken
server fails instead of hanging), and finds positions by text, in UTF-16
columns as LSP counts them.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from dspx_lang.source import SourceFile

WORKSPACE = Path(__file__).parent / "workspace"
WAIT = 30.0  # seconds; only a hung server ever gets near this


def make_client() -> LanguageClient:
    """pytest-lsp's test client, also keeping every publishDiagnostics with its version."""
    client = LanguageClient(converter_factory=default_converter)
    features = dict(DEFAULT_CLIENT_FEATURES)
    published: list[types.PublishDiagnosticsParams] = []

    def publish(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
        client.diagnostics[params.uri] = params.diagnostics
        published.append(params)

    features[types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS] = publish
    register_lsp_features(client, features)
    client.published = published  # type: ignore[attr-defined]
    return client


CONFIG = ClientServerConfig(
    server_command=[sys.executable, "-m", "dspx_lang", "lsp"], client_factory=make_client
)


class Editor:
    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.texts: dict[str, str] = {}
        self.versions: dict[str, int] = {}

    def uri(self, name: str) -> str:
        return (self.root / name).as_uri()

    def path(self, name: str) -> Path:
        return self.root / name

    def text(self, name: str) -> str:
        return self.texts.get(name) or self.path(name).read_text(encoding="utf-8")

    def pos(self, name: str, needle: str, delta: int = 0, nth: int = 0) -> types.Position:
        """The LSP position `delta` characters into the `nth` occurrence of `needle`."""
        text = self.text(name)
        at = -1
        for _ in range(nth + 1):
            at = text.index(needle, at + 1)
        line, character = SourceFile(name, text).lsp_position(at + delta)
        return types.Position(line=line, character=character)

    def doc(self, name: str) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(uri=self.uri(name))

    @property
    def published(self) -> list[types.PublishDiagnosticsParams]:
        published: list[types.PublishDiagnosticsParams] = self.client.published  # type: ignore[attr-defined]
        return published

    async def until(self, check: Callable[[], Any], what: str) -> Any:
        deadline = asyncio.get_running_loop().time() + WAIT
        while asyncio.get_running_loop().time() < deadline:
            found = check()
            if found:
                return found
            await asyncio.sleep(0.01)
        raise AssertionError(f"the server never sent {what}")

    async def diagnostics(self, name: str, version: int | None = None) -> list[types.Diagnostic]:
        """The first diagnostics published for `name` at `version` (default: the current one)."""
        uri = self.uri(name)
        want = self.versions.get(name) if version is None else version

        def found() -> types.PublishDiagnosticsParams | None:
            for params in self.published:
                if params.uri == uri and params.version == want:
                    return params
            return None

        params: types.PublishDiagnosticsParams = await self.until(
            found, f"diagnostics of {name} v{want}"
        )
        return list(params.diagnostics)

    async def latest(self, name: str, after: int = 0) -> list[types.Diagnostic]:
        """The diagnostics of `name` in the first publication after the first `after` ones."""
        uri = self.uri(name)

        def found() -> types.PublishDiagnosticsParams | None:
            mine = [p for p in self.published if p.uri == uri]
            return mine[after] if len(mine) > after else None

        params: types.PublishDiagnosticsParams = await self.until(found, f"diagnostics of {name}")
        return list(params.diagnostics)

    async def eventually(
        self, name: str, check: Callable[[list[types.Diagnostic]], bool], after: int = 0
    ) -> list[types.Diagnostic]:
        """The first diagnostics published for `name` (after the first `after`) passing `check`."""
        uri = self.uri(name)

        def found() -> tuple[list[types.Diagnostic]] | None:  # a tuple: [] may be the answer
            mine = [list(p.diagnostics) for p in self.published if p.uri == uri][after:]
            return next(((d,) for d in mine if check(d)), None)

        result: tuple[list[types.Diagnostic]] = await self.until(
            found, f"the diagnostics of {name}"
        )
        return result[0]

    def count(self, name: str) -> int:
        return sum(p.uri == self.uri(name) for p in self.published)

    async def open(self, name: str, text: str | None = None) -> list[types.Diagnostic]:
        content = self.text(name) if text is None else text
        self.texts[name] = content
        self.versions[name] = 1
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri(name), language_id="dspx", version=1, text=content
                )
            )
        )
        return await self.diagnostics(name, 1)

    def send_change(self, name: str, start: int, end: int, new_text: str) -> int:
        """Replace characters [start, end) of the buffer, as an incremental change."""
        old = self.texts[name]
        source = SourceFile(name, old)
        rng = types.Range(
            start=_position(source.lsp_position(start)),
            end=_position(source.lsp_position(end)),
        )
        self.texts[name] = old[:start] + new_text + old[end:]
        self.versions[name] += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri(name), version=self.versions[name]
                ),
                content_changes=[types.TextDocumentContentChangePartial(range=rng, text=new_text)],
            )
        )
        return self.versions[name]

    async def replace(self, name: str, old: str, new: str) -> list[types.Diagnostic]:
        """Replace the first `old` in the buffer with `new`; the diagnostics that follow."""
        text = self.texts[name]
        start = text.index(old)
        version = self.send_change(name, start, start + len(old), new)
        return await self.diagnostics(name, version)


def _position(pair: tuple[int, int]) -> types.Position:
    return types.Position(line=pair[0], character=pair[1])


async def start(
    client: LanguageClient, root: Path, options: dict[str, Any] | None = None
) -> Editor:
    await client.initialize_session(
        types.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
            root_uri=root.as_uri(),
            workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="workspace")],
            initialization_options=options,
        )
    )
    return Editor(client, root)


def copy_workspace(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    shutil.copytree(WORKSPACE, root)
    return root
