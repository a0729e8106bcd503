"""`dspxc eval FILE --program P --data FILE`: evaluate a program on a dataset.

Contract: prints the objectives table, budgets, measured cost/latency/tokens and the error
counts (`--format json`: one JSON object). Per-example results stream to `--out` (default
`.dspx/eval/<stem>.<program>.jsonl` under the current directory) as they finish; `--resume`
continues that file. A progress bar shows on a terminal (stderr), never otherwise.
Ctrl-C stops the run, prints the results so far and exits 130.
Exit codes: 0 the evaluation ran; 1 the file has errors, the program cannot run (e.g. no
API key) or no example could be scored; 2 usage, data or I/O errors; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dspx_lang.cli.common import fail
from dspx_lang.cli.run_cmd import (
    CommandError,
    add_program_arguments,
    configure,
    load_optimized,
    load_package,
    parse_assignments,
    pick_program,
)
from dspx_lang.runtime.loop import run as run_loop

if TYPE_CHECKING:
    from dspx_lang.runtime.eval_results import EvaluationResult, ExampleResult
    from dspx_lang.runtime.examples import Example
    from dspx_lang.runtime.metering import SpendHook
    from dspx_lang.runtime.program import Program

DESCRIPTION = "Evaluate a program on a dataset: objectives, budgets, cost, errors."
EPILOG = """\
exit codes: 0 evaluated, 1 file errors / the program cannot run / nothing scored,
2 usage or data error, 130 interrupted (the finished examples are kept; use --resume)

examples:
  dspxc eval examples/intent.dspx --program classify --data intent_dev --concurrency 16
  dspxc eval examples/qa.dspx --data examples/data/qa_dev.jsonl --limit 50 \\
      --set reasoning=predict --report qa.html
  dspxc eval qa.dspx --data other.csv --map answer=gold --out runs/qa.jsonl --resume

--data takes a .jsonl/.json/.csv file or the name of a dataset the file declares (whose
column mapping then applies). Fields are read from columns of the same name unless
--map FIELD=COLUMN says otherwise. Objectives and budgets are the program's; a program
without objectives is scored by exact_match on each output the data has.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_arguments(parser)
    parser.add_argument(
        "--data", "-d", required=True, metavar="FILE", help="dataset file or declared name"
    )
    parser.add_argument(
        "--map",
        dest="maps",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="read a field from another column (repeatable)",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N examples")
    parser.add_argument(
        "--concurrency", "-c", type=int, default=16, metavar="N", help="examples in flight"
    )
    parser.add_argument("--opt", metavar="ARTIFACT", help="apply an optimizer artifact first")
    parser.add_argument("--out", "-o", metavar="FILE", help="per-example results (JSONL)")
    parser.add_argument(
        "--resume", action="store_true", help="continue --out, skipping finished examples"
    )
    parser.add_argument("--report", metavar="HTML", help="write an HTML report")
    parser.add_argument(
        "--max-spend", type=float, metavar="USD", help="stop before spending more than this"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not use the response cache")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from dspx_lang.runtime.errors import DspxConfigError, DspxError
    from dspx_lang.runtime.lm import LMClient
    from dspx_lang.runtime.program import Program

    if args.concurrency < 1:
        fail("--concurrency must be at least 1")
        return 2
    try:
        mapping = {k: str(v) for k, v in parse_assignments(args.maps, "--map").items()}
        package = load_package(args.file)
        name = pick_program(package, args.program)
    except CommandError as exc:
        return exc.report()
    client = LMClient(cache=False) if args.no_cache else LMClient()
    try:
        program = configure(load_optimized(Program(package, name, client=client), args.opt), args)
        return _evaluate(program, args, mapping)
    except CommandError as exc:
        return exc.report()
    except DspxConfigError as exc:  # bad --set, --map or data: nothing was run
        fail(str(exc))
        return 2
    except DspxError as exc:
        fail(str(exc))
        return 1
    finally:
        client.close()


def _evaluate(program: Program, args: argparse.Namespace, mapping: dict[str, str]) -> int:
    from dspx_lang.runtime.errors import DspxConfigError
    from dspx_lang.runtime.examples import DspxDataError, load_examples
    from dspx_lang.runtime.metering import SpendLimit

    examples = load_examples(
        program.package, program.decl, args.data, mapping=mapping, limit=args.limit
    )
    out = Path(args.out) if args.out else _default_out(args.file, program.name)
    spend: SpendHook | None = None if args.max_spend is None else SpendLimit(args.max_spend)
    finished: list[ExampleResult] = []
    progress = _Progress(len(examples), enabled=_show_progress(args))
    try:
        result = run_loop(_aevaluate(program, examples, args, out, spend, finished, progress))
    except KeyboardInterrupt:
        progress.stop()
        partial = _partial(program, examples, finished)
        _print(partial, args, out, interrupted=True)
        if args.report:
            _write_report(partial, args)
        print(
            f"dspxc: interrupted; {_written(finished)} finished example(s) are in {out}; "
            "rerun with --resume to continue",
            file=sys.stderr,
        )
        return 130
    except DspxDataError:
        raise
    except DspxConfigError as exc:  # the program cannot run at all (no API key, bad model)
        progress.stop()
        fail(str(exc))
        print(f"dspxc: {_written(finished)} finished example(s) are in {out}", file=sys.stderr)
        return 1
    finally:
        progress.stop()
    _print(result, args, out, interrupted=False)
    if args.report:
        _write_report(result, args)
    return 0 if result.scored or not result.total else 1


async def _aevaluate(
    program: Program,
    examples: list[Example],
    args: argparse.Namespace,
    out: Path,
    spend: SpendHook | None,
    finished: list[ExampleResult],
    progress: _Progress,
) -> EvaluationResult:
    from dspx_lang.runtime.evaluate import aevaluate_program

    def on_result(result: ExampleResult) -> None:
        finished.append(result)
        progress.advance(result)

    return await aevaluate_program(
        program,
        examples,
        concurrency=args.concurrency,
        on_result=on_result,
        spend=spend,
        out=out,
        resume=args.resume,
    )


def _written(finished: list[ExampleResult]) -> int:
    """How many results the file holds (stopped examples are not written)."""
    return sum(r.status != "stopped" for r in finished)


def _default_out(file: str, program: str) -> Path:
    return Path(".dspx") / "eval" / f"{Path(file).stem}.{program}.jsonl"


def _show_progress(args: argparse.Namespace) -> bool:
    return not args.quiet and args.format == "text" and sys.stderr.isatty()


def _partial(
    program: Program, examples: list[Example], finished: list[ExampleResult]
) -> EvaluationResult:
    from dspx_lang.runtime.eval_results import summarize
    from dspx_lang.runtime.evaluate import default_objectives
    from dspx_lang.runtime.metrics import objectives_of

    return summarize(
        program=program.name,
        config=program.config,
        objectives=objectives_of(default_objectives(program.decl, examples)),
        budgets=[(b.metric, b.limit) for b in program.decl.budgets],
        results=finished,
        total=len(examples),
        stop_reason="interrupted",
    )


def _write_report(result: EvaluationResult, args: argparse.Namespace) -> None:
    from dspx_lang.runtime.report import write_report

    try:
        write_report(args.report, result, source=args.file, data=args.data)
    except OSError as exc:
        raise CommandError(
            f"cannot write the report {args.report}: {exc.strerror or exc}"
        ) from None


class _Progress:
    """A rich progress bar on stderr (examples done, running score, cost, errors), or
    nothing when disabled."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self._bar: Any = None
        self._scores = 0.0
        self._scored = 0
        self._cost = 0.0
        self._errors = 0
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self._bar = Progress(
            TextColumn("evaluating"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._bar.add_task("eval", total=total, info="")
        self._bar.start()

    def advance(self, result: ExampleResult) -> None:
        if self._bar is None:
            return
        if result.score is not None and result.scored:
            self._scores += result.score
            self._scored += 1
        self._cost += result.cost_usd or 0.0
        self._errors += not result.scored
        score = f"{self._scores / self._scored:.3f}" if self._scored else "-"
        info = f"score {score}  ${self._cost:.4f}  errors {self._errors}"
        self._bar.update(self._task, advance=1, info=info)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _print(
    result: EvaluationResult, args: argparse.Namespace, out: Path, *, interrupted: bool
) -> None:
    if args.format == "json":
        data = result.to_json()
        data["results_file"] = str(out)
        data["report"] = args.report
        data["interrupted"] = interrupted
        print(json.dumps(data))
        return
    for line in summary_lines(result):
        print(line)
    print(f"results: {out}" + (f"   report: {args.report}" if args.report else ""))


def _value(metric: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if metric == "cost":
        return f"${value:.6f}"
    if metric == "latency":
        return f"{value:.3f} s"
    if metric == "tokens":
        return f"{value:.1f}"
    return f"{value:.4f}"


def summary_lines(result: EvaluationResult) -> list[str]:
    """The text summary: objectives, score, budgets, measured means, counts."""
    lines = [
        f"{result.program}: {len(result.results)} of {result.total} examples in "
        f"{result.wall_s:.2f} s" + (f" ({result.resumed} resumed)" if result.resumed else "")
    ]
    width = max([len("objective"), *(len(o.name) for o in result.objectives)])
    lines.append(f"  {'objective':<{width}}  direction  weight  value")
    for o in result.objectives:
        lines.append(
            f"  {o.name:<{width}}  {o.direction:<9}  {o.weight:6.3f}  {_value(o.metric, o.value)}"
        )
    if result.score is not None:
        lines.append(f"  score (weighted quality objectives): {result.score:.4f}")
    for b in result.budgets:
        verdict = "unknown" if b.within is None else "within" if b.within else "OVER BUDGET"
        lines.append(
            f"  budget {b.metric} <= {_value(b.metric, b.limit)}: measured "
            f"{_value(b.metric, b.measured)}, {verdict}"
        )
    spent = f"${result.spent_usd:.6f}" if result.spent_known else "unknown"
    lines.append(
        f"  per example: cost {_value('cost', result.cost_usd)}, latency "
        f"{_value('latency', result.latency_s)}, tokens {_value('tokens', result.tokens)}; "
        f"spent {spent} in all" + (f", {result.cache_hits} cache hits" if result.cache_hits else "")
    )
    c = result.counts()
    lines.append(
        f"  examples: scored {c['scored']} (correct {c['correct']}, wrong {c['wrong']}, "
        f"output errors {c['output_errors']}); infrastructure errors {c['infra_errors']}; "
        f"metric errors {c['metric_errors']}; stopped {c['stopped']}; not run {c['not_run']}"
    )
    if result.stop_reason:
        lines.append(f"  stopped: {result.stop_reason}")
    return lines
