"""The user docs stay in sync with the code."""

from __future__ import annotations

import re
from pathlib import Path

from dspx_lang.diagnostics.docgen import generate
from dspx_lang.diagnostics.registry import CODES

ROOT = Path(__file__).parents[1]


def test_diagnostics_reference_is_generated_from_the_registry() -> None:
    committed = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    assert committed == generate(), (
        "run: python -m dspx_lang.diagnostics.docgen > docs/diagnostics.md"
    )


def test_every_registered_code_is_documented() -> None:
    text = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^## ([EWI]\d{3})$", text, re.MULTILINE))
    assert documented == set(CODES)


def test_registry_entries_are_complete() -> None:
    for code in CODES.values():
        assert re.fullmatch(r"[EWI]\d{3}", code.id)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", code.name), code.name
        for part in (code.summary, code.why, code.example, code.fix):
            assert part, code.id
    assert len({c.name for c in CODES.values()}) == len(CODES)
