"""Compile-time prompt estimates vs the prompt tokens a real model's server reports.

For each example whose program can run on the local model (`dspxc local start`), the
configuration is set to the local model with plain `predict` where that is a choice,
the compile-time estimate of that configuration is computed, and the program runs on the
first trainset rows; the server's reported prompt tokens are compared with the estimate.
The estimate counts with tiktoken's cl100k_base, the server with Qwen's own tokenizer, so
this measures the whole chain. Target: within ±25 %.

Run: dspxc local start; python bench/estimate_accuracy.py [--rows 3] [--base-url URL]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ("qa", "math", "intent", "count")


def demos_from(package: Any, program: str, rows: list[dict[str, Any]], dataset: Any) -> Any:
    """Demonstrations from trainset rows, as the optimizer attaches them (the estimate
    counts the demos a configuration shows)."""
    from dspx_lang.prompts import Demo

    demos = {}
    for step in package.programs[program].steps:
        signature = package.signatures[step.signature]
        names = [f.name for f in (*signature.inputs, *signature.outputs)]
        usable = [r for r in rows if all(dataset.mapping.get(n, n) in r for n in names)]
        demos[step.name] = [
            Demo(
                {f.name: r[dataset.mapping.get(f.name, f.name)] for f in signature.inputs},
                {f.name: r[dataset.mapping.get(f.name, f.name)] for f in signature.outputs},
            )
            for r in usable
        ]
    return demos


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=3)
    parser.add_argument("--base-url", default="http://127.0.0.1:8080/v1")
    args = parser.parse_args()
    os.environ["DSPX_API_BASE_LOCAL"] = args.base_url
    os.environ.setdefault("DSPX_CACHE", "0")
    from dspx_lang.codegen.build import compile_source
    from dspx_lang.datasets import read_rows
    from dspx_lang.runtime.program import Program
    from dspx_lang.space.program import program_space
    from dspx_lang.space.solve import Sym

    ratios = []
    print(f"{'example':10} {'estimated':>10} {'measured':>10} {'ratio':>7}")
    for name in EXAMPLES:
        result = compile_source(ROOT / "examples" / f"{name}.dspx")
        assert result.package is not None, name
        compilation = result.compilation
        [program_name] = [p.name for p in compilation.model.programs_in(compilation.root)]
        info = compilation.model.programs[program_name]
        choices = {
            "model": "local",
            "reasoning": "predict",
            "method": "cot",
            "counter": "cot",
            "adapter": "chat",
        }
        config = {n: v for n, v in choices.items() if n in info.variables}
        space = program_space(compilation, program_name)
        defaults = {v.name: v.default for v in space.space.vars}
        solver_config = {**defaults, **{n: Sym(v) for n, v in config.items()}}
        estimated = sum(
            s.prompt_tokens * s.calls for s in space.estimator.estimate(solver_config).steps
        )
        program = Program(result.package, program_name).with_config(config)
        dataset = compilation.model.datasets[info.optimize.trainset]  # type: ignore[union-attr]
        rows = read_rows(dataset.resolved_path, 16)
        program = program.with_demos(demos_from(result.package, program_name, rows, dataset))
        measured = []
        for row in rows[: args.rows]:
            inputs = {f: row[dataset.mapping.get(f, f)] for f in info.inputs}
            try:
                prediction = program.run(inputs)
            except Exception as exc:  # a model's bad answer still counts what it was sent
                print(f"  {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            measured.append(prediction.prompt_tokens)
        if not measured:
            continue
        mean = statistics.mean(measured)
        ratio = estimated / mean
        ratios.append(ratio)
        print(f"{name:10} {estimated:>10} {mean:>10.0f} {ratio:>7.2f}")
    within = all(0.75 <= r <= 1.25 for r in ratios)
    print(f"\nall within ±25 %: {within}  (ratios {', '.join(f'{r:.2f}' for r in ratios)})")
    print(
        f"reproduce: dspxc local start && {sys.executable} bench/estimate_accuracy.py "
        f"--rows {args.rows}"
    )
    return 0 if within else 1


if __name__ == "__main__":
    raise SystemExit(main())
