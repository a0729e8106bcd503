"""Fuzz campaign over the compiler: parse -> check -> estimate -> compile -> fmt.

Inputs are mutations of the examples and of the checker's test cases (byte-level:
flips, deletions, insertions, duplications, splices between files; token-level:
swapping, dropping and repeating keywords and punctuation), each run in a worker
process with a per-input time bound. For every input:
- no exception escapes any stage (diagnostics instead);
- no input takes longer than the bound (a hang);
- when the input has no syntax error, `fmt` keeps its meaning: parse(fmt(x)) == parse(x)
  and fmt(fmt(x)) == fmt(x);
- when it checks without errors, estimates and code generation run too.
Failing inputs are written to `bench/out/fuzz/` with the stage and traceback.

Run: python bench/fuzz_compiler.py --inputs 1000000 --workers 2
(prints inputs/s and every failure; exit 1 when anything failed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dspx_lang.driver import Compilation

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out" / "fuzz"
TOKENS = [
    b"{",
    b"}",
    b"(",
    b")",
    b"[",
    b"]",
    b",",
    b":",
    b".",
    b"..",
    b"=",
    b"==",
    b"=>",
    b"->",
    b"<",
    b">",
    b"<=",
    b"@",
    b"|",
    b"?",
    b'"',
    b'"""',
    b"//",
    b"/*",
    b"*/",
    b"\n",
    b"-",
    b"$",
    b"program",
    b"step",
    b"var",
    b"in",
    b"out",
    b"model",
    b"signature",
    b"return",
    b"test",
    b"constraint",
    b"objective",
    b"budget",
    b"optimize",
    b"import",
    b"enum",
    b"class",
    b"tool",
    b"dataset",
    b"not",
    b"and",
    b"or",
    b"true",
    b"false",
    b"cot",
    b"pot",
    b"react",
    b"predict",
    b"1",
    b"-3",
    b"0.5",
    b"$0.01",
    b"2s",
    b"\x00",
    b"\xff",
    "é😀".encode(),
]


class Timeout(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Timeout


def corpus() -> list[bytes]:
    files = sorted((ROOT / "examples").glob("*.dspx")) + sorted(
        (ROOT / "tests" / "cases").rglob("*.dspx")
    )
    return [p.read_bytes() for p in files]


def mutate(rng: random.Random, seeds: list[bytes]) -> bytes:
    data = bytearray(rng.choice(seeds))
    for _ in range(rng.randint(1, 10)):
        op = rng.randrange(7)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            del data[at : at + rng.randint(1, 16)]
        elif op == 1:
            data[at:at] = rng.choice(TOKENS)
        elif op == 2 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 3 and data:
            end = min(len(data), at + rng.randint(1, 200))
            data[end:end] = data[at:end] * rng.randint(1, 3)
        elif op == 4:
            other = rng.choice(seeds)
            start = rng.randrange(len(other) + 1)
            data[at:at] = other[start : start + rng.randint(1, 300)]
        elif op == 5:
            data[at:at] = rng.choice(TOKENS) * rng.randint(2, 50)
        elif data:
            data[at : at + 1] = b" "
    return bytes(data)


def run_one(data: bytes) -> str | None:
    """Every stage on one input; the failing stage's name and traceback, or None."""
    from dspx_lang.driver import Session
    from dspx_lang.source import SourceFile
    from dspx_lang.syntax import parse
    from dspx_lang.syntax.format import format_module

    stage = "parse"
    try:
        source = SourceFile.from_bytes(str(ROOT / "examples" / "fuzz.dspx"), data)

        def loader(path: str) -> SourceFile:
            raise OSError(2, "no such file (fuzzing)")

        session = Session(loader=loader)
        parsed = session.cache.parse(source)  # the check below reuses this parse
        stage = "check"
        compilation = session.check_source(source)
        if not parsed.diagnostics:
            stage = "fmt"
            formatted = format_module(source, parsed.module)
            again = parse(SourceFile(source.path, formatted))
            if again.diagnostics or again.module != parsed.module:
                return "fmt: formatting changed the meaning"
            if format_module(again.source, again.module) != formatted:
                return "fmt: not idempotent"
        if not compilation.has_errors:
            stage = "estimate"
            for report in compilation.reports.values():
                _ = report.estimates
            stage = "compile"
            compile_stage(compilation)
    except Timeout:
        raise
    except Exception:
        return f"{stage}: {traceback.format_exc()}"
    return None


def compile_stage(compilation: Compilation) -> None:
    """Lower to the IR, round-trip it through JSON, and generate the Python module."""
    from dspx_lang.codegen.generate import generate
    from dspx_lang.ir import package_from_json
    from dspx_lang.ir.lower import lower

    package = lower(compilation)
    generate(package_from_json(package.model_dump_json()))


def worker(
    index: int, count: int, bound: float, queue: multiprocessing.Queue[tuple[str, object]]
) -> None:
    rng = random.Random(index * 7919 + 1)
    seeds = corpus()
    # CPU time, not wall time: a loaded machine must not turn slow inputs into false hangs.
    signal.signal(signal.SIGPROF, _alarm)
    done = 0
    for _ in range(count):
        data = mutate(rng, seeds)
        signal.setitimer(signal.ITIMER_PROF, bound)
        try:
            failure = run_one(data)
        except Timeout:
            failure = f"hang: over {bound}s"
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
        done += 1
        if failure is not None:
            queue.put(("failure", (failure, data)))
        if done % 500 == 0:
            queue.put(("progress", 500))
    queue.put(("progress", done % 500))
    queue.put(("done", index))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inputs", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--bound", type=float, default=5.0, help="CPU seconds per input")
    args = parser.parse_args()
    os.environ.setdefault("DSPX_CACHE", "0")
    queue: multiprocessing.Queue[tuple[str, object]] = multiprocessing.Queue()
    per_worker = args.inputs // args.workers
    procs = [
        multiprocessing.Process(target=worker, args=(i, per_worker, args.bound, queue))
        for i in range(args.workers)
    ]
    start = time.perf_counter()
    for p in procs:
        p.start()
    finished, total, failures = 0, 0, 0
    OUT.mkdir(parents=True, exist_ok=True)
    last = start
    while finished < len(procs):
        kind, payload = queue.get()
        if kind == "progress":
            total += int(payload)  # type: ignore[call-overload]
        elif kind == "done":
            finished += 1
        else:
            failures += 1
            message, data = payload  # type: ignore[misc]
            stem = OUT / f"failure-{failures:04d}"
            stem.with_suffix(".dspx").write_bytes(data)
            stem.with_suffix(".txt").write_text(message, encoding="utf-8")
            print(f"FAILURE {stem}.dspx: {message.splitlines()[0] if message else ''}")
        now = time.perf_counter()
        if now - last > 30:
            print(
                f"  {total:,} inputs, {total / (now - start):.0f}/s, {failures} failures",
                flush=True,
            )
            last = now
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    print(
        f"{total:,} inputs in {elapsed:.0f}s ({total / elapsed:.0f} inputs/s, "
        f"{args.workers} workers), {failures} failures, bound {args.bound}s per input"
    )
    print(
        f"reproduce: {sys.executable} bench/fuzz_compiler.py --inputs {args.inputs} "
        f"--workers {args.workers}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
