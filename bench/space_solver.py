"""Benchmark: analyse a 10^7-configuration space with a dozen constraints.

Times the whole process (interpreter start-up, imports, compile, analysis) with
`subprocess`, median of several runs, and prints what was measured. Target: <= 1 s for
the solver's part (the compiler adds ~0.2 s; the whole `dspxc check` must stay <= 2 s).

    .venv/bin/python bench/space_solver.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The measured program: everything below runs in a fresh interpreter per run.
PROGRAM = r'''
import sys, time
t0 = time.perf_counter()
from dspx_lang.space.solve import (
    And, Arith, BoolDomain, Choice, Cmp, Const, Constraint, FloatRange, Implies, In, IntRange,
    Not, Opaque, Or, Predicate, Ref, Space, Sym, Var,
)
t1 = time.perf_counter()
S = Sym
models = (S("mini"), S("gpt4o"), S("sonnet"), S("haiku"), S("local"), S("llama"))
PRICE = {"mini": 0.15, "gpt4o": 2.5, "sonnet": 3.0, "haiku": 0.8, "local": 0.0, "llama": 0.2}
MODULE_FACTOR = {"predict": 1.0, "cot": 1.8, "pot": 2.2, "react": 4.0}
vars = [
    Var("model", Choice(models), S("mini")),
    Var("module", Choice((S("predict"), S("cot"), S("pot"), S("react"))), S("predict")),
    Var("adapter", Choice((S("chat"), S("json"), S("xml"))), S("chat")),
    Var("demos", IntRange(0, 16), 0),
    Var("max_iters", IntRange(1, 10), 3),
    Var("temperature", FloatRange(0.0, 1.0, step=0.1), 0.0),
    Var("top_p", FloatRange(0.5, 1.0, step=0.05), 1.0),
    Var("retries", IntRange(0, 4), 0),
    Var("use_tools", BoolDomain(), False),
    Var("instructions", Opaque(8), "default instructions"),
]
def eq(name, value):
    return Cmp("==", Ref(name), Const(S(value)))
def cost(values):
    # Mean cost per call in USD: depends on model, module and demos only.
    m, mod, d = values["model"], values["module"], values["demos"]
    return PRICE[m.name] * MODULE_FACTOR[mod.name] * (400 + 150 * d) / 1e6 <= 0.004
constraints = [
    Constraint(1, Implies(eq("module", "react"), In(Ref("model"), (S("gpt4o"), S("sonnet"), S("haiku"))))),
    Constraint(2, Implies(eq("module", "pot"), Cmp("!=", Ref("adapter"), Const(S("xml"))))),
    Constraint(3, Cmp("<=", Arith("+", Ref("demos"), Ref("max_iters")), Const(20))),
    Constraint(4, Implies(In(Ref("module"), (S("predict"), S("cot"))), Cmp("<=", Ref("max_iters"), Const(3)))),
    Constraint(5, Or(Cmp("<=", Ref("temperature"), Const(0.7)), eq("module", "predict"))),
    Constraint(6, Implies(Ref("use_tools"), eq("module", "react"))),
    Constraint(7, Implies(eq("adapter", "json"), Cmp("!=", Ref("model"), Const(S("local"))))),
    Constraint(8, Cmp("<=", Arith("+", Arith("*", Ref("demos"), Const(2)), Ref("retries")), Const(30))),
    Constraint(9, Cmp("<=", Arith("+", Arith("*", Ref("temperature"), Const(10)), Arith("*", Ref("top_p"), Const(10))), Const(17))),
    Constraint(10, Implies(Cmp(">", Ref("retries"), Const(0)), Cmp(">", Ref("temperature"), Const(0.1)))),
    Constraint(11, Implies(eq("model", "local"), Cmp("<=", Ref("demos"), Const(4)))),
    Constraint(12, Not(And(eq("adapter", "xml"), eq("model", "mini")))),
    Predicate(13, ("model", "module", "demos"), cost),
]
space = Space(vars, constraints)
result = space.analyze()
t2 = time.perf_counter()
print(f"imports {t1 - t0:.3f} s, analysis {t2 - t1:.3f} s, nodes {space.search.nodes}")
print(f"total_size {result.total_size} size {result.size} satisfiable {result.satisfiable}")
print(f"dead {[d.describe() for d in result.dead_values]}")
print(f"redundant {result.redundant} undecided {result.undecided} complete {result.complete}")
'''


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    python = sys.executable
    command = [python, "-c", PROGRAM]
    baseline_cmd = [python, "-c", "pass"]
    times, baseline, output = [], [], ""
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(baseline_cmd, check=True, cwd=ROOT)
        baseline.append(time.perf_counter() - start)
        start = time.perf_counter()
        done = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        output = done.stdout
    print(output.rstrip())
    median = statistics.median(times)
    print(f"whole process: median {median:.3f} s over {runs} runs (min {min(times):.3f} s)")
    print(f"bare interpreter start-up: median {statistics.median(baseline):.3f} s")
    print(f"target 1.0 s for the solver: {'met' if median <= 1.0 else 'MISSED'} ({median / 1.0:.2f}x)")
    print(f"reproduce: cd {ROOT} && {Path(python).relative_to(ROOT) if python.startswith(str(ROOT)) else python} bench/space_solver.py --runs {runs}")


if __name__ == "__main__":
    main()
