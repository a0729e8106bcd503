"""Open buffers, the compiler session over them, and one compilation per root file.

Contract:
  * The session's loader returns an open editor buffer first, then the file on
    disk (re-read only when its size or mtime changed), so unsaved edits in an
    imported file are seen by the files that import it.
  * Analysis comes in two stages. `compile(path)` parses and runs the semantic
    checks (fast: what every keystroke needs); `finish(path)` also runs the
    driver's later passes (`Session.run_passes`: space analysis, estimates;
    slower), exactly as `Session.check_source` does, so a finished compilation has the diagnostics
    of `dspxc check`. Both are reused until a file they read changes (a
    per-path generation counter): requests never re-analyse unchanged text.
  * `carried(path)`: the diagnostics the later passes reported on an earlier
    text, moved through the edits made since (dropped where an edit touched
    them), shown until the passes run again, so warnings do not flicker.
  * Parsing goes through an `IncrementalParseCache`: after an edit only the
    touched top-level declarations are re-parsed.
  * Positions stay offsets into `SourceFile`s; nothing here speaks LSP types
    except the content changes it applies (converted with the buffer's own text).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types

from dspx_lang.diagnostics import Diagnostic, Sink
from dspx_lang.driver import Compilation, Session
from dspx_lang.semantics import analyze
from dspx_lang.source import SourceFile
from dspx_lang.space.report import SpaceReport
from dspx_lsp.convert import path_to_uri, uri_to_path
from dspx_lsp.edits import EditLog
from dspx_lsp.incremental import IncrementalParseCache

MAX_WORKSPACE_FILES = 5000  # beyond this, workspace-wide features look at open files only
KEEP_REPORTS = 8  # roots whose space reports (estimates) stay in memory


@dataclass(slots=True)
class Buffer:
    uri: str
    version: int | None
    source: SourceFile


@dataclass(slots=True)
class _Compiled:
    generations: dict[str, int]
    compilation: Compilation
    finished: bool = False


@dataclass(slots=True)
class _Passed:
    """What the later passes said about a root, and where its files' edit logs stood."""

    diagnostics: list[Diagnostic]
    marks: dict[str, tuple[int, int]]
    reports: dict[str, SpaceReport] | None  # None once dropped to bound memory (`KEEP_REPORTS`)


@dataclass(slots=True)
class Documents:
    folders: list[str] = field(default_factory=list)
    buffers: dict[str, Buffer] = field(default_factory=dict)
    cache: IncrementalParseCache = field(default_factory=IncrementalParseCache)
    _generation: dict[str, int] = field(default_factory=dict)
    _disk: dict[str, tuple[int, int, SourceFile]] = field(default_factory=dict)
    _compiled: dict[str, _Compiled] = field(default_factory=dict)
    _passed: dict[str, _Passed] = field(default_factory=dict)
    _keeping: dict[str, None] = field(default_factory=dict)  # roots whose reports are kept, LRU
    _read: set[str] = field(default_factory=set)  # paths the running compilation asked for
    edits: EditLog = field(default_factory=EditLog)

    # ------------------------------------------------------------ buffers

    def open(self, uri: str, text: str, version: int | None) -> str:
        path = uri_to_path(uri)
        self.buffers[path] = Buffer(uri, version, SourceFile(path, text))
        self._bump(path)
        return path

    def change(
        self,
        uri: str,
        changes: Iterable[types.TextDocumentContentChangeEvent],
        version: int | None,
    ) -> str:
        path = uri_to_path(uri)
        buffer = self.buffers.get(path)
        text = buffer.source.text if buffer else ""
        for change in changes:
            text = self._apply(SourceFile(path, text), change)
        self.buffers[path] = Buffer(uri, version, SourceFile(path, text))
        self._bump(path)
        return path

    def _apply(self, source: SourceFile, change: types.TextDocumentContentChangeEvent) -> str:
        """The text after one LSP content change (ranges in UTF-16), logged for `carried`."""
        start, end = 0, len(source.text)
        if isinstance(change, types.TextDocumentContentChangePartial):
            start = source.offset_at_lsp(change.range.start.line, change.range.start.character)
            end = max(
                start, source.offset_at_lsp(change.range.end.line, change.range.end.character)
            )
        self.edits.record(source.path, start, end, len(change.text))
        return source.text[:start] + change.text + source.text[end:]

    def close(self, uri: str) -> str:
        path = uri_to_path(uri)
        self.buffers.pop(path, None)
        self._bump(path)
        self.cache.forget(path)
        self.edits.forget(path)  # the disk text may differ: nothing maps across a close
        return path

    def disk_changed(self, path: str) -> None:
        """A file changed on disk (a watched-files event)."""
        self._disk.pop(path, None)
        self._bump(path)

    def _bump(self, path: str) -> None:
        self._generation[path] = self._generation.get(path, 0) + 1

    # ------------------------------------------------------------- texts

    def load(self, path: str) -> SourceFile:
        """The session's loader: the open buffer, else the file on disk; raises OSError."""
        self._read.add(path)
        buffer = self.buffers.get(path)
        if buffer is not None:
            return buffer.source
        stat = os.stat(path)
        cached = self._disk.get(path)
        if cached is not None and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
        source = SourceFile.read(path)
        self._disk[path] = (stat.st_mtime_ns, stat.st_size, source)
        return source

    def source(self, path: str) -> SourceFile | None:
        try:
            return self.load(path)
        except (OSError, ValueError):
            return None

    def version(self, path: str) -> int | None:
        buffer = self.buffers.get(path)
        return buffer.version if buffer else None

    def uri(self, path: str) -> str:
        buffer = self.buffers.get(path)
        return buffer.uri if buffer else path_to_uri(path)

    # ------------------------------------------------------ compilations

    def compile(self, path: str) -> Compilation:
        """The compilation of `path` as root, current with every text it read; the later
        passes have run on it only if `finish` was asked since."""
        return self._current(path).compilation

    def finish(self, path: str) -> Compilation:
        """`compile`, then the driver's later passes (as `Session.check_source` runs them)."""
        compiled = self._current(path)
        compilation = compiled.compilation
        if not compiled.finished:
            before = len(compilation.sink.items)
            Session.run_passes(compilation)
            compiled.finished = True
            marks = {p: self.edits.mark(p) for p in compilation.model.files}
            passed = compilation.sink.items[before:]
            self._passed[path] = _Passed(passed, marks, compilation.reports)
            self._keep(path)
        return compilation

    def finished(self, path: str) -> bool:
        compiled = self._compiled.get(path)
        return compiled is not None and compiled.finished and self._fresh(compiled)

    def carried(self, path: str) -> list[Diagnostic]:
        """The later passes' last diagnostics for `path`, moved into the current texts
        (only while the current analysis is clean: otherwise those passes do not run)."""
        passed = self._passed.get(path)
        if passed is None or self.finished(path) or self.compile(path).has_errors:
            return []
        moved = (self.edits.carry(d, passed.marks) for d in passed.diagnostics)
        return [d for d in moved if d is not None]

    def reports(self, path: str) -> dict[str, SpaceReport]:
        """The space analysis of `path`'s programs from its last finished compilation
        (analysed again if its reports were dropped and it is current)."""
        passed = self._passed.get(path)
        if passed is None:
            return {}
        if passed.reports is None:
            if not self.finished(path):
                return {}
            self._compiled.pop(path)  # its sink has the passes' diagnostics: start afresh
            self.finish(path)
            passed = self._passed[path]
        self._keep(path)
        return passed.reports or {}

    def _keep(self, path: str) -> None:
        """Keep `path`'s reports (estimates hold the space analysis' state: ~1 MB a root),
        dropping those of the least recently used roots beyond `KEEP_REPORTS`."""
        self._keeping.pop(path, None)
        self._keeping[path] = None
        while len(self._keeping) > KEEP_REPORTS:
            dropped = next(iter(self._keeping))
            del self._keeping[dropped]
            passed = self._passed.get(dropped)
            if passed is not None:
                passed.reports = None
            compiled = self._compiled.get(dropped)
            if compiled is not None:
                compiled.compilation.reports = {}

    def _fresh(self, compiled: _Compiled) -> bool:
        return all(self._generation.get(p, 0) == g for p, g in compiled.generations.items())

    def _current(self, path: str) -> _Compiled:
        compiled = self._compiled.get(path)
        if compiled is not None and self._fresh(compiled):
            return compiled
        # Every path asked for counts, missing ones too: creating one must re-analyse.
        self._read = {path}
        source = self.load(path)
        sink = Sink()
        model = analyze(source, sink, loader=self.load, cache=self.cache)
        read = self._read | set(model.files)
        compiled = _Compiled(
            {p: self._generation.get(p, 0) for p in read}, Compilation(path, model, sink)
        )
        self._compiled[path] = compiled
        return compiled

    def importers(self, path: str) -> list[str]:
        """Open files (other than `path`) whose last compilation read `path`."""
        return [
            root
            for root in self.buffers
            if root != path
            and (c := self._compiled.get(root)) is not None
            and path in c.generations
        ]

    # --------------------------------------------------------- workspace

    def workspace_files(self) -> list[str]:
        """Every `.dspx` file under the workspace folders plus the open ones, sorted."""
        found: set[str] = set(self.buffers)
        for path in _walk(self.folders):
            found.add(path)
            if len(found) >= MAX_WORKSPACE_FILES:
                break
        return sorted(p for p in found if p.endswith(".dspx"))


def _walk(folders: Iterable[str]) -> Iterator[str]:
    for folder in folders:
        base = Path(folder)
        for path in base.rglob("*.dspx"):
            parts = path.relative_to(base).parts
            if not any(part.startswith(".") or part == "node_modules" for part in parts):
                yield os.path.normpath(str(path))
