"""Document synchronisation and debounced re-analysis, in two stages.

Contract: open/change/close keep `Documents` current (incremental changes are
applied with the buffer's own UTF-16 position mapping). Re-analysis is
debounced per document with a leading edge: a change that comes after a quiet
spell (no change to that document for `debounce` seconds) is analysed at once,
so a typist sees diagnostics with no added delay; a change that follows
another within `debounce` cancels the pending analysis and waits `debounce`
(the last text wins), so a burst of changes is analysed once, at its end.
That analysis (parse and semantic checks) publishes the document's
diagnostics, then those of the open documents that import it, with the later
passes' previous warnings carried along. The later passes (space analysis,
estimates) run once the document has been quiet for `passes_delay` seconds, and
publish again: then the diagnostics are exactly those of `dspxc check`.
Opening and saving publish at once and run the later passes right after. A
failure while publishing is logged, never raised.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lsp.convert import uri_to_path
from dspx_lsp.guard import guarded, log

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer


class Scheduler:
    def __init__(self, server: DspxServer) -> None:
        self.server = server
        self.pending: dict[str, asyncio.TimerHandle] = {}
        self.pending_full: dict[str, asyncio.TimerHandle] = {}
        self.last_change: dict[str, float] = {}

    def schedule(self, path: str, delay: float | None = None) -> None:
        """Analyse `path` after `delay`, or after the debounce rule (see the module doc)."""
        _cancel(self.pending, path)
        loop = asyncio.get_running_loop()
        now = loop.time()
        quiet = now - self.last_change.get(path, float("-inf"))
        self.last_change[path] = now
        debounce = self.server.options.debounce
        wait = delay if delay is not None else (0.0 if quiet >= debounce else debounce)
        self.pending[path] = loop.call_later(wait, self.run, path, delay is not None)

    def cancel(self, path: str) -> None:
        _cancel(self.pending, path)
        _cancel(self.pending_full, path)

    def run(self, path: str, at_once: bool = False) -> None:
        """Publish `path` and its open importers now; their later passes after a quiet spell."""
        self.pending.pop(path, None)
        documents = self.server.documents
        targets = [path] if path in documents.buffers else []
        targets += [p for p in documents.importers(path) if p not in targets]
        loop = asyncio.get_running_loop()
        wait = 0.0 if at_once else self.server.options.passes_delay
        for target in targets:
            self._publish(target, full=False)
            _cancel(self.pending_full, target)
            self.pending_full[target] = loop.call_later(wait, self.run_full, target)

    def run_full(self, path: str) -> None:
        self.pending_full.pop(path, None)
        self._publish(path, full=True)
        self.server.refresh_inlay_hints()  # they show the estimates just made

    def _publish(self, path: str, full: bool) -> None:
        try:
            self.server.publisher.publish(path, full=full)
        except Exception:
            log.exception("dspx: publishing diagnostics for %s failed", path)


def _cancel(timers: dict[str, asyncio.TimerHandle], path: str) -> None:
    handle = timers.pop(path, None)
    if handle is not None:
        handle.cancel()


def register(server: DspxServer) -> None:
    documents = server.documents
    scheduler = server.scheduler

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    @guarded(lambda: None)
    def did_open(params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        path = documents.open(doc.uri, doc.text, doc.version)
        scheduler.schedule(path, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    @guarded(lambda: None)
    def did_change(params: types.DidChangeTextDocumentParams) -> None:
        doc = params.text_document
        path = documents.change(doc.uri, params.content_changes, doc.version)
        scheduler.schedule(path)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    @guarded(lambda: None)
    def did_save(params: types.DidSaveTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        documents.disk_changed(path)  # datasets and imports may have changed with it
        scheduler.schedule(path, 0.0)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    @guarded(lambda: None)
    def did_close(params: types.DidCloseTextDocumentParams) -> None:
        path = uri_to_path(params.text_document.uri)
        importers = documents.importers(path)
        documents.close(params.text_document.uri)
        scheduler.cancel(path)
        for importer in importers:
            scheduler.schedule(importer, 0.0)
        server.publisher.closed(path)

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    @guarded(lambda: None)
    def did_change_watched(params: types.DidChangeWatchedFilesParams) -> None:
        for event in params.changes:
            documents.disk_changed(uri_to_path(event.uri))
        for path in documents.buffers:
            scheduler.schedule(path)
