"""`dspxc optimize` end to end against the fixture server (real HTTP, real optuna, SQLite):
it finds the best feasible configuration of a scripted task, never asks a statically
infeasible one, keeps over-budget ones off the front, proposes and records instruction
candidates, bootstraps demos that show in the prompts of `--opt` runs afterwards, refuses a
forecast over max_spend before any call, and resumes a finished study without a request."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fixtures.lm_server import FakeLMServer
from optimize_cli_kit import (
    CANDIDATES,
    DEV,
    FEASIBLE_CONFIGS,
    TRAIN,
    dspxc,
    environment,
    has_demos,
    is_proposal,
    model_of,
    responder,
    trials_of,
    write_task,
)

from dspx_lang.codegen.build import compile_source
from dspx_lang.runtime.errors import DspxConfigError
from dspx_lang.runtime.program import Program

OPTIMIZE = ("--teacher", "model=chatty", "--report", "report.html", "--format", "json")


@pytest.fixture(scope="module")
def finished(
    tmp_path_factory: pytest.TempPathFactory, lm_server_session: FakeLMServer
) -> dict[str, Any]:
    """One full run of the scripted task (grid over every feasible configuration), shared
    by the tests of this module (they read it; the ones that change files copy it first)."""
    tmp_path = tmp_path_factory.mktemp("optimize")
    lm_server_session.reset()
    lm_server_session.respond_with(responder)
    source = write_task(tmp_path, lm_server_session.base_url)
    result = dspxc("optimize", str(source), *OPTIMIZE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    requests = lm_server_session.chat_requests
    artifact = json.loads((tmp_path / "task.classify.opt.json").read_text())
    return {
        "dir": tmp_path,
        "source": source,
        "summary": summary,
        "stderr": result.stderr,
        "requests": requests,
        "artifact": artifact,
    }


def test_finds_the_best_feasible_configuration(finished: dict[str, Any]) -> None:
    artifact = finished["artifact"]
    assert artifact["config"] == {"model": "good", "demos": 1, "instructions": CANDIDATES[2]}
    assert artifact["chosen"]["values"]["exact_match(intent)"] == 1.0
    summary = finished["summary"]
    assert summary["default_values"]["exact_match(intent)"] == 0.0  # model bad, no demos
    assert summary["stop_reason"] == "exhausted"
    assert summary["trials"] == FEASIBLE_CONFIGS


def test_static_pruning_means_the_pricey_model_is_never_asked(finished: dict[str, Any]) -> None:
    models = {model_of(r) for r in finished["requests"]}
    assert {"good-model", "bad-model", "chatty-model"} <= models
    assert not any("pricey" in m for m in models)
    assert "pricey" not in json.dumps(finished["summary"]["pareto"])


def test_over_budget_configurations_are_scored_but_never_on_the_front(
    finished: dict[str, Any],
) -> None:
    front = finished["summary"]["pareto"]
    assert front
    assert all(p["config"]["model"] != "chatty" for p in front)
    # chatty answered every dev row right, yet it was measured over the tokens budget
    assert "OVER BUDGET" in finished["stderr"]
    assert all(p["config"]["model"] != "chatty" for p in finished["artifact"]["pareto"])


def test_each_trial_line_ends_with_the_best_objectives_so_far(finished: dict[str, Any]) -> None:
    lines = [x for x in finished["stderr"].splitlines() if x.startswith("trial ")]
    assert len(lines) == FEASIBLE_CONFIGS
    last = lines[-1].split("best so far: ")[1].split(";")[0]
    shown = {name: float(value) for name, value in (p.rsplit(" ", 1) for p in last.split(", "))}
    chosen = finished["artifact"]["chosen"]["values"]
    assert shown.keys() == chosen.keys()
    assert all(shown[k] == pytest.approx(chosen[k], rel=5e-3) for k in chosen)


def test_instruction_candidates_are_proposed_grounded_and_recorded(
    finished: dict[str, Any],
) -> None:
    proposals = [r for r in finished["requests"] if is_proposal(r)]
    assert len(proposals) == 4
    prompt = proposals[0].json["messages"][-1]["content"]
    assert "Classify the request." in prompt  # the signature's instructions
    assert "exactly one of: weather, music, booking" in prompt  # its enum
    assert "The training data has 8 rows" in prompt
    assert any(u in prompt for u, _ in TRAIN)  # a few rows of it
    recorded = finished["artifact"]["instructions"]["instructions"]
    assert recorded["candidates"] == ["Classify the request.", *CANDIDATES]
    assert recorded["chosen"] == 3
    assert finished["summary"]["instruction_candidates"] == {"instructions": list(CANDIDATES)}


def test_bootstrapped_demos_come_from_successful_teacher_traces(finished: dict[str, Any]) -> None:
    boot = finished["summary"]["bootstrap"]
    assert boot["rows"] == len(TRAIN)
    assert boot["successful"] == len(TRAIN)
    teacher = [
        r for r in finished["requests"] if model_of(r) == "chatty-model" and not has_demos(r)
    ]
    train_utterances = {u for u, _ in TRAIN}
    assert any(any(u in str(r.json["messages"][-1]) for u in train_utterances) for r in teacher)
    (demo,) = finished["artifact"]["demos"]["c"]
    labels = dict(TRAIN)
    assert demo["outputs"]["intent"] == labels[demo["inputs"]["utterance"]]


def test_the_artifact_applies_with_eval_opt_and_its_demos_reach_the_prompts(
    finished: dict[str, Any], lm_server: FakeLMServer
) -> None:
    directory, source = finished["dir"], finished["source"]
    demo = finished["artifact"]["demos"]["c"][0]["inputs"]["utterance"]
    lm_server.reset()
    lm_server.respond_with(responder)
    result = dspxc(
        "eval", str(source), "--data", "dev", "--opt", "task.classify.opt.json",
        "--format", "json", cwd=directory, env={"DSPX_CACHE": "0"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    values = {o["name"]: o["value"] for o in json.loads(result.stdout)["objectives"]}
    assert values["exact_match(intent)"] == 1.0
    asked = lm_server.chat_requests
    assert len(asked) == len(DEV)
    for request in asked:
        assert model_of(request) == "good-model"
        assert "MAGIC" in request.json["messages"][0]["content"]
        assert demo in request.json["messages"][1]["content"]
    run = dspxc(
        "run", str(source), "--opt", "task.classify.opt.json",
        "--input", json.dumps({"utterance": DEV[0][0]}), cwd=directory, env={"DSPX_CACHE": "0"},
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.split("\nusage:")[0]) == {"intent": DEV[0][1]}


def test_load_optimized_in_python_and_an_artifact_that_no_longer_fits(
    finished: dict[str, Any], tmp_path: Path
) -> None:
    directory = tmp_path / "copy"
    shutil.copytree(finished["dir"], directory)
    source = directory / "task.dspx"
    package = compile_source(source).package
    assert package is not None
    program = Program(package, "classify").load_optimized(directory / "task.classify.opt.json")
    assert program.config["model"] == "good"
    assert program.config["demos"] == 1
    messages = program.render({"utterance": "is it hot"})["c"]
    assert "MAGIC" in messages[0]["content"]
    assert finished["artifact"]["demos"]["c"][0]["inputs"]["utterance"] in messages[1]["content"]
    compiled = dspxc("compile", str(source), "-o", "out", cwd=directory)
    assert compiled.returncode == 0, compiled.stderr
    script = (
        "import sys; sys.path.insert(0, 'out'); from task import classify; "
        "best = classify.load_optimized('task.classify.opt.json'); "
        "print(type(best).__name__, best.config.model, best.config.demos)"
    )
    module = subprocess.run(
        [sys.executable, "-c", script],
        cwd=directory,
        env=environment(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.stdout.split() == ["ClassifyProgram", "good", "1"], module.stderr
    changed = source.read_text().replace("var demos: int in 0..2 = 0", "var shots: int in 0..2 = 0")
    changed = changed.replace("demos: demos", "demos: shots")
    source.write_text(changed)
    package = compile_source(source).package
    assert package is not None
    with pytest.raises(DspxConfigError, match=r"unknown variable.*demos"):
        Program(package, "classify").load_optimized(directory / "task.classify.opt.json")
    result = dspxc(
        "eval", str(source), "--data", "dev", "--opt", "task.classify.opt.json", cwd=directory
    )
    assert result.returncode == 2
    assert "does not fit program 'classify'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_html_report_draws_the_front_and_loads_nothing(finished: dict[str, Any]) -> None:
    page = (finished["dir"] / "report.html").read_text()
    assert page.count("<svg") == 2  # the Pareto front and the trial history
    assert "Content-Security-Policy" in page
    assert "default-src 'none'" in page
    assert "<script" not in page
    assert "src=" not in page.replace("default-src", "")
    assert "Decide the intent carefully. MAGIC" in page
    assert "over budget" in page


def test_rerunning_a_finished_study_sends_nothing(
    finished: dict[str, Any], lm_server: FakeLMServer
) -> None:
    lm_server.reset()
    lm_server.respond_with(responder)
    again = dspxc("optimize", str(finished["source"]), *OPTIMIZE, cwd=finished["dir"])
    assert again.returncode == 0, again.stderr
    assert lm_server.chat_requests == []
    assert "done in this study" in again.stderr
    assert json.loads(again.stdout)["config"] == finished["artifact"]["config"]
    keys = [t["key"] for t in trials_of(finished["dir"] / "task.classify.opt.study.db")]
    assert len(keys) == len(set(keys)) == FEASIBLE_CONFIGS


def test_a_forecast_over_max_spend_is_refused_before_any_call(
    tmp_path: Path, lm_server: FakeLMServer
) -> None:
    lm_server.respond_with(responder)
    source = write_task(tmp_path, lm_server.base_url)
    result = dspxc("optimize", str(source), "--max-spend", "0.03", cwd=tmp_path)
    assert result.returncode == 2
    assert "forecast (from the compile-time estimates, before any call)" in result.stderr
    assert "passes max_spend $0.03" in result.stderr
    fit = re.search(r"about (\d+) trial\(s\) fit: run with --trials (\d+)", result.stderr)
    assert fit is not None, result.stderr
    assert 0 < int(fit.group(1)) == int(fit.group(2)) < 60
    assert "--yes" in result.stderr
    tiny = dspxc("optimize", str(source), "--max-spend", "0.002", cwd=tmp_path)
    assert tiny.returncode == 2
    assert "not even one more trial fits" in tiny.stderr
    assert lm_server.chat_requests == []
    assert not (tmp_path / "task.classify.opt.study.db").exists()
    dry = dspxc("optimize", str(source), "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0
    assert "search" in dry.stderr
    assert lm_server.chat_requests == []


def test_usage_errors_are_clear(tmp_path: Path, lm_server: FakeLMServer) -> None:
    source = write_task(tmp_path, lm_server.base_url)
    bad_teacher = dspxc("optimize", str(source), "--teacher", "model=nobody", cwd=tmp_path)
    assert bad_teacher.returncode == 2
    assert "variable 'model' must be in" in bad_teacher.stderr
    zero = dspxc("optimize", str(source), "--trials", "0", cwd=tmp_path)
    assert zero.returncode == 2
    assert "--trials must be at least 1" in zero.stderr
    for result in (bad_teacher, zero):
        assert "Traceback" not in result.stderr
    assert lm_server.chat_requests == []


def test_set_fixes_a_variable_for_the_whole_run(tmp_path: Path, lm_server: FakeLMServer) -> None:
    lm_server.respond_with(responder)
    source = write_task(tmp_path, lm_server.base_url)
    result = dspxc("optimize", str(source), "--set", "model=good", "--format", "json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "fixed by --set: model=good" in result.stderr
    summary = json.loads(result.stdout)
    assert summary["trials"] == 3 * 5  # demos 0..2 x 5 instructions, model good only
    assert {model_of(r) for r in lm_server.chat_requests} == {"good-model"}


def test_a_model_without_its_api_key_is_refused_before_any_call(tmp_path: Path) -> None:
    for name in ("intent.dspx", "models.dspx"):
        shutil.copy(Path(__file__).parents[2] / "examples" / name, tmp_path / name)
    shutil.copytree(Path(__file__).parents[2] / "examples" / "data", tmp_path / "data")
    env = {"OPENAI_API_KEY": ""}
    refused = dspxc("optimize", "intent.dspx", "--dry-run", cwd=tmp_path, env=env)
    assert refused.returncode == 2
    assert "model(s) mini (OPENAI_API_KEY)" in refused.stderr
    assert "--set model=local" in refused.stderr
    local = dspxc(
        "optimize", "intent.dspx", "--set", "model=local", "--dry-run", cwd=tmp_path, env=env
    )
    assert local.returncode == 0, local.stderr
    assert "forecast" in local.stderr
