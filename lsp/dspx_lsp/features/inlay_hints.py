"""Inlay hints: what the compiler assumes but the text does not say.

Contract: hints lie inside the requested range and are derived from the
compilation only: the default a variable takes when none is written
(`= 0`, `= predict`), the model a step calls when it sets none (the first
model the file can see), and - once the space analysis has made them - the
estimated cost and latency of each step and program call (`estimates`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.semantics.checks.variables import value_str
from dspx_lang.source import SourceFile, Span
from dspx_lsp import estimates
from dspx_lsp.convert import position, range_span
from dspx_lsp.guard import guarded
from dspx_lsp.query import Here, compiled

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer

Hint = tuple[int, str, str]  # offset, label, tooltip


def register(server: DspxServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    @guarded(lambda: [])
    def on_inlay_hint(params: types.InlayHintParams) -> list[types.InlayHint]:
        path, compilation, source = compiled(server, params.text_document.uri)
        here = Here(path, compilation, source, 0, server.documents.reports(path))
        window = range_span(source, params.range)
        return [
            _hint(source, offset, label, tooltip)
            for offset, label, tooltip in hints(here)
            if window.start <= offset <= window.end
        ]


def _hint(source: SourceFile, offset: int, label: str, tooltip: str) -> types.InlayHint:
    return types.InlayHint(
        position=position(source, offset),
        label=label,
        kind=types.InlayHintKind.Type,
        padding_left=True,
        tooltip=tooltip,
    )


def hints(here: Here) -> list[Hint]:
    found: list[Hint] = []
    for program in here.model.programs_in(here.path):
        for var in program.variables.values():
            if var.node.default is None:
                found.append(
                    (
                        var.node.domain.span.end,
                        f"= {value_str(var.default)}",
                        "the default: the first choice, the lower bound, or false",
                    )
                )
        for step in program.steps.values():
            if step.node is None:
                continue
            if "model" not in step.settings and program.default_model:
                found.append(
                    (
                        _after_call(here.source, step.node.span),
                        f"model: {program.default_model}",
                        "steps without a `model` setting use the first model the file can see",
                    )
                )
            found.extend(estimates.step_hints(here.reports, here.source, program, step))
        found.extend(estimates.program_hints(here.reports, here.source, program))
    return sorted(found)


def _after_call(source: SourceFile, span: Span) -> int:
    """The end of a step's first line (after its argument list, before any settings)."""
    line_end = source.text.find("\n", span.start, span.end)
    return span.end if line_end == -1 else len(source.text[:line_end].rstrip(" {\t"))
