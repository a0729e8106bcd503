"""Compile-time prompt estimates against the prompts the runtime really sends.

For the default configuration of each example, the estimate's prompt tokens must equal
tiktoken's count of the messages the runtime renders for the same inputs (the first
trainset rows) and the same demonstrations — the estimator renders with the runtime's own
settings resolution and prompt specs. Tolerance: 1 token (the estimate is an average over
rows, rounded). Against a real model's reported usage the tolerance is ±25 % (see the slow
test and bench/estimate_accuracy.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dspx_lang.datasets import read_rows
from dspx_lang.driver import Session
from dspx_lang.ir.lower import lower
from dspx_lang.ir.specs import step_settings
from dspx_lang.prompts import Demo
from dspx_lang.runtime import Program
from dspx_lang.space.estimate import DEMO_ROWS, SAMPLE_ROWS
from dspx_lang.tokens import count_message_tokens

EXAMPLES = Path(__file__).parents[1] / "examples"


@pytest.mark.parametrize("name", ["qa", "math", "intent"])
def test_estimate_counts_the_rendered_prompt(name: str) -> None:
    compilation = Session().check(str(EXAMPLES / f"{name}.dspx"))
    [program_name] = [p.name for p in compilation.model.programs_in(compilation.root)]
    info = compilation.model.programs[program_name]
    estimates = {program_name: compilation.reports[program_name].ir_estimate()}
    package = lower(compilation, estimates=estimates)  # type: ignore[arg-type]
    decl = package.programs[program_name]
    assert decl.estimate is not None
    dataset = compilation.model.datasets[info.optimize.trainset]  # type: ignore[union-attr,index]
    rows = [
        {field: row[dataset.mapping.get(field, field)] for field in {**info.inputs, **info.outputs}}
        for row in read_rows(dataset.resolved_path, DEMO_ROWS)
    ]
    program = Program(package, program_name)
    for step in decl.steps:
        settings_demos = info.variables.get("demos")
        count = int(settings_demos.default) if settings_demos is not None else 0
        signature = package.signatures[step.signature]
        demos = [
            Demo(
                {f.name: row[f.name] for f in signature.inputs},
                {f.name: row[f.name] for f in signature.outputs},
            )
            for row in rows[:count]
        ]
        shown = program.with_demos({step.name: demos})
        model = step_settings(package, decl, step, shown.config).model
        model_id = package.models[model].model_id
        counts = [
            count_message_tokens(
                shown.render({f.name: row[f.name] for f in signature.inputs}, step=step.name)[
                    step.name
                ],
                model_id,
            )
            for row in rows[:SAMPLE_ROWS]
        ]
        measured = sum(counts) / len(counts)
        estimated = decl.estimate.default.steps[step.name].prompt_tokens
        assert abs(estimated - measured) <= 1, (step.name, estimated, measured)
