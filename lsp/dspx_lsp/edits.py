"""Where text moved: an edit log per file, to carry positions across keystrokes.

Contract: `EditLog.record(path, start, end, length)` notes that characters
[start, end) of `path` were replaced by `length` characters; `mark(path)` names
the log's current point; `map_span(path, span, since)` moves a span of the text
as it was at mark `since` into the current text, or returns None when an edit
touched it. `carry(diagnostic, marks)` does that for a diagnostic and
everything it points at (related locations, fix edits), or returns None.
Used to keep the later passes' diagnostics in place while they are re-run.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from dspx_lang.diagnostics import Diagnostic, Edit, Fix, Label
from dspx_lang.source import Span

MAX_EDITS = 100_000  # per file; past this the log restarts and older marks map nothing


@dataclass(slots=True)
class EditLog:
    edits: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    epochs: dict[str, int] = field(default_factory=dict)  # bumped when a file's log restarts

    def record(self, path: str, start: int, end: int, length: int) -> None:
        log = self.edits.setdefault(path, [])
        if len(log) >= MAX_EDITS:
            log.clear()
            self.epochs[path] = self.epochs.get(path, 0) + 1
        log.append((start, end, length))

    def forget(self, path: str) -> None:
        self.edits.pop(path, None)
        self.epochs[path] = self.epochs.get(path, 0) + 1

    def mark(self, path: str) -> tuple[int, int]:
        return self.epochs.get(path, 0), len(self.edits.get(path, []))

    def map_span(self, path: str, span: Span, since: tuple[int, int]) -> Span | None:
        epoch, index = since
        if epoch != self.epochs.get(path, 0):
            return None
        start, end = span.start, span.end
        for edit_start, edit_end, length in self.edits.get(path, [])[index:]:
            if end <= edit_start and start < edit_start:
                continue  # the edit is after the span
            if start >= edit_end:
                delta = length - (edit_end - edit_start)
                start, end = start + delta, end + delta
                continue
            return None
        return Span(start, end)

    def carry(self, diagnostic: Diagnostic, marks: dict[str, tuple[int, int]]) -> Diagnostic | None:
        """`diagnostic` moved into the current texts, or None if an edit touched what it shows."""
        span = self._map(diagnostic.file, diagnostic.span, marks)
        if span is None:
            return None
        related: list[Label] = []
        for label in diagnostic.related:
            moved = self._map(label.file, label.span, marks)
            if moved is None:
                return None
            related.append(dataclasses.replace(label, span=moved))
        fixes: list[Fix] = []
        for fix in diagnostic.fixes:
            edits: list[Edit] = []
            for edit in fix.edits:
                moved = self._map(edit.file, edit.span, marks)
                if moved is None:
                    return None
                edits.append(dataclasses.replace(edit, span=moved))
            fixes.append(dataclasses.replace(fix, edits=tuple(edits)))
        return dataclasses.replace(
            diagnostic, span=span, related=tuple(related), fixes=tuple(fixes)
        )

    def _map(self, path: str, span: Span, marks: dict[str, tuple[int, int]]) -> Span | None:
        since = marks.get(path)
        return None if since is None else self.map_span(path, span, since)
