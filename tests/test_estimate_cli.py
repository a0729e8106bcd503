"""`dspxc estimate` on the examples, against golden outputs (UPDATE_EXPECT=1 rewrites them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.dspx") if p.stem != "models")


def estimate(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "dspx_lang", "estimate", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_estimate_matches_golden(example: Path) -> None:
    result = estimate(str(example.relative_to(ROOT)))
    assert result.returncode == 0, result.stderr
    golden = GOLDEN / f"estimate_{example.stem}.txt"
    if os.environ.get("UPDATE_EXPECT") == "1" or not golden.exists():
        golden.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == golden.read_text(encoding="utf-8")


def test_estimate_json_is_consistent() -> None:
    result = estimate("examples/qa.dspx", "--format", "json")
    [report] = json.loads(result.stdout)
    est = report["estimates"]
    default = est["default"]
    total_cost = sum(step["cost_usd"] * 1 for step in default["steps"])
    assert report["program"] == "qa"
    assert est["minimum"]["cost"] <= total_cost <= est["maximum"]["cost"]
    assert est["minimum"]["tokens"] <= est["maximum"]["tokens"]
    assert report["forecast"]["trials"] == 12


def test_estimate_refuses_a_broken_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dspx"
    bad.write_text("program p {", encoding="utf-8")
    result = estimate(str(bad))
    assert result.returncode == 1
    assert "E001" in result.stdout
    assert "fix the errors" in result.stderr


def test_estimate_unknown_program() -> None:
    result = estimate("examples/qa.dspx", "--program", "nope")
    assert result.returncode == 2
    assert "programs: qa" in result.stderr
