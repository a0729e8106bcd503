"""Data-driven checker tests: `tests/cases/**/*.dspx` with inline expectations.

A line comment made only of codes (`// E100` or `// E100 W401: why`) says that
diagnostics with exactly those codes start on that line; every other line
must have none. Files imported by a case are checked the same way. Each case's
rendered text diagnostics are snapshotted next to it in `NAME.expected`;
`UPDATE_EXPECT=1 pytest tests/test_cases.py` rewrites the snapshots.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from pathlib import Path

import pytest

from dspx_lang.diagnostics.render import TextRenderer
from dspx_lang.driver import Session
from dspx_lang.semantics.imports import normalize

CASES = Path(__file__).parent / "cases"
MARKER = re.compile(r"//\s*((?:[EWI]\d{3}\s*)+)(?::.*)?$")
ROOTS = sorted(p for p in CASES.rglob("*.dspx") if not p.name.startswith("_"))


def expected_markers(path: Path) -> Counter[tuple[str, int, str]]:
    expected: Counter[tuple[str, int, str]] = Counter()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        match = MARKER.search(line)
        if match:
            for code in match.group(1).split():
                expected[(normalize(str(path)), number, code)] += 1
    return expected


@pytest.mark.parametrize("case", ROOTS, ids=[str(p.relative_to(CASES)) for p in ROOTS])
def test_case(case: Path) -> None:
    compilation = Session().check(str(case))
    actual: Counter[tuple[str, int, str]] = Counter()
    for d in compilation.diagnostics:
        line, _ = compilation.sources[d.file].position(d.span.start)
        actual[(d.file, line, d.code)] += 1
    expected: Counter[tuple[str, int, str]] = Counter()
    for path in compilation.sources:
        expected += expected_markers(Path(path))
    rendered = "\n\n".join(
        TextRenderer(compilation.sources).render(d) for d in compilation.diagnostics
    )
    missing = expected - actual
    unexpected = actual - expected
    report = f"missing: {sorted(missing)}\nunexpected: {sorted(unexpected)}\n\n{rendered}"
    assert not missing, report
    assert not unexpected, report
    snapshot = case.with_suffix(".expected")
    text = rendered.replace(str(CASES) + os.sep, "") + "\n"
    if os.environ.get("UPDATE_EXPECT") == "1" or not snapshot.exists():
        snapshot.write_text(text, encoding="utf-8")
    assert snapshot.read_text(encoding="utf-8") == text


def test_every_code_has_a_trigger_and_a_near_miss() -> None:
    """Each code in the registry is triggered by some case file; each topic has a clean file."""
    from dspx_lang.diagnostics.registry import CODES

    triggered = {code for case in CASES.rglob("*.dspx") for (_, _, code) in expected_markers(case)}
    implemented = {code for code in CODES if code not in SPACE_CODES}
    assert implemented - triggered == set()
    near_misses = [p for p in ROOTS if p.name.startswith("ok_")]
    assert len(near_misses) >= 10


# Codes of the variable-space analysis; their cases live with that pass.
SPACE_CODES = {
    "E303",
    "E304",
    "W305",
    "W306",
    "W307",
    "I308",
    "E403",
    "W404",
    "W405",
    "E406",
    "W407",
}
