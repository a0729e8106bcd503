"""The quick part of the compiler fuzz campaign (bench/fuzz_compiler.py; the soak run of
1,000,000 inputs and its figures are in docs/reliability.md): a few hundred mutated inputs
through parse, check, estimate, compile and fmt with no failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_fuzz_run_finds_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DSPX_CACHE": "0"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "fuzz_compiler.py"), "--inputs", "400"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "400 inputs in" in done.stdout, done.stdout
    assert ", 0 failures," in done.stdout, done.stdout
