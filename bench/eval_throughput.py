"""Evaluation throughput: 500 examples, fixture server with 100 ms latency, concurrency 32.

Reproduce from the repository root: `.venv/bin/python bench/eval_throughput.py`
(`--examples N --latency S --concurrency N --rounds R`). DSPy is measured when
`bench/.venv-dspy` exists: `.venv/bin/python -m venv bench/.venv-dspy &&
bench/.venv-dspy/bin/pip install dspy`.

Setup: the fixture OpenAI-compatible server runs in its own process and answers every request
after `--latency` seconds with one fixed answer that both DSPy's ChatAdapter and dspx's chat
adapter accept (on uvloop, as every fixture server is). Each contender runs in a fresh process:
it warms up (one evaluation of `concurrency` examples: imports, connections), then evaluates
`--examples` distinct questions with exact match, caches off; the contenders take turns for
`--rounds` rounds and the median wall time is reported. Contenders: dspx
`program.aevaluate(rows, concurrency=32)` (results in memory) run as `dspxc eval` runs it (the
runtime's loops, asyncio's), the same streaming every result to a JSONL file (what `dspxc eval`
does), the first again with `DSPX_LOOP=uvloop` (uvloop's loops: what uvloop would be worth),
DSPy's `Evaluate(num_threads=32)` with `Predict`, and, as the floor, bare aiohttp requests
behind a semaphore of 32 (no prompt, no parsing, no scoring) on asyncio's loop and on uvloop's.

Ideal: examples x latency / concurrency (1.5625 s for the defaults); target: dspx at >= 90 %
of it (wall <= ideal / 0.9 = 1.74 s) and faster than DSPy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DSPY_PYTHON = ROOT / "bench" / ".venv-dspy" / "bin" / "python"
ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
SOURCE = """
model fx = "openai/gpt-4o-mini" {{
  api_base: "{base}"
  timeout: 30s
}}

signature Answer {{
  in question: string
  out answer: string
}}

program qa {{
  in question: string
  out answer: string
  step a = predict Answer(question) {{ model: fx }}
  return a
  objective maximize exact_match(answer)
}}
"""
DSPX = "dspx aevaluate"
DSPX_FILE = "dspx aevaluate + JSONL file"
DSPY = "DSPy Evaluate(num_threads)"
DSPX_UV = "dspx aevaluate, DSPX_LOOP=uvloop"
RAW = "raw aiohttp + semaphore (floor)"
RAW_UV = "raw aiohttp + semaphore on uvloop (floor)"


def rows(count: int, offset: int = 0) -> list[dict[str, str]]:
    return [
        {"question": f"What is the capital, {offset + i}?", "answer": "Paris"} for i in range(count)
    ]


# ----------------------------------------------------------------------------- workers


def worker_dspx(base: str, examples: int, concurrency: int, to_file: bool) -> float:

    from dspx_lang.codegen.build import compile_source
    from dspx_lang.runtime import LMClient, Program
    from dspx_lang.runtime.loop import run as run_loop

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "bench_eval.dspx"
        path.write_text(SOURCE.format(base=base))
        package = compile_source(path).package
        assert package is not None
        program = Program(package, "qa", client=LMClient(cache=False))
        out = Path(directory) / "results.jsonl" if to_file else None

        async def run() -> float:
            warm = await program.aevaluate(rows(concurrency, 10**6), concurrency=concurrency)
            assert warm.value("exact_match(answer)") == 1.0, warm.to_json()
            started = time.perf_counter()
            result = await program.aevaluate(rows(examples), concurrency=concurrency, out=out)
            wall = time.perf_counter() - started
            assert result.scored == examples, result.to_json()
            assert result.value("exact_match(answer)") == 1.0
            return wall

        return run_loop(run())


def worker_raw(base: str, examples: int, concurrency: int, uv: bool) -> float:
    """The floor: bare aiohttp requests behind a semaphore, no prompt, no parsing."""
    import asyncio

    import aiohttp

    async def run() -> float:
        limit = asyncio.Semaphore(concurrency)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(item: dict[str, str]) -> bool:
                body = {"model": "m", "messages": [{"role": "user", "content": item["question"]}]}
                async with limit, session.post(f"{base}/chat/completions", json=body) as response:
                    data = await response.json()
                text = data["choices"][0]["message"]["content"]
                return "Paris" in text

            await asyncio.gather(*(one(item) for item in rows(concurrency, 10**6)))
            started = time.perf_counter()
            answers = await asyncio.gather(*(one(item) for item in rows(examples)))
            wall = time.perf_counter() - started
            assert all(answers)
            return wall

    if uv:
        import uvloop

        return uvloop.run(run())
    return asyncio.run(run())


def worker_dspy(base: str, examples: int, concurrency: int) -> float:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    os.environ.setdefault("DSPY_CACHEDIR", tempfile.mkdtemp())
    import dspy

    dspy.configure(lm=dspy.LM("openai/gpt-4o-mini", api_base=base, api_key="x", cache=False))
    predict = dspy.Predict("question -> answer")

    def metric(example: dspy.Example, prediction: dspy.Prediction, trace: object = None) -> bool:
        return bool(example.answer == prediction.answer)

    def devset(items: list[dict[str, str]]) -> list[dspy.Example]:
        return [dspy.Example(**item).with_inputs("question") for item in items]

    def evaluate(items: list[dict[str, str]]) -> float:
        evaluator = dspy.Evaluate(
            devset=devset(items), metric=metric, num_threads=concurrency, display_progress=False
        )
        return float(evaluator(predict).score)

    assert evaluate(rows(concurrency, 10**6)) == 100.0
    items = rows(examples)
    started = time.perf_counter()
    score = evaluate(items)
    wall = time.perf_counter() - started
    assert score == 100.0, score
    return wall


def serve(latency: float) -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.lm_server import FakeLMServer

    server = FakeLMServer().start()
    server.delay_s = latency
    server.respond_with(lambda request: ANSWER)
    print("LISTENING", server.base_url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


# ------------------------------------------------------------------------------ driver


def run_worker(python: Path | str, args: list[str], loop: str = "") -> float | str:
    result = subprocess.run(
        [str(python), __file__, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DSPX_CACHE": "0", "DSPX_LOOP": loop},
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        return (result.stderr.strip().splitlines() or ["failed"])[-1]
    return float(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--examples", type=int, default=500)
    parser.add_argument("--latency", type=float, default=0.1, help="server delay, seconds")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="contenders take turns")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.latency)
        return
    if args.worker:
        kind, base = args.worker
        if kind == "dspy":
            wall = worker_dspy(base, args.examples, args.concurrency)
        elif kind in ("raw", "raw-uv"):
            wall = worker_raw(base, args.examples, args.concurrency, kind == "raw-uv")
        else:
            wall = worker_dspx(base, args.examples, args.concurrency, kind == "dspx-file")
        print(json.dumps(wall))
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--latency", str(args.latency)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if server.stdout is None or server.stdin is None:
        raise RuntimeError("the fixture server subprocess has no pipes")
    base = server.stdout.readline().split()[1]
    sizes = [
        "--examples",
        str(args.examples),
        "--concurrency",
        str(args.concurrency),
    ]
    contenders: list[tuple[str, Path | str, list[str], str]] = [
        (DSPX, sys.executable, [*sizes, "--worker", "dspx", base], ""),
        (DSPX_FILE, sys.executable, [*sizes, "--worker", "dspx-file", base], ""),
        (DSPX_UV, sys.executable, [*sizes, "--worker", "dspx", base], "uvloop"),
        (RAW, sys.executable, [*sizes, "--worker", "raw", base], ""),
        (RAW_UV, sys.executable, [*sizes, "--worker", "raw-uv", base], ""),
    ]
    if DSPY_PYTHON.exists():
        contenders.append((DSPY, DSPY_PYTHON, [*sizes, "--worker", "dspy", base], ""))
    walls: dict[str, list[float]] = {}
    failures: dict[str, str] = {}
    try:
        for _ in range(max(1, args.rounds)):
            for label, python, worker_args, loop in contenders:
                outcome = run_worker(python, worker_args, loop)
                if isinstance(outcome, str):
                    failures[label] = outcome
                else:
                    walls.setdefault(label, []).append(outcome)
    finally:
        server.stdin.close()
        server.wait(30)
    report(walls, failures, args)


def report(
    walls: dict[str, list[float]], failures: dict[str, str], args: argparse.Namespace
) -> None:
    ideal = args.examples * args.latency / args.concurrency
    limit = ideal / 0.9
    print("reproduce: .venv/bin/python bench/eval_throughput.py")
    print(
        f"{args.examples} examples, server latency {args.latency * 1e3:.0f} ms, concurrency "
        f"{args.concurrency}, caches off; median of {args.rounds} run(s), fresh processes taking "
        f"turns; ideal {ideal:.4f} s, target <= {limit:.3f} s (>= 90 % of ideal)"
    )
    medians = {label: statistics.median(values) for label, values in walls.items()}
    for label, values in walls.items():
        shown = ", ".join(f"{v:.3f}" for v in values)
        median = medians[label]
        print(
            f"  {label:<31} median {median:6.3f} s  x{median / ideal:.3f} of ideal "
            f"({ideal / median * 100:5.1f} %)  best {min(values):.3f} s  runs: {shown}"
        )
    for label, message in failures.items():
        print(f"  {label:<31} failed: {message}")
    ours = medians.get(DSPX)
    if ours is None:
        return
    verdict = "meets" if ours <= limit else "MISSES"
    print(f"dspx {ours:.3f} s {verdict} the <= {limit:.3f} s target")
    for floor in (RAW_UV, RAW):
        if floor in medians:
            print(f"  dspx / {floor}: x{ours / medians[floor]:.3f}")
    other = medians.get(DSPY)
    if other is not None:
        verdict = "faster" if ours < other else "SLOWER"
        print(f"  dspx / DSPy Evaluate: x{ours / other:.3f} ({verdict})")
        with_file = medians.get(DSPX_FILE)
        if with_file is not None:
            print(f"  dspx with JSONL file / DSPy Evaluate: x{with_file / other:.3f}")
    else:
        print("  (DSPy not measured: create bench/.venv-dspy with dspy installed)")


if __name__ == "__main__":
    main()
