"""Open buffers, the compiler session over them, and one compilation per root file.

Contract:
  * The session's loader returns an open editor buffer first, then the file on
    disk (re-read only when its size or mtime changed), so unsaved edits in an
    imported file are seen by the files that import it.
  * `compile(path)` returns a `Compilation` of `path` as the root, built from
    the current texts; it is reused until one of the files it read changes
    (a per-path generation counter), so requests never re-analyse unchanged
    text and a request after an edit analyses once.
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

from dspx_lang.driver import Compilation, Session
from dspx_lang.source import SourceFile
from dspx_lsp.convert import path_to_uri, uri_to_path
from dspx_lsp.incremental import IncrementalParseCache

MAX_WORKSPACE_FILES = 5000  # beyond this, workspace-wide features look at open files only


@dataclass(slots=True)
class Buffer:
    uri: str
    version: int | None
    source: SourceFile


@dataclass(slots=True)
class _Compiled:
    generations: dict[str, int]
    compilation: Compilation


@dataclass(slots=True)
class Documents:
    folders: list[str] = field(default_factory=list)
    buffers: dict[str, Buffer] = field(default_factory=dict)
    cache: IncrementalParseCache = field(default_factory=IncrementalParseCache)
    _generation: dict[str, int] = field(default_factory=dict)
    _disk: dict[str, tuple[int, int, SourceFile]] = field(default_factory=dict)
    _compiled: dict[str, _Compiled] = field(default_factory=dict)
    _read: set[str] = field(default_factory=set)  # paths the running compilation asked for
    session: Session = field(init=False)

    def __post_init__(self) -> None:
        self.session = Session(loader=self.load, cache=self.cache)

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
            text = apply_change(SourceFile(path, text), change)
        self.buffers[path] = Buffer(uri, version, SourceFile(path, text))
        self._bump(path)
        return path

    def close(self, uri: str) -> str:
        path = uri_to_path(uri)
        self.buffers.pop(path, None)
        self._bump(path)
        self.cache.forget(path)
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
        """The compilation of `path` as root, current with every text it read."""
        compiled = self._compiled.get(path)
        if compiled is not None and all(
            self._generation.get(p, 0) == g for p, g in compiled.generations.items()
        ):
            return compiled.compilation
        # Every path asked for counts, missing ones too: creating one must re-analyse.
        self._read = {path}
        compilation = self.session.check_source(self.load(path))
        generations = {
            p: self._generation.get(p, 0) for p in self._read | set(compilation.model.files)
        }
        self._compiled[path] = _Compiled(generations, compilation)
        return compilation

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


def apply_change(source: SourceFile, change: types.TextDocumentContentChangeEvent) -> str:
    """The text after one LSP content change (ranges in UTF-16, as negotiated)."""
    if isinstance(change, types.TextDocumentContentChangePartial):
        start = source.offset_at_lsp(change.range.start.line, change.range.start.character)
        end = source.offset_at_lsp(change.range.end.line, change.range.end.character)
        return source.text[:start] + change.text + source.text[max(start, end) :]
    return change.text
