"""The dspx language server: pygls wiring, options, and the table of features.

Contract: `build()` returns a server with document sync and every module of
`FEATURES` registered; `serve()` runs it on stdio until the client exits.
Positions are UTF-16 (the LSP default) whatever encodings the client offers,
because `SourceFile` converts offsets to UTF-16 columns. Handlers are thin:
each feature module converts at the boundary (`convert`) and computes on the
compiler's `Compilation`; each handler is `guarded`, so one failing feature
answers with an empty result and the server keeps running.

Initialization options (all optional):
  debounceMs      edits closer together than this are analysed once, this
                  long after the last of them (default 20; see `sync`)
  passesDelayMs   quiet time before the later passes (space analysis,
                  estimates) run after an edit (default 300)
  clientCommands  true when the client registers the VS Code extension's
                  commands; code lenses then invoke `dspx.runTestAtCursor`,
                  `dspx.showEstimates`, `dspx.showPromptAtCursor`, which show
                  results, instead of the server commands directly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.protocol.language_server import lsp_method

from dspx_lang import __version__
from dspx_lsp import sync
from dspx_lsp.convert import uri_to_path
from dspx_lsp.documents import Documents
from dspx_lsp.features import (
    code_actions,
    code_lens,
    commands,
    completion,
    definition,
    diagnostics,
    folding,
    formatting,
    hover,
    inlay_hints,
    rename,
    semantic_tokens,
    symbols,
)

DEFAULT_DEBOUNCE = 0.020
DEFAULT_PASSES_DELAY = 0.300

FEATURES: tuple[Callable[[DspxServer], None], ...] = (
    sync.register,
    hover.register,
    completion.register,
    definition.register,
    rename.register,
    symbols.register,
    formatting.register,
    semantic_tokens.register,
    folding.register,
    code_actions.register,
    inlay_hints.register,
    code_lens.register,
    commands.register,
)


@dataclass(slots=True)
class Options:
    debounce: float = DEFAULT_DEBOUNCE
    passes_delay: float = DEFAULT_PASSES_DELAY
    client_commands: bool = False

    @classmethod
    def parse(cls, raw: object) -> Options:
        options = cls()
        if not isinstance(raw, dict):
            return options
        options.debounce = _seconds(raw.get("debounceMs"), options.debounce)
        options.passes_delay = _seconds(raw.get("passesDelayMs"), options.passes_delay)
        options.client_commands = raw.get("clientCommands") is True
        return options


def _seconds(milliseconds: object, default: float) -> float:
    if isinstance(milliseconds, int | float) and not isinstance(milliseconds, bool):
        return float(milliseconds) / 1000 if milliseconds >= 0 else default
    return default


class DspxProtocol(LanguageServerProtocol):
    """pygls's protocol, with `Documents` as the only copy of open texts: pygls's own
    workspace copy is not kept (updating it cost ~5 ms per keystroke on 2,000 lines)."""

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(
        self, params: types.DidOpenTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield self.fm.features[types.TEXT_DOCUMENT_DID_OPEN], (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield self.fm.features[types.TEXT_DOCUMENT_DID_CHANGE], (params,), None

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Generator[Any, Any, None]:
        yield self.fm.features[types.TEXT_DOCUMENT_DID_CLOSE], (params,), None

    @lsp_method(types.INITIALIZE)
    def lsp_initialize(
        self, params: types.InitializeParams
    ) -> Generator[Any, Any, types.InitializeResult]:
        # Offsets become UTF-16 columns in SourceFile; never negotiate UTF-8 or UTF-32.
        if params.capabilities.general is not None:
            params.capabilities.general.position_encodings = None
        result: types.InitializeResult = yield from super().lsp_initialize(params)
        return result


class DspxServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "dspx",
            __version__,
            protocol_cls=DspxProtocol,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
        )
        self.documents = Documents()
        self.options = Options()
        self.scheduler = sync.Scheduler(self)
        self.publisher = diagnostics.Publisher(self)

    def refresh_inlay_hints(self) -> None:
        """Ask the client to re-request inlay hints, if it can."""
        workspace = self.client_capabilities.workspace
        hints = workspace.inlay_hint if workspace else None
        if hints is not None and hints.refresh_support:
            self.workspace_inlay_hint_refresh(None)


def build() -> DspxServer:
    server = DspxServer()

    @server.feature(types.INITIALIZE)
    def initialize(params: types.InitializeParams) -> None:
        server.options = Options.parse(params.initialization_options)
        folders = [uri_to_path(f.uri) for f in params.workspace_folders or []]
        if not folders and params.root_uri:
            folders = [uri_to_path(params.root_uri)]
        server.documents.folders = folders

    for register in FEATURES:
        register(server)
    return server


def serve() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    build().start_io()
