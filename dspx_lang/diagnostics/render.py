"""Rendering diagnostics for people (compiler-style text) and machines (LSP-style JSON).

Contract: renderers never fail on odd input: spans past the end of a file are
clamped, very long lines are shown as a window around the span, tabs are
expanded so carets line up. JSON positions are 0-based lines and UTF-16
columns, as in the Language Server Protocol; text positions are 1-based.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from dspx_lang.diagnostics import Diagnostic, Label, Severity
from dspx_lang.diagnostics.registry import CODES
from dspx_lang.source import SourceFile, Span

WINDOW = 120  # columns of a long line shown around a span
_COLORS = {
    Severity.ERROR: "\033[1;31m",
    Severity.WARNING: "\033[1;33m",
    Severity.INFORMATION: "\033[1;36m",
}
_BOLD, _BLUE, _RESET = "\033[1m", "\033[1;34m", "\033[0m"


class TextRenderer:
    def __init__(self, sources: Mapping[str, SourceFile], color: bool = False) -> None:
        self.sources = sources
        self.color = color

    def paint(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self.color else text

    def render(self, diagnostic: Diagnostic) -> str:
        source = self.sources.get(diagnostic.file)
        line, column = source.position(diagnostic.span.start) if source else (0, 0)
        severity = diagnostic.severity.value
        head = (
            f"{diagnostic.file}:{line + 1}:{column + 1}: "
            + self.paint(f"{severity}[{diagnostic.code}]", _COLORS[diagnostic.severity])
            + self.paint(f": {diagnostic.message}", _BOLD)
        )
        parts = [head]
        if source is not None:
            parts.extend(
                self.snippet(
                    source, diagnostic.span, diagnostic.note, "^", _COLORS[diagnostic.severity]
                )
            )
        elif diagnostic.note:
            parts.append(f"   = note: {diagnostic.note}")
        for label in diagnostic.related:
            parts.extend(self.related(label))
        return "\n".join(parts)

    def related(self, label: Label) -> list[str]:
        source = self.sources.get(label.file)
        if source is None:
            return [f"   = note: {label.file}: {label.message}"]
        line, column = source.position(label.span.start)
        lines = [f"   = note: {label.file}:{line + 1}:{column + 1}"]
        lines.extend(self.snippet(source, label.span, label.message, "-", _BLUE))
        return lines

    def snippet(
        self, source: SourceFile, span: Span, note: str | None, mark: str, style: str
    ) -> list[str]:
        start = min(span.start, len(source.text))
        line, column = source.position(start)
        text = source.line_text(line)
        end_column = column + max(1, min(span.end, source.line_start(line) + len(text)) - start)
        if len(text) > WINDOW:
            offset = max(0, min(column - WINDOW // 3, len(text) - WINDOW))
            text = ("…" if offset else "") + text[offset : offset + WINDOW]
            shift = offset - (1 if offset else 0)
            column, end_column = column - shift, min(end_column - shift, len(text))
        display = text.expandtabs(4)
        prefix = text[:column].expandtabs(4)
        width = max(1, len(text[:end_column].expandtabs(4)) - len(prefix))
        gutter = " " * len(str(line + 1))
        underline = " " * len(prefix) + mark * width + (f" {note}" if note else "")
        return [
            self.paint(f"{gutter} |", _BLUE),
            self.paint(f"{line + 1} |", _BLUE) + f" {display}",
            self.paint(f"{gutter} |", _BLUE) + " " + self.paint(underline, style),
        ]


def summary(diagnostics: Iterable[Diagnostic], files: int) -> str:
    items = list(diagnostics)
    errors = sum(d.severity is Severity.ERROR for d in items)
    warnings = sum(d.severity is Severity.WARNING for d in items)
    checked = f"{files} file{'s' if files != 1 else ''}"
    if not errors and not warnings:
        return f"All checks passed ({checked})."
    found = []
    if errors:
        found.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        found.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return f"Found {' and '.join(found)} in {checked}."


def _range(source: SourceFile | None, span: Span) -> dict[str, dict[str, int]]:
    if source is None:
        zero = {"line": 0, "character": 0}
        return {"start": zero, "end": zero}
    start_line, start_char = source.lsp_position(span.start)
    end_line, end_char = source.lsp_position(span.end)
    return {
        "start": {"line": start_line, "character": start_char},
        "end": {"line": end_line, "character": end_char},
    }


def to_json_data(
    diagnostics: Iterable[Diagnostic], sources: Mapping[str, SourceFile]
) -> list[dict[str, Any]]:
    out = []
    for d in diagnostics:
        item: dict[str, Any] = {
            "file": d.file,
            "range": _range(sources.get(d.file), d.span),
            "severity": d.severity.value,
            "code": d.code,
            "name": CODES[d.code].name,
            "message": d.message,
            "related": [
                {"file": r.file, "range": _range(sources.get(r.file), r.span), "message": r.message}
                for r in d.related
            ],
        }
        if d.note:
            item["note"] = d.note
        out.append(item)
    return out


def to_json(diagnostics: Iterable[Diagnostic], sources: Mapping[str, SourceFile]) -> str:
    return json.dumps(to_json_data(diagnostics, sources), indent=2, ensure_ascii=False)
