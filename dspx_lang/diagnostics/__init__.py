"""Diagnostics as data.

Contract: passes never raise for problems in the user's program; they call
`Sink.add` and return. A `Diagnostic` carries a registered code, a severity,
a message, the exact span, an optional note shown under the caret ("did you
mean ..."), related locations ("first defined here") and machine-applicable
fixes that editors turn into code actions. Only the driver and the CLI decide
what errors mean for the exit code.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from dspx_lang.diagnostics.registry import CODES
from dspx_lang.source import Span

__all__ = ["CODES", "Diagnostic", "Edit", "Fix", "Label", "Severity", "Sink"]


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFORMATION = "information"


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary location, e.g. 'first defined here'."""

    file: str
    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Edit:
    file: str
    span: Span
    new_text: str


@dataclass(frozen=True, slots=True)
class Fix:
    """A fix that travels with its diagnostic; code actions read it back."""

    title: str
    edits: tuple[Edit, ...]
    safe: bool = True


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    file: str
    span: Span
    note: str | None = None
    related: tuple[Label, ...] = ()
    fixes: tuple[Fix, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.span.start, self.span.end, self.code)


def default_severity(code: str) -> Severity:
    return Severity.ERROR if code.startswith("E") else Severity.WARNING


@dataclass(slots=True)
class Sink:
    """Collects diagnostics for one file set; passes append, nobody raises."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        file: str,
        span: Span,
        *,
        note: str | None = None,
        related: Iterable[Label] = (),
        fixes: Iterable[Fix] = (),
        severity: Severity | None = None,
    ) -> Diagnostic:
        if code not in CODES:
            raise KeyError(f"unregistered diagnostic code {code}")
        diagnostic = Diagnostic(
            code,
            severity or default_severity(code),
            message,
            file,
            span,
            note,
            tuple(related),
            tuple(fixes),
        )
        self.items.append(diagnostic)
        return diagnostic

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.items.extend(diagnostics)

    def has_errors(self, file: str | None = None) -> bool:
        return any(d.is_error and (file is None or d.file == file) for d in self.items)

    def __iter__(self) -> Iterator[Diagnostic]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[Diagnostic]:
        return sorted(self.items, key=Diagnostic.sort_key)
