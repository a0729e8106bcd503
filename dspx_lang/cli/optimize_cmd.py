"""`dspxc optimize FILE --program P`: run a program's optimize block; write the artifact.

Contract:
- Before any LM call it prints the forecast (calls, tokens and dollars per phase, from the
  compile-time estimates, less what the study already holds) and refuses to start (exit 2,
  nothing spent) when the forecast passes `max_spend`, saying how many trials fit, unless
  `--yes`; `--dry-run` stops after the forecast. The cap itself always holds.
- Then it bootstraps demos, proposes instructions, evaluates the default configuration (once
  per study), and searches; progress shows live on a terminal (stderr), else one line per
  trial (`--quiet`: none). The artifact (JSON) goes to `-o` (default
  `<stem>.<program>.opt.json` next to the file), the study to `--storage` (default SQLite
  next to the artifact). The summary (stdout) shows the chosen configuration against the
  default one, the Pareto front as a table and as a text scatter plot; `--report` writes the
  same with SVG charts as one HTML page; `--format json` prints one JSON object instead.
- Rerunning the same command resumes the study; several processes given one PostgreSQL
  `--storage` and `--study` share the work and the cap.
Exit codes: 0 done; 1 the file has errors or the program cannot run (e.g. no API key);
2 usage error, or the forecast passes max_spend; 130 interrupted (the study keeps every
finished trial: rerun to resume).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from dspx_lang.cli.common import fail
from dspx_lang.cli.run_cmd import CommandError, parse_assignments
from dspx_lang.runtime.loop import run as run_loop

if TYPE_CHECKING:
    from dspx_lang.optimize.forecast import RunForecast
    from dspx_lang.optimize.model import ProgressEvent
    from dspx_lang.optimize.run import OptimizeRun, RunOutcome

DESCRIPTION = "Run a program's optimize block: forecast, search, write the artifact."
EPILOG = """\
exit codes: 0 done, 1 file errors or the program cannot run, 2 usage error or forecast over
max_spend (nothing spent), 130 interrupted (rerun the same command to resume)

examples:
  dspxc optimize examples/intent.dspx --program classify --dry-run      # the forecast only
  dspxc optimize examples/intent.dspx --program classify --trials 8 --report intent.html
  dspxc optimize examples/intent.dspx --set model=local       # no API key: local model only
  dspxc optimize qa.dspx --teacher model=big --max-spend 1.50 -o qa.opt.json
  # several machines, one study (PostgreSQL):
  dspxc optimize qa.dspx --storage postgresql+psycopg://opt:PW@db:5432/studies --study qa-v1

then: dspxc eval FILE --opt ARTIFACT --data DATA, dspxc run FILE --opt ARTIFACT --input ...,
or program.load_optimized(ARTIFACT) in Python.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the .dspx file")
    parser.add_argument("--program", "-p", metavar="P", help="the program (optional if only one)")
    parser.add_argument("--trials", type=int, metavar="N", help="trials (default: the block's)")
    parser.add_argument(
        "--max-spend", type=float, metavar="USD", help="hard cap on the whole study's spend"
    )
    parser.add_argument("--storage", metavar="URL", help="study storage (SQLite or PostgreSQL)")
    parser.add_argument("--study", metavar="NAME", help="study name (default: the program)")
    parser.add_argument("-o", "--output", metavar="ARTIFACT", help="where to write the artifact")
    parser.add_argument(
        "--concurrency", type=int, metavar="N", help="trials at once (default: the block's)"
    )
    parser.add_argument(
        "--eval-concurrency", type=int, default=8, metavar="N", help="examples in flight per trial"
    )
    parser.add_argument("--seed", type=int, metavar="N", help="seed (default: the block's)")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="fix a variable for this run (the search leaves it alone; repeatable)",
    )
    parser.add_argument(
        "--teacher",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="change the teacher configuration that bootstraps demos (e.g. model=big)",
    )
    parser.add_argument(
        "--api-base",
        dest="api_bases",
        action="append",
        default=[],
        metavar="MODEL=URL",
        help="send a model's calls to this OpenAI-compatible endpoint (repeatable)",
    )
    parser.add_argument(
        "--no-baseline", action="store_true", help="do not evaluate the default configuration"
    )
    parser.add_argument("--report", metavar="HTML", help="write an HTML report with charts")
    parser.add_argument("--yes", "-y", action="store_true", help="start even over the forecast")
    parser.add_argument("--dry-run", action="store_true", help="print the forecast and stop")
    parser.add_argument(
        "--cache",
        action="store_true",
        help="answer repeated prompts from the response cache (they then measure $0 and 0 s)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    from dspx_lang.optimize.model import OptimizeError
    from dspx_lang.optimize.run import OptimizeRun, RunOptions, SourceError
    from dspx_lang.runtime.errors import DspxConfigError, DspxError

    for flag in ("trials", "concurrency", "eval_concurrency"):
        value = getattr(args, flag)
        if value is not None and value < 1:
            fail(f"--{flag.replace('_', '-')} must be at least 1")
            return 2
    if args.max_spend is not None and not args.max_spend >= 0:
        fail("--max-spend must be a number of dollars >= 0")
        return 2
    try:
        teacher = parse_assignments(args.teacher, "--teacher")
        pins = parse_assignments(args.sets, "--set")
        api_bases = {k: str(v) for k, v in parse_assignments(args.api_bases, "--api-base").items()}
        program = _pick_program(args.file, args.program)
        options = RunOptions(
            trials=args.trials,
            max_spend=args.max_spend,
            storage=args.storage,
            study=args.study,
            artifact=args.output,
            concurrency=args.concurrency,
            eval_concurrency=args.eval_concurrency,
            seed=args.seed,
            teacher=teacher,
            pins=pins,
            baseline=not args.no_baseline,
            api_bases=api_bases,
        )
        plan = OptimizeRun.prepare(args.file, program, options)
        forecast = plan.read_study()
    except CommandError as exc:
        return exc.report()
    except OSError as exc:
        fail(f"cannot read '{args.file}': {exc.strerror or exc}")
        return 2
    except SourceError as exc:
        print(exc, file=sys.stderr)
        return 1
    except (OptimizeError, DspxConfigError) as exc:
        fail(str(exc))
        return 2
    _print_forecast(plan, forecast)
    if forecast.over_cap and not args.yes:
        _refuse(forecast)
        return 2
    if args.dry_run:
        return 0
    try:
        outcome = _execute(plan, args)
    except KeyboardInterrupt:
        fail("interrupted; the study keeps every finished trial: rerun the same command to resume")
        return 130
    except OptimizeError as exc:
        fail(str(exc))
        return 1
    except DspxError as exc:
        fail(str(exc))
        return 1
    if args.report:
        from dspx_lang.optimize.report import render_report, write_report

        page = render_report(
            outcome.result,
            outcome.artifact,
            baseline=outcome.baseline,
            source=args.file,
            show=lambda c: plan.shown(c, outcome.candidates),
        )
        try:
            write_report(args.report, page)
        except OSError as exc:
            fail(f"cannot write the report {args.report}: {exc.strerror or exc}")
            return 2
    if args.format == "json":
        print(json.dumps(_summary_json(plan, outcome, args), default=str))
    else:
        for line in summary_lines(plan, outcome):
            print(line)
        if args.report:
            print(f"report: {args.report}")
    return 0


def _pick_program(path: str, name: str | None) -> str:
    """The program to optimize: `name`, else the file's only program with an optimize block."""
    if name is not None:
        return name
    from dspx_lang.codegen.build import checked_package
    from dspx_lang.runtime.errors import DspxError

    try:
        package = checked_package(path)
    except DspxError:
        return ""  # prepare() reports the file's errors
    with_block = [p.name for p in package.programs.values() if p.optimize is not None]
    if len(with_block) == 1:
        return with_block[0]
    known = ", ".join(with_block or package.programs) or "none"
    raise CommandError(
        f"choose the program with --program (programs with an optimize block: {known})"
    )


# ---------------------------------------------------------------- forecast


def _usd(value: float | None) -> str:
    return "unknown (a model has no price)" if value is None else f"${value:.4f}"


def _print_forecast(plan: OptimizeRun, f: RunForecast) -> None:
    out = sys.stderr
    print(
        f"optimize {plan.decl.name} in {plan.source}: sampler {plan.sampler}, {plan.trials} "
        f"trials, seed {plan.seed}, {plan.concurrency} trial(s) at once; "
        f"{len(plan.train)} train rows, {len(plan.dev)} dev rows",
        file=out,
    )
    if plan.options.pins:
        fixed = ", ".join(f"{k}={v}" for k, v in plan.options.pins.items())
        print(f"fixed by --set: {fixed} (a new --study if you change them)", file=out)
    print(f"study '{plan.study}' in {_redact(plan.storage)}", file=out)
    if f.trials_done or f.spent:
        print(
            f"resuming: {f.trials_done} of {f.trials} trials done, ${f.spent:.4f} spent so far",
            file=out,
        )
    print("forecast (from the compile-time estimates, before any call):", file=out)
    print(f"  {'phase':<10} {'calls':>7} {'tokens':>11}  {'dollars':>10}  what", file=out)
    for p in f.phases:
        if p.done:
            print(f"  {p.name:<10} {'-':>7} {'-':>11}  {'-':>10}  done in this study", file=out)
            continue
        cost = "unknown" if p.usd is None else f"${p.usd:.4f}"
        print(f"  {p.name:<10} {p.calls:>7,} {p.tokens:>11,}  {cost:>10}  {p.what}", file=out)
    cap = "no cap" if f.max_spend is None else f"max_spend ${f.max_spend:g}"
    most = "" if f.usd_max is None or f.usd_max == f.usd else f" (at most {_usd(f.usd_max)})"
    print(
        f"  {'total':<10} {f.calls:>7,} {f.tokens:>11,}  {_usd(f.usd):>10}{most}; {cap}",
        file=out,
    )


def _refuse(f: RunForecast) -> None:
    fit = f.trials_within_cap
    if fit is not None and fit > f.trials_done:
        what = f"about {fit} trial(s) fit: run with --trials {fit}, raise --max-spend"
    else:
        what = "not even one more trial fits after the setup phases: raise --max-spend"
    fail(
        f"the forecast ({_usd(f.usd)}, plus ${f.spent:.4f} already spent) passes max_spend "
        f"${f.max_spend:g}; {what}, or pass --yes to start anyway (the run stops before the "
        "cap). Nothing was spent."
    )


def _redact(url: str) -> str:
    from dspx_lang.optimize.storage import redact

    return redact(url)


# ---------------------------------------------------------------- running


def _execute(plan: OptimizeRun, args: argparse.Namespace) -> RunOutcome:
    from dspx_lang.runtime.lm import LMClient

    live = None if not args.quiet and args.format == "text" else False
    wants_lines = not args.quiet and not sys.stderr.isatty()
    callbacks = [_trial_line] if wants_lines else []

    def say(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    # Off by default: a cached answer costs $0 and takes 0 s, which would favour whichever
    # configuration repeats prompts seen before.
    client = LMClient() if args.cache else LMClient(cache=False)
    try:
        return run_loop(plan.run(client, say=say, live=live, callbacks=callbacks))
    finally:
        client.close()


def _trial_line(event: ProgressEvent) -> None:
    p = event.progress
    if event.kind == "trial" and event.trial is not None:
        t = event.trial
        values = ", ".join(f"{k} {_num(v)}" for k, v in t.values.items())
        verdict = "" if t.feasible else " OVER BUDGET"
        # The weighted score is relative to the trials so far; the objectives themselves are not.
        best = ", ".join(f"{k} {_num(v)}" for k, v in p.best_values.items()) or "-"
        print(
            f"trial {t.number}: {values}{verdict}; {p.done}/{p.trials} done, best so far: {best}; "
            f"spent ${p.spent:.4f}",
            file=sys.stderr,
            flush=True,
        )
    elif event.kind == "stop":
        print(f"search stopped: {event.reason}", file=sys.stderr, flush=True)


def _num(value: float) -> str:
    from dspx_lang.optimize.plot import num

    return num(value)


# ---------------------------------------------------------------- summary


def summary_lines(plan: OptimizeRun, outcome: RunOutcome) -> list[str]:
    from dspx_lang.optimize.plot import points, text_scatter

    result, artifact = outcome.result, outcome.artifact
    base = (outcome.baseline or {}).get("values", {})
    lines = [
        f"{plan.decl.name}: {len(result.trials)} scored trial(s), stopped: "
        f"{result.stop_reason or '-'}; spent ${result.spent:.6f}"
        + (f" of ${result.max_spend:g}" if result.max_spend is not None else "")
    ]
    best = result.best
    if best is None:
        lines.append("no feasible trial: the artifact keeps the file's defaults")
    else:
        lines.append(f"chosen (trial {best.number}, score {_num(best.score or 0.0)}):")
        for name, value in plan.shown(best.config, outcome.candidates).items():
            lines.append(f"  {name} = {value}")
    width = max([9, *(len(o.name) for o in result.objectives)])
    lines.append(f"  {'objective':<{width}}  {'chosen':>10}  {'default':>10}")
    for o in result.objectives:
        chosen = best.values.get(o.name) if best else None
        lines.append(
            f"  {o.name:<{width}}  {_cell(chosen):>10}  {_cell(base.get(o.name)):>10}"
            f"  ({o.direction}, weight {o.weight:.2f})"
        )
    lines.append(f"Pareto front ({len(result.pareto)}):")
    names = [o.name for o in result.objectives]
    lines.append("  trial  " + "  ".join(f"{n:>12}" for n in names) + "  configuration")
    for r in result.pareto:
        shown = ", ".join(f"{k}={v}" for k, v in plan.shown(r.config, outcome.candidates).items())
        lines.append(
            f"  {r.number:>5}  "
            + "  ".join(f"{_cell(r.values.get(n)):>12}" for n in names)
            + f"  {shown}"
        )
    lines.append("")
    pts = points(result, base or None, lambda c: plan.shown(c, outcome.candidates))
    lines += ["  " + line for line in text_scatter(pts, result.objectives)]
    lines.append("")
    demos = ", ".join(f"{s} {len(d)}" for s, d in artifact.demos.items()) or "none"
    lines.append(f"artifact: {outcome.artifact_path} (demos shown: {demos})")
    lines.append(f"study: '{result.study}' in {result.storage} (rerun to resume or extend)")
    lines.append(f"use it: dspxc eval {plan.source} --opt {outcome.artifact_path} --data DATA")
    return lines


def _cell(value: float | None) -> str:
    return "-" if value is None else _num(value)


def _summary_json(plan: OptimizeRun, outcome: RunOutcome, args: argparse.Namespace) -> Any:
    result = outcome.result
    return {
        "program": plan.decl.name,
        "artifact": str(outcome.artifact_path),
        "report": args.report,
        "study": result.study,
        "storage": result.storage,
        "stop_reason": result.stop_reason,
        "spent": result.spent,
        "max_spend": result.max_spend,
        "trials": len(result.trials),
        "counts": result.counts,
        "config": outcome.artifact.config,
        "chosen": None if result.best is None else result.best.number,
        "values": None if result.best is None else result.best.values,
        "default_values": (outcome.baseline or {}).get("values"),
        "pareto": [
            {
                "trial": r.number,
                "values": r.values,
                "config": plan.shown(r.config, outcome.candidates),
            }
            for r in result.pareto
        ],
        "bootstrap": outcome.bootstrap.to_json() | {"pool": None},
        "calls": {
            "bootstrap": outcome.bootstrap.calls,
            "proposals": sum(len(texts) for texts in outcome.candidates.values()),
            "baseline": ((outcome.baseline or {}).get("details") or {}).get("calls", 0),
            "search": sum(int(r.details.get("calls", 0)) for r in result.trials),
        },
        "instruction_candidates": outcome.candidates,
    }
