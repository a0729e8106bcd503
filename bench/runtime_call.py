"""Per-call time of a compiled dspx program vs DSPy 3.4 `Predict`, against one fixture server.

Reproduce from the repository root: `.venv/bin/python bench/runtime_call.py` (`--calls N`).
DSPy is measured when `bench/.venv-dspy` exists:
`.venv/bin/python -m venv bench/.venv-dspy && bench/.venv-dspy/bin/pip install dspy`.

Setup: the fixture OpenAI-compatible server runs in its own process with zero delay and one
fixed answer that both DSPy's ChatAdapter and dspx's chat adapter accept. Each contender
runs in fresh processes of its own, makes warm-up calls, then sequential calls with a
different question each (caches off); the contenders take turns for `--rounds` rounds so a
change in the machine's load hits all of them. Reported: median and p95 of the whole call as
seen from Python: `qa(question=...)` for dspx (typed outputs), `predict(question=...)` for
DSPy. Target: dspx median <= 1.5 ms, <= 1/2 of DSPy's default engine, <= 1/4 of DSPy on
litellm.
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
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DSPY_PYTHON = ROOT / "bench" / ".venv-dspy" / "bin" / "python"
ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"
TARGET_MS = 1.5
DSPY_DEFAULT = "DSPy Predict, default engine"
DSPY_LITELLM = "DSPy Predict, litellm engine"
SOURCE = """
model fx = "openai/gpt-4o-mini" {{
  api_base: "{base}"
  transport: "{transport}"
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
}}
"""


def measure(call: Callable[[int], object], calls: int, warmup: int) -> list[float]:
    for i in range(warmup):
        call(-1 - i)
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        call(i)
        samples.append(time.perf_counter() - started)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": statistics.median(ordered) * 1e3,
        "p95_ms": ordered[int(len(ordered) * 0.95)] * 1e3,
    }


# ----------------------------------------------------------------------------- workers


def worker_dspx(module_dir: str, calls: int, warmup: int) -> list[float]:
    sys.path.insert(0, module_dir)
    from bench_qa import qa  # type: ignore[import-not-found]

    from dspx_lang.runtime import LMClient

    program = qa.with_client(LMClient(cache=False))
    result = program(question="warm")
    assert result.answer == "Paris", result
    return measure(lambda i: program(question=f"What is the capital, {i}?"), calls, warmup)


def worker_dspy(base: str, engine: str, calls: int, warmup: int) -> list[float]:
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    os.environ.setdefault("DSPY_CACHEDIR", tempfile.mkdtemp())
    import dspy

    lm = dspy.LM("openai/gpt-4o-mini", api_base=base, api_key="x", cache=False, engine=engine)
    dspy.configure(lm=lm)
    predict = dspy.Predict("question -> answer")
    assert predict(question="warm").answer == "Paris"
    return measure(lambda i: predict(question=f"What is the capital, {i}?"), calls, warmup)


def serve() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    from fixtures.lm_server import FakeLMServer

    server = FakeLMServer().start()
    server.respond_with(lambda request: ANSWER)
    print("LISTENING", server.base_url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    server.stop()


# ------------------------------------------------------------------------------ driver


def run_worker(python: Path | str, args: list[str]) -> list[float] | str:
    result = subprocess.run(
        [str(python), __file__, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DSPX_CACHE": "0"},
        check=False,
        timeout=900,
    )
    if result.returncode != 0:
        return (result.stderr.strip().splitlines() or ["failed"])[-1]
    samples: list[float] = json.loads(result.stdout.strip().splitlines()[-1])
    return samples


def compile_program(base: str, transport: str, directory: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from dspx_lang.codegen.build import compile_source, write_outputs

    path = directory / "bench_qa.dspx"
    path.write_text(SOURCE.format(base=base, transport=transport))
    result = compile_source(path)
    assert result.ok
    write_outputs(result, directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument(
        "--rounds", type=int, default=3, help="contenders take turns, calls/rounds each"
    )
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.worker:
        kind, target, *rest = args.worker
        if kind == "dspx":
            data = worker_dspx(target, args.calls, args.warmup)
        else:
            data = worker_dspy(target, rest[0], args.calls, args.warmup)
        print(json.dumps(data))
        return

    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if server.stdout is None or server.stdin is None:
        raise RuntimeError("the fixture server subprocess has no pipes")
    base = server.stdout.readline().split()[1]
    litellm_calls = max(60, args.calls // 5)  # the litellm paths are ~10x slower
    rounds = max(1, args.rounds)
    counts = ["--calls", str(args.calls // rounds), "--warmup", str(args.warmup)]
    slow = ["--calls", str(litellm_calls // rounds), "--warmup", str(min(args.warmup, 20))]
    samples: dict[str, list[float]] = {}
    failures: dict[str, str] = {}
    try:
        with tempfile.TemporaryDirectory() as native_dir, tempfile.TemporaryDirectory() as ll_dir:
            compile_program(base, "native", Path(native_dir))
            compile_program(base, "litellm", Path(ll_dir))
            contenders: list[tuple[str, Path | str, list[str]]] = [
                ("dspx (native path)", sys.executable, [*counts, "--worker", "dspx", native_dir]),
                ("dspx (litellm path)", sys.executable, [*slow, "--worker", "dspx", ll_dir]),
            ]
            if DSPY_PYTHON.exists():
                contenders += [
                    (DSPY_DEFAULT, DSPY_PYTHON, [*counts, "--worker", "dspy", base, "auto"]),
                    (DSPY_LITELLM, DSPY_PYTHON, [*slow, "--worker", "dspy", base, "litellm"]),
                ]
            # Taking turns spreads the machine's load changes over every contender.
            for _ in range(rounds):
                for label, python, worker_args in contenders:
                    outcome = run_worker(python, worker_args)
                    if isinstance(outcome, str):
                        failures[label] = outcome
                    else:
                        samples.setdefault(label, []).extend(outcome)
    finally:
        server.stdin.close()
        server.wait(30)
    results: dict[str, dict[str, float] | str] = {k: summary(v) for k, v in samples.items()}
    results.update(failures)
    report(results, args.calls, litellm_calls)


def report(results: dict[str, dict[str, float] | str], calls: int, litellm_calls: int) -> None:
    print("reproduce: .venv/bin/python bench/runtime_call.py")
    print(
        f"per-call time, whole call from Python, fixture server with zero delay, caches off "
        f"({calls} calls; {litellm_calls} on litellm paths; contenders taking turns):"
    )
    for label, data in results.items():
        if isinstance(data, str):
            print(f"  {label:<32} failed: {data}")
        else:
            print(
                f"  {label:<32} median {data['median_ms']:7.3f} ms   p95 {data['p95_ms']:7.3f} ms"
            )
    ours = results.get("dspx (native path)")
    if not isinstance(ours, dict):
        return
    verdict = "meets" if ours["median_ms"] <= TARGET_MS else "MISSES"
    print(f"dspx median {ours['median_ms']:.3f} ms {verdict} the {TARGET_MS} ms target")
    for label, limit in ((DSPY_DEFAULT, 0.5), (DSPY_LITELLM, 0.25)):
        other = results.get(label)
        if isinstance(other, dict):
            ratio = ours["median_ms"] / other["median_ms"]
            verdict = "meets" if ratio <= limit else "MISSES"
            print(f"  dspx / {label}: x{ratio:.2f} ({verdict} the x{limit} target)")
    if DSPY_DEFAULT not in results:
        print("  (DSPy not measured: create bench/.venv-dspy with dspy installed)")


if __name__ == "__main__":
    main()
