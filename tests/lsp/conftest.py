"""Fixtures for the language-server tests: `editor` drives a real `dspxc lsp` process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsp_harness import CONFIG, Editor, copy_workspace, start
from pytest_lsp import LanguageClient


@pytest_lsp.fixture(config=CONFIG)
async def client(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    lsp_client.editor = await start(lsp_client, copy_workspace(tmp_path))  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def editor(client: LanguageClient) -> Editor:
    found: Editor = client.editor  # type: ignore[attr-defined]
    return found


@pytest_lsp.fixture(config=CONFIG)
async def vscode_client(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    """A server initialized the way the VS Code extension should: `clientCommands` on."""
    root = copy_workspace(tmp_path)
    lsp_client.editor = await start(lsp_client, root, {"clientCommands": True})  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def vscode_editor(vscode_client: LanguageClient) -> Editor:
    found: Editor = vscode_client.editor  # type: ignore[attr-defined]
    return found
