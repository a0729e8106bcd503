"""Benchmark: analyse a ~10^8-configuration space with a dozen constraints, whole process.

Each run is a fresh interpreter (`python bench/space_solver.py --child SCENARIO`) that
imports the solver, builds the space, analyses it and prints what it found; the parent
times runs with `subprocess` and prints medians. Target: <= 1.0 s for the solver's part
of `dspxc check` (the compiler's parse/check adds ~0.2 s of a 2 s budget).

Scenarios:
- program: a realistic program (model, module, adapter, demos, iterations, temperature,
  top_p, retries, tools, instructions; 12 constraints and a cost budget predicate).
  118,483,200 configurations inside the domains, 7,093,104 feasible (cross-checked
  once with a numpy enumeration).
- stress: the same plus 8 more variables and 8 more constraints (about 10^13
  configurations), to show the headroom.

    .venv/bin/python bench/space_solver.py [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0

PRICE = {"mini": 0.15, "gpt4o": 2.5, "sonnet": 3.0, "haiku": 0.8, "local": 0.0, "llama": 0.2}
MODULE_FACTOR = {"predict": 1.0, "cot": 1.8, "pot": 2.2, "react": 4.0}


def child(scenario: str) -> None:
    """Build and analyse one scenario; print timings and the headline results."""
    t0 = time.perf_counter()
    from dspx_lang.space.solve import (
        And,
        AnyConstraint,
        Arith,
        BoolDomain,
        Choice,
        Cmp,
        ConfigValue,
        Const,
        Constraint,
        Expr,
        FloatRange,
        Implies,
        In,
        IntRange,
        Not,
        Opaque,
        Or,
        Predicate,
        Ref,
        Space,
        Sym,
        Var,
    )

    t1 = time.perf_counter()

    def sym(name: str) -> Const:
        return Const(Sym(name))

    def eq(name: str, value: str) -> Expr:
        return Cmp("==", Ref(name), sym(value))

    def le(left: Expr, bound: float) -> Expr:
        return Cmp("<=", left, Const(bound))

    def plus(a: Expr, b: Expr) -> Expr:
        return Arith("+", a, b)

    def times(a: Expr, k: float) -> Expr:
        return Arith("*", a, Const(k))

    def cost(values: Mapping[str, ConfigValue]) -> bool:
        # Mean cost per call in USD: depends on model, module and demos only.
        model, module, demos = values["model"], values["module"], values["demos"]
        assert isinstance(model, Sym)
        assert isinstance(module, Sym)
        assert isinstance(demos, int)
        price = PRICE[model.name] * MODULE_FACTOR[module.name]
        return price * (400 + 150 * demos) / 1e6 <= 0.004

    models = tuple(Sym(m) for m in PRICE)
    vars = [
        Var("model", Choice(models), Sym("mini")),
        Var("module", Choice(tuple(Sym(m) for m in MODULE_FACTOR)), Sym("predict")),
        Var("adapter", Choice((Sym("chat"), Sym("json"), Sym("xml"))), Sym("chat")),
        Var("demos", IntRange(0, 16), 0),
        Var("max_iters", IntRange(1, 10), 3),
        Var("temperature", FloatRange(0.0, 1.0, step=0.1), 0.0),
        Var("top_p", FloatRange(0.5, 1.0, step=0.05), 1.0),
        Var("retries", IntRange(0, 4), 0),
        Var("use_tools", BoolDomain(), False),
        Var("instructions", Opaque(8), "default instructions"),
    ]
    react_models = In(Ref("model"), (Sym("gpt4o"), Sym("sonnet"), Sym("haiku")))
    constraints: list[AnyConstraint] = [
        Constraint(1, Implies(eq("module", "react"), react_models)),
        Constraint(2, Implies(eq("module", "pot"), Cmp("!=", Ref("adapter"), sym("xml")))),
        Constraint(3, le(plus(Ref("demos"), Ref("max_iters")), 20)),
        Constraint(
            4,
            Implies(In(Ref("module"), (Sym("predict"), Sym("cot"))), le(Ref("max_iters"), 3)),
        ),
        Constraint(5, Or(le(Ref("temperature"), 0.7), eq("module", "predict"))),
        Constraint(6, Implies(Ref("use_tools"), eq("module", "react"))),
        Constraint(7, Implies(eq("adapter", "json"), Cmp("!=", Ref("model"), sym("local")))),
        Constraint(8, le(plus(times(Ref("demos"), 2), Ref("retries")), 30)),
        Constraint(9, le(plus(times(Ref("temperature"), 10), times(Ref("top_p"), 10)), 17)),
        Constraint(
            10,
            Implies(Cmp(">", Ref("retries"), Const(0)), Cmp(">", Ref("temperature"), Const(0.1))),
        ),
        Constraint(11, Implies(eq("model", "local"), le(Ref("demos"), 4))),
        Constraint(12, Not(And(eq("adapter", "xml"), eq("model", "mini")))),
        Predicate(13, ("model", "module", "demos"), cost),
    ]
    if scenario == "stress":
        vars += [
            Var("judge", Choice(models), Sym("mini")),
            Var("rerank", BoolDomain(), False),
            Var("k", IntRange(1, 50), 5),
            Var("chunk", IntRange(64, 4096), 512),
            Var("overlap", IntRange(0, 512), 0),
            Var("judge_t", FloatRange(0.0, 1.0, step=0.1), 0.0),
            Var("seed", IntRange(0, 1_000_000), 0),
            Var("style", Choice((Sym("terse"), Sym("detailed"), Sym("bullets"))), Sym("terse")),
        ]
        constraints += [
            Constraint(14, Implies(Ref("rerank"), Cmp(">=", Ref("k"), Const(10)))),
            Constraint(15, le(Arith("-", Ref("overlap"), times(Ref("chunk"), 0.25)), 0)),
            Constraint(16, le(plus(times(Ref("k"), 512), Ref("chunk")), 20_000)),
            Constraint(17, Implies(eq("judge", "local"), le(Ref("judge_t"), 0.2))),
            Constraint(18, Cmp("!=", Ref("judge"), Ref("model"))),
            Constraint(19, Implies(eq("style", "detailed"), Not(eq("module", "predict")))),
            Constraint(20, le(plus(Ref("demos"), Ref("k")), 40)),
            Constraint(21, Implies(eq("module", "react"), Not(Ref("rerank")))),
        ]
    space = Space(vars, constraints)
    result = space.analyze()
    t2 = time.perf_counter()
    print(f"  imports {t1 - t0:.3f} s, build+analyse {t2 - t1:.3f} s, nodes {space.search.nodes}")
    print(f"  configurations {result.total_size:,}, feasible {result.size:,}")
    dead = ", ".join(d.describe() for d in result.dead_values) or "none"
    print(f"  dead values: {dead}; redundant {list(result.redundant)}; complete {result.complete}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", choices=["program", "stress"])
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    python = sys.executable
    for scenario in ("program", "stress"):
        command = [python, str(Path(__file__).resolve()), "--child", scenario]
        times, output = [], ""
        for _ in range(args.runs):
            start = time.perf_counter()
            done = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            output = done.stdout
        median = statistics.median(times)
        verdict = "met" if median <= TARGET_SECONDS else "MISSED"
        print(f"{scenario}: whole process median {median:.3f} s over {args.runs} runs")
        print(output.rstrip())
        print(f"  target {TARGET_SECONDS} s: {verdict} ({median / TARGET_SECONDS:.2f} of it)")
    start = time.perf_counter()
    subprocess.run([python, "-c", "pass"], check=True)
    print(f"bare interpreter start-up for reference: {time.perf_counter() - start:.3f} s")
    print(f"reproduce: cd {ROOT} && .venv/bin/python bench/space_solver.py --runs {args.runs}")


if __name__ == "__main__":
    main()
