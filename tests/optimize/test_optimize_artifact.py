"""The artifact of a run over a real program (examples/intent.dspx, compiled by the real
compiler, its space from `program_space`), written as JSON, read back, and refused with a clear
error once the program changes incompatibly. The evaluation is synthetic (no LM): accuracy is
a fixed function of the configuration that favours mini, 4 demos and instruction candidate 2.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from dspx_lang.driver import Session
from dspx_lang.ir import Package
from dspx_lang.ir.lower import lower
from dspx_lang.optimize import (
    Artifact,
    ArtifactError,
    Budget,
    Objective,
    Optimizer,
    OptimizeResult,
    TrialInfo,
    TrialOutcome,
    build_artifact,
    load_artifact,
    save_artifact,
)
from dspx_lang.optimize.artifact import Demo, Price
from dspx_lang.optimize.storage import redact
from dspx_lang.space.program import program_space
from dspx_lang.space.solve import Candidate, ConfigValue, Sym

EXAMPLES = Path(__file__).parents[2] / "examples"
CANDIDATES = ["Pick the one intent.", "Name the user's intent, exactly one label.", "Classify."]
DEMOS = [Demo(inputs={"utterance": "Will it rain?"}, outputs={"intent": "get_weather"})]


def copy_examples(to: Path) -> Path:
    copy = to / "examples"
    shutil.copytree(EXAMPLES, copy, ignore=shutil.ignore_patterns("*.ir.json", "__pycache__"))
    return copy


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the examples, so a test may edit the program."""
    return copy_examples(tmp_path)


def compile_package(path: Path) -> Package:
    compilation = Session().check(str(path))
    assert not compilation.has_errors, compilation.diagnostics
    return lower(compilation)


def accuracy(config: Mapping[str, ConfigValue]) -> float:
    score = 0.6 + (0.1 if config["model"] == Sym("mini") else 0.0)
    demos = config["demos"]
    assert isinstance(demos, int)
    score -= 0.02 * abs(demos - 4)
    if config["instructions"] == Candidate("instructions", 2):
        score += 0.05
    return float(round(score, 6))


def optimize(path: Path, storage: str) -> OptimizeResult:
    compilation = Session().check(str(path))
    program = compilation.model.programs["classify"]
    space = program_space(compilation, "classify", candidates=len(CANDIDATES))
    objectives = [
        Objective(
            "exact_match(intent)" if o.metric == "exact_match" else o.metric,
            o.direction,
            o.weight,
        )
        for o in program.objectives
    ]

    async def evaluate(config: Mapping[str, ConfigValue], info: TrialInfo) -> TrialOutcome:
        per_call = space.cost_per_call(config) or 0.0
        estimate = space.estimator.estimate(config)
        return TrialOutcome(
            values={"exact_match(intent)": accuracy(config)},
            cost=per_call,
            latency=estimate.latency_s,
            tokens=float(estimate.tokens),
        )

    optimizer = Optimizer(
        space.space,
        objectives=objectives,
        budgets=[Budget(b.metric, b.limit) for b in program.budgets],
        evaluate=evaluate,
        forecast=lambda config: 60 * (space.cost_per_call(config) or 0.0),
        storage=storage,
        study="classify",
        sampler="grid",
        trials=200,
        live=False,
    )
    return asyncio.run(optimizer.run())


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Artifact, Path]:
    """One run over intent.dspx (grid over all 135 feasible configurations): the artifact's
    path, the artifact, and the source it was made from."""
    tmp = tmp_path_factory.mktemp("run")
    source = copy_examples(tmp) / "intent.dspx"
    result = optimize(source, f"sqlite:///{tmp / 'study.db'}")
    package = compile_package(source)
    artifact = build_artifact(
        result,
        package,
        "classify",
        candidates={"instructions": CANDIDATES},
        demos={"classify": DEMOS},
        prices={"mini": Price(model_id="openai/gpt-4o-mini", input_cost=0.15, output_cost=0.6)},
    )
    path = tmp / "intent.opt.json"
    save_artifact(artifact, path)
    return path, artifact, source


def test_the_artifact_round_trips_as_json_with_the_chosen_configuration(
    written: tuple[Path, Artifact, Path],
) -> None:
    path, artifact, source = written
    data = json.loads(path.read_text())
    assert data["format"] == "dspx-optimized"
    assert data["config"] == {
        "model": "mini",
        "demos": 4,
        "adapter": "chat",
        "instructions": CANDIDATES[1],
    }
    assert data["instructions"]["instructions"]["chosen"] == 2
    assert data["instructions"]["instructions"]["candidates"][1:] == CANDIDATES
    assert data["demos"]["classify"] == [
        {"inputs": {"utterance": "Will it rain?"}, "outputs": {"intent": "get_weather"}}
    ]
    assert data["chosen"]["values"]["exact_match(intent)"] == pytest.approx(0.75)
    assert data["pareto"]
    assert data["study"]["storage"].startswith("sqlite:///")
    loaded = load_artifact(path, compile_package(source))
    assert loaded == artifact
    assert not loaded.source_changed


def test_a_program_with_only_its_docs_changed_still_fits(
    written: tuple[Path, Artifact, Path], project: Path
) -> None:
    path, artifact, _ = written
    source = project / "intent.dspx"
    source.write_text(source.read_text().replace("Classify the user's request", "Label the ask"))
    loaded = load_artifact(path, compile_package(source))
    assert loaded.source_changed
    assert loaded.config == artifact.config


@pytest.mark.parametrize(
    ("edits", "message"),
    [
        (
            [
                ("var demos: int in 0..8", "var shots: int in 0..8"),
                ("demos: demos", "demos: shots"),
            ],
            "unknown variable(s) demos; variable(s) shots were not optimized",
        ),
        ([("var demos: int in 0..8 = 4", "var demos: int in 0..2 = 2")], "'demos' must be in"),
        (
            [("  out intent: Intent\n}", "  out intent: Intent\n  out sure: bool\n}")],
            "step classify",
        ),
        (
            [("  constraint model ==", "  constraint model != mini\n  constraint model ==")],
            "violates constraint",
        ),
    ],
)
def test_an_incompatible_program_is_refused_with_what_changed(
    written: tuple[Path, Artifact, Path],
    project: Path,
    edits: list[tuple[str, str]],
    message: str,
) -> None:
    path, _, _ = written
    source = project / "intent.dspx"
    text = source.read_text()
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    source.write_text(text)
    with pytest.raises(ArtifactError, match="does not fit program 'classify'") as info:
        load_artifact(path, compile_package(source))
    assert message in str(info.value)
    assert "dspxc optimize" in str(info.value)


@pytest.mark.parametrize(
    "content",
    [
        "not json at all",
        '{"format": "dspx-optimized", "version": 2}',
        '{"format": "something-else"}',
    ],
)
def test_a_file_that_is_not_an_artifact_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.opt.json"
    path.write_text(content)
    with pytest.raises(ArtifactError, match="is not a dspx optimizer artifact"):
        load_artifact(path)


def test_a_missing_artifact_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="cannot read the artifact"):
        load_artifact(tmp_path / "nope.opt.json")


def test_storage_urls_in_artifacts_never_show_a_password() -> None:
    shown = redact("postgresql+psycopg://opt:s3cret-pass@db.example:5432/studies")
    assert "s3cret-pass" not in shown
    assert shown == "postgresql+psycopg://opt:***@db.example:5432/studies"


def test_reading_artifacts_needs_neither_the_compiler_nor_optuna() -> None:
    code = (
        "import sys, dspx_lang.optimize.artifact\n"
        "heavy = ('optuna', 'sqlalchemy', 'lark')\n"
        "compiler = ('dspx_lang.semantics', 'dspx_lang.syntax', 'dspx_lang.space')\n"
        "print([m for m in sys.modules if m.split('.')[0] in heavy or m.startswith(compiler)])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
