"""Source text and positions.

Contract: a `SourceFile` holds decoded text (never raises on bad bytes: invalid
UTF-8 is replaced and reported by the caller through `decode_error`) and maps
character offsets to (line, column) pairs. Offsets and columns are Python
string indices (code points); `lsp_position` converts to the UTF-16 code units
the Language Server Protocol counts, and `offset_at_lsp` converts back. Lines
and columns are 0-based everywhere except in text rendered for humans.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Span:
    """A half-open range of character offsets into one source file."""

    start: int
    end: int

    def contains(self, offset: int) -> bool:
        return self.start <= offset <= self.end


@dataclass(slots=True)
class SourceFile:
    """One `.dspx` file's text with a line index."""

    path: str
    text: str
    decode_error: str | None = None
    _line_starts: list[int] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        starts = [0]
        find = self.text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._line_starts = starts

    @classmethod
    def from_bytes(cls, path: str, data: bytes) -> SourceFile:
        try:
            text = data.decode("utf-8")
            error = None
        except UnicodeDecodeError as exc:
            text = data.decode("utf-8", errors="replace")
            error = f"invalid UTF-8 at byte {exc.start}"
        if text.startswith("\ufeff"):
            text = " " + text[1:]  # keep offsets stable; a BOM is whitespace to the lexer
        return cls(path, text, error)

    @classmethod
    def read(cls, path: str | Path) -> SourceFile:
        """Read a file; raises OSError for I/O problems (the CLI reports those)."""
        return cls.from_bytes(str(path), Path(path).read_bytes())

    @property
    def line_count(self) -> int:
        return len(self._line_starts)

    def line_of(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset) - 1

    def position(self, offset: int) -> tuple[int, int]:
        """0-based (line, column in code points) of an offset."""
        offset = max(0, min(offset, len(self.text)))
        line = self.line_of(offset)
        return line, offset - self._line_starts[line]

    def line_start(self, line: int) -> int:
        return self._line_starts[max(0, min(line, len(self._line_starts) - 1))]

    def line_text(self, line: int) -> str:
        start = self.line_start(line)
        end = self.text.find("\n", start)
        return self.text[start : len(self.text) if end == -1 else end]

    def offset(self, line: int, column: int) -> int:
        if line >= len(self._line_starts):
            return len(self.text)
        start = self._line_starts[max(0, line)]
        return min(start + max(0, column), len(self.line_text(line)) + start)

    def lsp_position(self, offset: int) -> tuple[int, int]:
        """0-based (line, UTF-16 column) of an offset."""
        line, column = self.position(offset)
        start = self._line_starts[line]
        prefix = self.text[start : start + column]
        if prefix.isascii():
            return line, column
        return line, len(prefix.encode("utf-16-le")) // 2

    def offset_at_lsp(self, line: int, utf16_column: int) -> int:
        """The offset of an LSP (line, UTF-16 column) position, clamped to the line."""
        if line >= len(self._line_starts):
            return len(self.text)
        text = self.line_text(line)
        start = self._line_starts[max(0, line)]
        if text.isascii():
            return start + min(utf16_column, len(text))
        units = 0
        for index, char in enumerate(text):
            if units >= utf16_column:
                return start + index
            units += 2 if ord(char) > 0xFFFF else 1
        return start + len(text)
