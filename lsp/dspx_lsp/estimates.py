"""Cost, latency and token estimates for hover, inlay hints and the Estimate lens.

Contract: the only module that reads the space analysis' estimates
(`SpaceReport.estimates`, per program, from the root's last finished
compilation: `Documents.reports`). Estimates are per call of the program, for
the default configuration, with the range over the feasible space. Features
get Markdown lines (hover) or `(offset, label, tooltip)` hints, and nothing
when there is no report for that program (errors, or the later passes have
not run yet). Reports are looked up by program and step name, so one from a
slightly older text still lands on the right declaration.
"""

from __future__ import annotations

from dspx_lang.semantics.model import ProgramInfo, StepInfo
from dspx_lang.source import SourceFile
from dspx_lang.space.report import Estimate, Estimates, SpaceReport, StepEstimate

Hint = tuple[int, str, str]


def money(value: float | None) -> str:
    if value is None:
        return "$?"
    return f"${value:.2g}" if value < 0.01 else f"${value:,.2f}"


def seconds(value: float | None) -> str:
    if value is None:
        return "?s"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _estimates(reports: dict[str, SpaceReport], program: str) -> Estimates | None:
    report = reports.get(program)
    return report.estimates if report is not None else None


def _step(estimate: Estimate, name: str) -> StepEstimate | None:
    return next((s for s in estimate.steps if s.step == name), None)


def describe_program(reports: dict[str, SpaceReport], program: ProgramInfo) -> list[str]:
    estimates = _estimates(reports, program.name)
    report = reports.get(program.name)
    if estimates is None or report is None:
        return []
    default = estimates.default
    lines = [
        f"- default configuration: {money(default.cost_usd)} · {seconds(default.latency_s)} · "
        f"{default.tokens:,} tokens per call",
        "- over the feasible space: "
        f"{money(estimates.minimum.get('cost'))}–{money(estimates.maximum.get('cost'))} · "
        f"{seconds(estimates.minimum.get('latency'))}–{seconds(estimates.maximum.get('latency'))}",
    ]
    if report.feasible_size is not None:
        lines.append(f"- {report.feasible_size:,} feasible configuration(s)")
    return ["**Estimates** (per call)\n\n" + "\n".join(lines)]


def describe_step(
    reports: dict[str, SpaceReport], program: ProgramInfo, step: StepInfo
) -> list[str]:
    estimates = _estimates(reports, program.name)
    found = _step(estimates.default, step.name) if estimates else None
    if estimates is None or found is None:
        return []
    low = estimates.steps_min.get(step.name, {})
    high = estimates.steps_max.get(step.name, {})
    calls = f"{found.calls} calls" if found.calls != 1 else "1 call"
    lines = [
        f"- default: {calls} to `{found.model}`, {found.prompt_tokens:,} prompt + "
        f"{found.completion_tokens:,} completion tokens, {money(found.cost_usd)}, "
        f"{seconds(found.latency_s)}",
    ]
    if low or high:
        lines.append(
            f"- over the feasible space: {money(low.get('cost'))}–{money(high.get('cost'))} · "
            f"{seconds(low.get('latency'))}–{seconds(high.get('latency'))}"
        )
    return ["**Estimate** (per program call)\n\n" + "\n".join(lines)]


def program_hints(
    reports: dict[str, SpaceReport], source: SourceFile, program: ProgramInfo
) -> list[Hint]:
    estimates = _estimates(reports, program.name)
    if estimates is None:
        return []
    default = estimates.default
    label = f"≈ {money(default.cost_usd)} · {seconds(default.latency_s)} per call"
    tooltip = (
        "estimated for the default configuration; over the feasible space "
        f"{money(estimates.minimum.get('cost'))}–{money(estimates.maximum.get('cost'))}"
    )
    return [(_line_end(source, program.node.name.span.end), label, tooltip)]


def step_hints(
    reports: dict[str, SpaceReport], source: SourceFile, program: ProgramInfo, step: StepInfo
) -> list[Hint]:
    estimates = _estimates(reports, program.name)
    found = _step(estimates.default, step.name) if estimates else None
    if found is None or step.node is None:
        return []
    label = f"≈ {money(found.cost_usd)} · {seconds(found.latency_s)}"
    tooltip = (
        f"{found.prompt_tokens:,} prompt + {found.completion_tokens:,} completion tokens "
        f"on {found.model}, {found.calls} call(s), default configuration"
    )
    return [(_line_end(source, step.node.span.start), label, tooltip)]


def _line_end(source: SourceFile, offset: int) -> int:
    """The end of the line holding `offset`, before a trailing `{` and spaces."""
    text = source.line_text(source.line_of(offset))
    start = source.line_start(source.line_of(offset))
    return start + len(text.rstrip(" \t{"))
