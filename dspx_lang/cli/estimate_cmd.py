"""`dspxc estimate FILE [--program P]`: tokens, cost and latency before any call."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

from dspx_lang.cli.common import fail

DESCRIPTION = (
    "Estimate tokens, cost and latency per step and per program call, for the default "
    "configuration and over the feasible space; show how much of the space each budget "
    "prunes and what the optimize block will spend. No LM call is made."
)
EPILOG = """\
examples:
  dspxc estimate examples/qa.dspx
  dspxc estimate examples/math.dspx --program solve
  dspxc estimate examples/intent.dspx --format json

How estimates are made (prompt rendering, token counting, defaults per provider):
docs/language.md#estimates
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a .dspx file")
    parser.add_argument("--program", "-p", help="only this program (default: every program)")
    parser.add_argument("--format", choices=("text", "json"), default="text")


def run(args: argparse.Namespace) -> int:
    from dspx_lang.diagnostics.render import TextRenderer
    from dspx_lang.driver import Session

    try:
        compilation = Session().check(args.file)
    except OSError as exc:
        fail(f"cannot read '{args.file}': {exc.strerror or exc}")
        return 2
    if compilation.has_errors:
        renderer = TextRenderer(compilation.sources)
        for d in compilation.diagnostics:
            if d.is_error:
                print(renderer.render(d))
        fail("fix the errors above first; estimates need a program that checks")
        return 1
    names = [p.name for p in compilation.model.programs_in(compilation.root)]
    if args.program:
        if args.program not in names:
            fail(f"no program '{args.program}' in {args.file} (programs: {', '.join(names)})")
            return 2
        names = [args.program]
    reports = [compilation.reports[n] for n in names]
    if args.format == "json":
        print(json.dumps([_jsonable(r.to_data()) for r in reports], indent=2))
        return 0
    from rich.console import Console

    console = Console(highlight=False)
    for report in reports:
        _print(console, report, compilation.model.programs[report.program].optimize is not None)
    return 0


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _usd(value: float | None) -> str:
    if value is None:
        return "unknown"
    return f"${value:.6f}" if value < 0.01 else f"${value:.4f}"


def _size(value: int | None) -> str:
    return "infinite" if value is None else f"{value:,}"


def _print(console: Any, report: Any, has_optimize: bool) -> None:
    from rich.table import Table

    est = report.estimates
    console.print(
        f"[bold]program {report.program}[/]  variables {report.variable_count} "
        f"({report.continuous_count} continuous) · configurations {_size(report.total_size)} · "
        f"feasible {_size(report.feasible_size)}"
        + (f" · sampler [bold]{report.sampler}[/]" if report.sampler else "")
    )
    if est is None:
        console.print("  no feasible configuration: nothing to estimate\n")
        return
    table = Table(title=None, show_edge=False, pad_edge=False)
    for column in (
        "step",
        "model",
        "calls",
        "prompt/call",
        "completion/call",
        "cost",
        "cost min–max",
        "latency",
        "latency min–max",
        "share of cost",
    ):
        left = column in ("step", "model", "share of cost")
        table.add_column(column, justify="left" if left else "right")
    total = est.default.cost_usd or 0.0
    for step in est.default.steps:
        low, high = est.steps_min[step.step], est.steps_max[step.step]
        share = (step.cost_usd or 0.0) / total if total else 0.0
        table.add_row(
            step.step,
            step.model,
            str(step.calls),
            f"{step.prompt_tokens:,}",
            f"{step.completion_tokens:,}",
            _usd(step.cost_usd),
            f"{_usd(low['cost'])}–{_usd(high['cost'])}",
            f"{step.latency_s:.2f}s",
            f"{low['latency'] or 0:.2f}–{high['latency'] or 0:.2f}s",
            "█" * round(share * 20) + f" {share:.0%}" if total else "",
        )
    table.add_section()
    table.add_row(
        "program",
        "",
        str(sum(s.calls for s in est.default.steps)),
        f"{est.default.prompt_tokens:,}",
        f"{est.default.completion_tokens:,}",
        _usd(est.default.cost_usd),
        f"{_usd(est.minimum.get('cost'))}–{_usd(est.maximum.get('cost'))}",
        f"{est.default.latency_s:.2f}s",
        f"{est.minimum.get('latency') or 0:.2f}–{est.maximum.get('latency') or 0:.2f}s",
        "",
    )
    console.print(table)
    console.print("  [dim]default configuration; min–max over the feasible space, per call[/]")
    for prune in report.budgets:
        limit = (
            f"${prune.limit:g}"
            if prune.metric == "cost"
            else f"{prune.limit:g}s"
            if prune.metric == "latency"
            else f"{prune.limit:g} tokens"
        )
        if prune.remaining is not None:
            kept = f"keeps {prune.remaining:,} configurations"
            if prune.pruned_fraction is not None:
                kept += f", prunes {prune.pruned_fraction:.0%}"
        elif prune.pruned_fraction is not None:
            kept = f"prunes ~{prune.pruned_fraction:.0%} of the (infinite) space, by sampling"
        else:
            kept = "pruning not decided statically"
        console.print(f"  budget {prune.metric} <= {limit}: {kept}")
    forecast = report.forecast
    if has_optimize and forecast is not None:
        line = (
            f"  optimize forecast: {forecast.trials} trials × {forecast.dev_rows} dev rows → "
            f"{forecast.calls:,} calls, ~{forecast.tokens:,} tokens, "
            f"{_usd(forecast.cost_usd)}"
        )
        if forecast.trials_within_cap is not None:
            line += f"; max_spend allows ~{forecast.trials_within_cap} trials"
        console.print(line)
    console.print()
