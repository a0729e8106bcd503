"""`dspxc optimize` on real data with a real model, against DSPy's BootstrapFewShotWithRandomSearch.

Reproduce from the repository root (the local model must be fetched; this starts nothing):
    .venv/bin/dspxc local start --threads 2
    .venv/bin/python bench/optimize_intent.py > bench/out/optimize_intent.log 2>&1 &

Task: BIG-bench intent_recognition (`../shared/data/bigbench/intent_recognition.jsonl`), the
program `classify` of examples/intent.dspx with the local model only (Qwen2.5-0.5B on
llama.cpp, 2 threads): variables `demos` 0..8 and `instructions(ClassifyIntent)`; objectives
exact_match(intent) 0.9 and latency 0.1; budget latency <= 5 s.
Split (file rows, 0-based, half-open): train 0-200, dev 200-240, test 493-693 (200 rows,
never seen by either optimizer). Each seed (default 0, 1, 2):
- dspx: `dspxc optimize --seed S --trials T --no-baseline` (tpe; demos bootstrapped by the
  default configuration on the trainset, 4 instruction proposals, T trials on dev), then
  `dspxc eval --opt` on test;
- DSPy 3.4 (`bench/.venv-dspy`): `BootstrapFewShotWithRandomSearch(max_bootstrapped_demos=4,
  max_labeled_demos=4, num_candidate_programs=C)` compiled on the same train/dev rows, the same
  model and endpoint at temperature 0, then `Evaluate` on test. C is chosen so that its LM
  calls match dspx's (each candidate costs one dev pass, as a dspx trial does).
The default configuration (zero-shot, as the file stands) is evaluated on test once.
Calls count every request a program made (both sides run their optimizers with caches off;
test evaluations may be answered from the cache on a rerun: they are deterministic).

Resumable: each finished step is kept in `bench/out/optimize_intent/results.json` and skipped
on a rerun; an interrupted dspx study resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "bigbench" / "intent_recognition.jsonl"
DSPY_PYTHON = ROOT / "bench" / ".venv-dspy" / "bin" / "python"
OUT = ROOT / "bench" / "out" / "optimize_intent"
BASE = "http://127.0.0.1:8080/v1"
SPLITS = {"train": (0, 200), "dev": (200, 240), "test": (493, 693)}
LABELS = {
    "add_to_playlist": "add a song or artist to a playlist",
    "book_restaurant": "reserve a table",
    "get_weather": "ask about the weather",
    "play_music": "play a song, artist or album",
    "rate_book": "give a rating to a book",
    "search_creative_work": "look for a book, film, show or game",
    "search_screening_event": "look for movie times or cinemas",
}
INSTRUCTIONS = "Classify the user's request into exactly one intent."
SOURCE = """\
// A bench copy of examples/intent.dspx with the local model only (see bench/optimize_intent.py).
model local = "openai/qwen2.5-0.5b-instruct" {{
  api_base: "{base}"
  input_cost: 0.0
  output_cost: 0.0
  tokens_per_second: 38
  first_token_latency: 300ms
  context_window: 4096
  max_tokens: 256
  timeout: 120s
}}

enum Intent {{
{enum}
}}

signature ClassifyIntent {{
  \"\"\"{instructions}\"\"\"
  in utterance: string
  out intent: Intent
}}

dataset intent_train = "train.jsonl"
dataset intent_dev = "dev.jsonl"
dataset intent_test = "test.jsonl"

program classify {{
  in utterance: string
  out intent: Intent

  var demos: int in 0..8 = 4
  var instructions: instructions(ClassifyIntent)

  step classify = predict ClassifyIntent(utterance) {{
    model: local
    demos: demos
    adapter: chat
    instructions: instructions
    temperature: 0.0
  }}

  return classify

  objective maximize exact_match(intent) weight 0.9
  objective minimize latency weight 0.1

  budget latency <= 5s

  optimize {{
    trainset intent_train
    devset intent_dev
    sampler tpe
    trials 8
    seed 0
    concurrency 1
  }}
}}
"""


def write_task() -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    for name, (lo, hi) in SPLITS.items():
        chosen = [{"utterance": r["utterance"], "intent": r["intent"]} for r in rows[lo:hi]]
        (OUT / f"{name}.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in chosen), encoding="utf-8"
        )
    enum = "\n".join(f'  {k} "{v}"' for k, v in LABELS.items())
    path = OUT / "intent_bench.dspx"
    path.write_text(
        SOURCE.format(base=BASE, enum=enum, instructions=INSTRUCTIONS), encoding="utf-8"
    )
    return path


def dspxc(*args: str, log: str) -> dict[str, Any]:
    """Run dspxc with `--format json`; its stderr (forecast, progress) goes to the log."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    with open(OUT / log, "a", encoding="utf-8") as err:
        done = subprocess.run(
            [sys.executable, "-m", "dspx_lang", *args, "--format", "json"],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env=env,
            cwd=OUT,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"dspxc {args[0]} failed ({done.returncode}); see {OUT / log}")
    data: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    data["wall_s"] = time.monotonic() - started
    return data


def accuracy(evaluation: dict[str, Any]) -> float:
    return float(
        next(o["value"] for o in evaluation["objectives"] if o["name"] == "exact_match(intent)")
    )


# ------------------------------------------------------------------------------- DSPy


def dspy_worker(seed: int, candidates: int) -> None:
    """Runs in bench/.venv-dspy: compile on train/dev, evaluate on test, print one JSON line."""
    import random
    from typing import Literal

    import dspy
    from dspy.teleprompt import BootstrapFewShotWithRandomSearch

    def load(name: str) -> list[Any]:
        rows = [json.loads(x) for x in (OUT / f"{name}.jsonl").read_text().splitlines() if x]
        return [
            dspy.Example(utterance=r["utterance"], intent=r["intent"]).with_inputs("utterance")
            for r in rows
        ]

    intents = tuple(LABELS)
    desc = "; ".join(f"{k}: {v}" for k, v in LABELS.items())

    # Built from values: a class body's `Literal[intents]` would stay a string annotation here
    # (`from __future__ import annotations`) that pydantic cannot resolve.
    intent_type: Any = Literal[intents]  # type: ignore[valid-type]
    ClassifyIntent = dspy.Signature(
        {
            "utterance": (str, dspy.InputField()),
            "intent": (intent_type, dspy.OutputField(desc=desc)),
        },
        INSTRUCTIONS,
    )

    lm = dspy.LM(
        "openai/qwen2.5-0.5b-instruct",
        api_base=BASE,
        api_key="local",
        temperature=0.0,
        max_tokens=256,
        cache=False,
    )
    dspy.configure(lm=lm)

    def metric(example: Any, prediction: Any, trace: Any = None) -> bool:
        return str(getattr(prediction, "intent", "")).strip() == example.intent

    train, dev, test = load("train"), load("dev"), load("test")
    random.Random(seed).shuffle(train)  # DSPy's search has no seed: the trainset order varies
    optimizer = BootstrapFewShotWithRandomSearch(
        metric=metric,
        max_bootstrapped_demos=4,
        max_labeled_demos=4,
        num_candidate_programs=candidates,
        num_threads=2,
    )
    started = time.monotonic()
    compiled = optimizer.compile(dspy.Predict(ClassifyIntent), trainset=train, valset=dev)
    compile_calls = len(lm.history)
    compile_s = time.monotonic() - started
    cached = dspy.LM(
        "openai/qwen2.5-0.5b-instruct",
        api_base=BASE,
        api_key="local",
        temperature=0.0,
        max_tokens=256,
        cache=True,
    )
    with dspy.context(lm=cached):
        score = dspy.Evaluate(devset=test, metric=metric, num_threads=2, display_progress=False)(
            compiled
        )
    value = float(getattr(score, "score", score))
    print(
        json.dumps(
            {
                "test_accuracy": value / 100 if value > 1 else value,
                "calls": compile_calls,
                "compile_s": compile_s,
                "demos": len(compiled.demos),
            }
        )
    )


def run_dspy(seed: int, candidates: int) -> dict[str, Any]:
    with open(OUT / f"dspy-seed-{seed}.log", "a", encoding="utf-8") as err:
        done = subprocess.run(
            [str(DSPY_PYTHON), __file__, "--dspy-worker", str(seed), str(candidates)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"DSPy seed {seed} failed; see {OUT / f'dspy-seed-{seed}.log'}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# ------------------------------------------------------------------------------- main


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return (
        f"{statistics.mean(values):.3f} ± {sd:.3f} (min {min(values):.3f}, max {max(values):.3f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--candidates", type=int, default=3, help="DSPy num_candidate_programs")
    parser.add_argument("--only", choices=("dspx", "dspy"))
    parser.add_argument("--dspy-worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.dspy_worker:
        dspy_worker(*args.dspy_worker)
        return
    source = write_task()
    store = OUT / "results.json"
    results: dict[str, Any] = json.loads(store.read_text()) if store.exists() else {}

    def keep(key: str, value: dict[str, Any]) -> None:
        results[key] = value
        store.write_text(json.dumps(results, indent=2))
        print(f"{key}: {json.dumps(value)}", flush=True)

    if "default" not in results:
        ev = dspxc(
            "eval",
            str(source),
            "--data",
            "intent_test",
            "--concurrency",
            "2",
            "--out",
            "default.test.jsonl",
            log="default.log",
        )
        keep("default", {"test_accuracy": accuracy(ev), "wall_s": ev["wall_s"]})
    for seed in args.seeds:
        key = f"dspx-{seed}"
        if args.only != "dspy" and key not in results:
            artifact = f"seed-{seed}.opt.json"
            opt = dspxc(
                "optimize",
                str(source),
                "--program",
                "classify",
                "--seed",
                str(seed),
                "--study",
                f"seed-{seed}",
                "-o",
                artifact,
                "--trials",
                str(args.trials),
                "--concurrency",
                "1",
                "--eval-concurrency",
                "2",
                "--yes",
                "--no-baseline",
                "--report",
                f"seed-{seed}.html",
                log=f"dspx-seed-{seed}.log",
            )
            ev = dspxc(
                "eval",
                str(source),
                "--data",
                "intent_test",
                "--concurrency",
                "2",
                "--opt",
                artifact,
                "--out",
                f"seed-{seed}.test.jsonl",
                log=f"dspx-seed-{seed}.log",
            )
            keep(
                key,
                {
                    "test_accuracy": accuracy(ev),
                    "calls": sum(opt["calls"].values()),
                    "calls_by_phase": opt["calls"],
                    "dev_values": opt["values"],
                    "dev_default": opt["default_values"],
                    "config": {
                        k: (v if k != "instructions" else v[:80]) for k, v in opt["config"].items()
                    },
                    "optimize_wall_s": opt["wall_s"],
                },
            )
        key = f"dspy-{seed}"
        if args.only != "dspx" and key not in results and DSPY_PYTHON.exists():
            keep(key, run_dspy(seed, args.candidates))
    print()
    print(
        f"split: train rows {SPLITS['train']}, dev {SPLITS['dev']}, test {SPLITS['test']} "
        "(half-open, 0-based)"
    )
    default = results["default"]["test_accuracy"]
    print(f"default configuration (zero-shot) test accuracy: {default:.3f}")
    for name in ("dspx", "dspy"):
        runs = [results[f"{name}-{s}"] for s in args.seeds if f"{name}-{s}" in results]
        if not runs:
            continue
        accs = [r["test_accuracy"] for r in runs]
        calls = [float(r["calls"]) for r in runs]
        label = "dspx optimize" if name == "dspx" else "DSPy BootstrapFewShotWithRandomSearch"
        print(
            f"{label}: test accuracy {spread(accs)}; LM calls {spread(calls)}; per seed "
            + ", ".join(f"{a:.3f}" for a in accs)
        )


if __name__ == "__main__":
    main()
