"""Space analysis: variables, constraints, capabilities, budgets and estimates.

`analyze_space(compilation)` runs after the semantic checks found no error and
returns a `SpaceReport` per program (see `analysis.py` for the codes it
reports). It lowers each file that declares programs to the IR first, because
estimates render prompts exactly as the runtime does, from the IR
(`dspx_lang.ir.specs`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from dspx_lang.space.report import SpaceReport

if TYPE_CHECKING:
    from dspx_lang.driver import Compilation


def analyze_space(compilation: Compilation) -> dict[str, SpaceReport]:
    from dspx_lang.ir.lower import lower
    from dspx_lang.semantics.context import Context
    from dspx_lang.space.analysis import ProgramAnalysis
    from dspx_lang.space.tokencount import TokenCounter

    model = compilation.model
    files = {p.file for p in model.programs.values()}
    packages = {f: lower(dataclasses.replace(compilation, root=f)) for f in files}
    ctx = Context(model, compilation.sink)
    counter = TokenCounter.shared()
    reports = {
        name: ProgramAnalysis(ctx, program, packages[program.file], counter).run()
        for name, program in model.programs.items()
    }
    counter.save()
    return reports


__all__ = ["SpaceReport", "analyze_space"]
