"""Space analysis: variables, constraints, capabilities, budgets and estimates.

`analyze_space(ctx)` runs after the semantic checks found no error and returns
a `SpaceReport` per program (see `analysis.py` for the codes it reports).
"""

from __future__ import annotations

from dspx_lang.semantics.context import Context
from dspx_lang.space.report import SpaceReport


def analyze_space(ctx: Context) -> dict[str, SpaceReport]:
    from dspx_lang.space.analysis import ProgramAnalysis
    from dspx_lang.space.tokencount import TokenCounter

    counter = TokenCounter.shared()
    reports = {
        name: ProgramAnalysis(ctx, program, counter).run()
        for name, program in ctx.model.programs.items()
    }
    counter.save()
    return reports


__all__ = ["SpaceReport", "analyze_space"]
