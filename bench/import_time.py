"""Whole-process time to import a compiled dspx module, next to `import dspy` and litellm.

Reproduce from the repository root: `.venv/bin/python bench/import_time.py` (`--runs N`).
`import dspy` is measured when `bench/.venv-dspy` exists (see bench/runtime_call.py).

Each figure is the median wall time of N fresh interpreters (`python -c ...`), started and
waited for from here, so it includes interpreter start-up; `python -c pass` is shown as the
floor. The compiled module is examples/qa.dspx compiled into a temporary package (its
`.pyc` written by a first, unmeasured import). Target: <= 0.15 s for the compiled module.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DSPY_PYTHON = ROOT / "bench" / ".venv-dspy" / "bin" / "python"
TARGET_S = 0.15


def timed(python: Path | str, code: str, runs: int, cwd: Path, env: dict[str, str]) -> float:
    subprocess.run([str(python), "-c", code], cwd=cwd, env=env, check=True)  # warm caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(python), "-c", code], cwd=cwd, env=env, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from dspx_lang.codegen.build import compile_source, write_outputs

    env = {**os.environ, "PYTHONPATH": str(ROOT), "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    with tempfile.TemporaryDirectory() as directory:
        package = Path(directory) / "compiled"
        result = compile_source(ROOT / "examples" / "qa.dspx")
        assert result.ok
        write_outputs(result, package)
        (package / "__init__.py").write_text("")
        cwd = Path(directory)
        rows = [
            ("python -c pass", timed(sys.executable, "pass", args.runs, cwd, env)),
            (
                "from compiled.qa import qa",
                timed(sys.executable, "from compiled.qa import qa", args.runs, cwd, env),
            ),
            (
                "import dspx_lang.runtime",
                timed(sys.executable, "import dspx_lang.runtime", args.runs, cwd, env),
            ),
            (
                "import litellm",
                timed(sys.executable, "import litellm", max(3, args.runs // 4), cwd, env),
            ),
        ]
        if DSPY_PYTHON.exists():
            rows.append(("import dspy", timed(DSPY_PYTHON, "import dspy", args.runs, cwd, env)))
    print("reproduce: .venv/bin/python bench/import_time.py")
    print(f"whole-process wall time, median of {args.runs} fresh interpreters:")
    for label, seconds in rows:
        print(f"  {label:<32} {seconds:6.3f} s")
    ours = dict(rows)["from compiled.qa import qa"]
    verdict = "meets" if ours <= TARGET_S else "MISSES"
    print(f"compiled module: {ours:.3f} s, {verdict} the {TARGET_S} s target")
    for label, seconds in rows:
        if label.startswith("import ") and label != "import dspx_lang.runtime":
            print(f"  compiled module / {label}: x{ours / seconds:.2f}")
    if not DSPY_PYTHON.exists():
        print("  (dspy not measured: create bench/.venv-dspy with dspy installed)")


if __name__ == "__main__":
    main()
