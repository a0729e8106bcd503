"""Property: on any edit of a real file, every feature's logic answers without raising.

The guard would turn an exception into an empty answer; this checks that the
logic itself does not need it (a raised exception is a bug, even if hidden).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from dspx_lsp.features import (
    code_actions,
    completion,
    definition,
    folding,
    hover,
    inlay_hints,
    symbols,
)
from dspx_lsp.features.semantic_tokens import tokens
from dspx_lsp.query import Here
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsp_store import WORKSPACE, Store

from dspx_lang.source import Span

PIECES = [
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    '"',
    "/*",
    "\n",
    "step s = ",
    "var v: [",
    ".",
    ":",
    "==",
    "🇫🇷",
    "in ",
    'model m = "o',
]
ROOT = Path(tempfile.mkdtemp(prefix="dspx-lsp-")) / "workspace"
shutil.copytree(WORKSPACE, ROOT)
STORE = Store(ROOT)
ORIGINAL = STORE.text("qa.dspx")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.floats(0, 1), st.integers(0, 15), st.sampled_from(PIECES)),
        min_size=1,
        max_size=4,
    ),
    st.floats(0, 1),
)
def test_every_feature_answers_any_edit(edits: list[tuple[float, int, str]], where: float) -> None:
    text = ORIGINAL
    for at, length, piece in edits:
        start = int(at * len(text))
        text = text[:start] + piece + text[start + length :]
    STORE.open("qa.dspx", text)
    path = STORE.path("qa.dspx")
    compilation = STORE.documents.compile(path)
    source = compilation.model.files[path].source
    here = Here(path, compilation, source, int(where * len(text)))
    module = compilation.model.files[path].module
    hover.hover_markdown(here)
    completion.completions(here, STORE.documents)
    definition.definition(here)
    symbols.outline(source, module)
    folding.folding_ranges(source, module)
    tokens(compilation.model, path)
    inlay_hints.hints(here)
    code_actions.quick_fixes(STORE.documents, compilation, path, Span(0, len(text)))
