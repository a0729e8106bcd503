"""In-process helpers for unit tests of feature logic: a `Documents` store on a copy of the
workspace, and `Here` values for a position named by a piece of text."""

from __future__ import annotations

import shutil
from pathlib import Path

from dspx_lsp.convert import path_to_uri
from dspx_lsp.documents import Documents
from dspx_lsp.query import Here

from dspx_lang.source import SourceFile

WORKSPACE = Path(__file__).parent / "workspace"


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.documents = Documents(folders=[str(root)])

    @classmethod
    def copy(cls, tmp_path: Path) -> Store:
        root = tmp_path / "workspace"
        shutil.copytree(WORKSPACE, root)
        return cls(root)

    def path(self, name: str) -> str:
        return str(self.root / name)

    def text(self, name: str) -> str:
        buffer = self.documents.buffers.get(self.path(name))
        return buffer.source.text if buffer else (self.root / name).read_text(encoding="utf-8")

    def open(self, name: str, text: str | None = None) -> None:
        content = self.text(name) if text is None else text
        self.documents.open(path_to_uri(self.path(name)), content, 1)

    def here(self, name: str, needle: str = "", delta: int | None = None, nth: int = 0) -> Here:
        """The position right after the `nth` `needle` (or `delta` characters into it)."""
        text = self.text(name)
        at = -1
        for _ in range(nth + 1):
            at = text.index(needle, at + 1)
        offset = at + (len(needle) if delta is None else delta)
        compilation = self.documents.compile(self.path(name))
        return Here(
            self.path(name), compilation, compilation.model.files[self.path(name)].source, offset
        )

    def source(self, name: str) -> SourceFile:
        source = self.documents.source(self.path(name))
        assert source is not None
        return source
