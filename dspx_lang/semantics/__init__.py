"""Semantics: bind names, resolve types, run the checks -> SemanticModel + diagnostics.

Contract: `analyze` never raises for problems in the program. After it, the
model holds every loaded file (root first), its symbols and references, and
the resolved declarations; the sink holds the parse and check diagnostics of
every loaded file.
"""

from __future__ import annotations

from dspx_lang.diagnostics import Sink
from dspx_lang.semantics.checks import CHECKS
from dspx_lang.semantics.context import Context
from dspx_lang.semantics.imports import Loader, ParseCache, disk_loader, load_closure
from dspx_lang.semantics.model import SemanticModel
from dspx_lang.source import SourceFile

__all__ = ["ParseCache", "SemanticModel", "analyze"]


def analyze(
    root: SourceFile,
    sink: Sink,
    *,
    loader: Loader = disk_loader,
    cache: ParseCache | None = None,
) -> SemanticModel:
    model = SemanticModel(root.path)
    model.files = load_closure(root, loader, cache or ParseCache(), sink)
    ctx = Context(model, sink)
    for check in CHECKS:
        check(ctx)
    return model
