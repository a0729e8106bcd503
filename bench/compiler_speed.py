"""Whole-process speed of the compiler's command line.

Targets (issue "Language core"): `dspxc check` on a 10,000-line file ≤ 1.0 s;
`dspxc --version` and `dspxc check` on a small file ≤ 150 ms. Each check is timed
twice: "unchanged" reuses the remembered result of the previous run (what an edit-
check loop pays for files it did not touch), "cold" recomputes everything
(DSPX_CACHE=0: no remembered results, no token-count memo).
Run: python bench/compiler_speed.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from gen_large import generate

ROOT = Path(__file__).parents[1]


def timed(command: list[str], runs: int) -> tuple[float, float]:
    subprocess.run(command, capture_output=True, check=False)  # warm caches
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, capture_output=True, check=False)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    dspxc = str(Path(sys.executable).parent / "dspxc")
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.dspx"
        big.write_text(generate(10_000), encoding="utf-8")
        lines = big.read_text(encoding="utf-8").count("\n")
        qa = str(ROOT / "examples/qa.dspx")
        cold = ["env", "DSPX_CACHE=0"]  # no remembered check results, no token-count memo
        cases = [
            ("dspxc --version", [dspxc, "--version"], 0.150),
            ("dspxc check examples/qa.dspx (unchanged)", [dspxc, "check", qa], 0.150),
            ("dspxc check examples/qa.dspx (cold)", [*cold, dspxc, "check", qa], 0.150),
            (
                f"dspxc check big.dspx, {lines} lines (unchanged)",
                [dspxc, "check", "-q", str(big)],
                1.0,
            ),
            (
                f"dspxc check big.dspx, {lines} lines (cold)",
                [*cold, dspxc, "check", "-q", str(big)],
                1.0,
            ),
            ("python -c pass (interpreter floor)", [sys.executable, "-c", "pass"], None),
        ]
        print(f"{'command':45} {'median':>9} {'max':>9} {'target':>8}  ratio")
        for name, command, target in cases:
            median, worst = timed(command, args.runs)
            ratio = f"{median / target:5.2f}x" if target else ""
            shown = f"{target * 1000:.0f} ms" if target else ""
            print(f"{name:45} {median * 1000:7.1f}ms {worst * 1000:7.1f}ms {shown:>8}  {ratio}")
    print(f"\nreproduce: {sys.executable} bench/compiler_speed.py --runs {args.runs}")


if __name__ == "__main__":
    main()
