"""`program_space`: the space the optimizer searches is the one the compiler analysed."""

from __future__ import annotations

from pathlib import Path

import pytest

from dspx_lang.driver import Session
from dspx_lang.space.program import program_space

EXAMPLES = Path(__file__).parents[2] / "examples"


@pytest.mark.parametrize("name", ["intent.dspx", "qa.dspx", "math.dspx", "count.dspx"])
def test_the_feasible_space_is_the_one_the_analysis_counted(name: str) -> None:
    compilation = Session().check(str(EXAMPLES / name))
    assert not compilation.has_errors
    assert compilation.reports
    for program, report in compilation.reports.items():
        space = program_space(compilation, program).space
        result = space.analyze()
        assert result.size == report.budget_size
        if result.size is not None:
            configs = list(space.iter_feasible())
            assert len(configs) == result.size
            assert all(space.is_feasible(c) for c in configs)


def test_a_program_with_errors_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.dspx"
    broken.write_text("program p {\n  in x: string\n  out y: string\n  return { y: z }\n}\n")
    compilation = Session().check(str(broken))
    with pytest.raises(ValueError, match="has errors"):
        program_space(compilation, "p")
