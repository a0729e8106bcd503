"""`dspxc eval` as a process against the fixture server: the summary, JSON, the HTML report,
data errors, and results that survive `kill -9` and Ctrl-C and resume without redoing work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eval_kit import ROWS, answer_by_utterance, user_text, write_intent, write_rows
from fixtures.lm_server import FakeLMServer

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = {utterance: reply for utterance, _, reply in ROWS}
MANY = [(f"question number {i:02d}", "weather", "weather") for i in range(30)]


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "dspx_lang", "eval", *args]


def environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", "DSPX_CACHE": "0"}


def dspxc_eval(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(*args),
        capture_output=True,
        text=True,
        env=environment(),
        cwd=cwd,
        timeout=120,
        check=False,
    )


def example_lines(path: Path) -> list[dict[str, Any]]:
    """The complete example lines of a results file (a line cut by a kill is skipped)."""
    lines = []
    for raw in path.read_text().split("\n")[:-1]:
        record = json.loads(raw)
        if record["kind"] == "example":
            lines.append(record)
    return lines


def wait_for(condition: Callable[[], bool], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the condition never held")
        time.sleep(0.02)


def test_help_has_examples(tmp_path: Path) -> None:
    result = dspxc_eval("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert "--resume" in result.stdout


def test_prints_the_objectives_and_the_error_counts(
    tmp_path: Path, lm_server: FakeLMServer
) -> None:
    lm_server.respond_with(answer_by_utterance({**SCRIPT, "play some jazz": "500"}))
    source = write_intent(tmp_path, lm_server.base_url)
    result = dspxc_eval(str(source), "--data", "dev", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("classify: 5 of 5 examples")
    assert any(
        line.split() == ["exact_match(intent)", "maximize", "0.800", "0.5000"] for line in lines
    )
    assert "infrastructure errors 1" in result.stdout
    assert "scored 4 (correct 2, wrong 2, output errors 0)" in result.stdout
    assert "results: .dspx/eval/intent.classify.jsonl" in result.stdout
    assert len(example_lines(tmp_path / ".dspx" / "eval" / "intent.classify.jsonl")) == 5


def test_json_format_and_column_mapping(tmp_path: Path, lm_server: FakeLMServer) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    source = write_intent(tmp_path, lm_server.base_url)
    data = write_rows(tmp_path / "other.jsonl", [{"text": u, "gold": g} for u, g, _ in ROWS])
    out = tmp_path / "results.jsonl"
    result = dspxc_eval(
        str(source),
        *("--data", str(data), "--map", "utterance=text", "--map", "intent=gold"),
        *("--limit", "4", "--format", "json", "--out", str(out)),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["objectives"][0] == {
        "name": "exact_match(intent)",
        "direction": "maximize",
        "weight": 0.8,
        "value": 0.75,
        "count": 4,
    }
    assert summary["counts"]["total"] == 4
    assert summary["results_file"] == str(out)
    assert len(example_lines(out)) == 4


def test_the_html_report_escapes_what_the_data_holds(
    tmp_path: Path, lm_server: FakeLMServer
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    source = write_intent(tmp_path, lm_server.base_url)
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    data = write_rows(
        tmp_path / "hostile.jsonl",
        [{"utterance": u, "intent": label} for u, label, _ in ROWS]
        + [{"utterance": hostile, "intent": "music"}],
    )
    report = tmp_path / "report" / "eval.html"
    result = dspxc_eval(str(source), "--data", str(data), "--report", str(report), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = report.read_text()
    assert page.count("<tr class=") == 6
    assert (
        "utterance: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x " in page
    )
    assert page.count("<script>") == 1  # the report's own
    assert "<img" not in page
    assert "Content-Security-Policy" in page
    assert "http://" not in page
    assert "https://" not in page
    assert "book a table for two" in page
    assert "exact_match(intent)" in page


def test_a_bad_row_is_named_and_nothing_runs(tmp_path: Path, lm_server: FakeLMServer) -> None:
    source = write_intent(tmp_path, lm_server.base_url)
    data = write_rows(
        tmp_path / "bad.jsonl",
        [{"utterance": "fine", "label": "music"}, {"text": "no utterance", "label": "music"}],
    )
    result = dspxc_eval(str(source), "--data", str(data), cwd=tmp_path)
    assert result.returncode == 2
    assert "example 1 (row 2 of bad.jsonl): no value for input 'utterance'" in result.stderr
    assert "Traceback" not in result.stderr
    assert lm_server.chat_requests == []


def test_a_missing_api_key_stops_the_run(tmp_path: Path, lm_server: FakeLMServer) -> None:
    source = write_intent(tmp_path, lm_server.base_url)
    text = source.read_text().replace(
        "input_cost: 0.5", 'input_cost: 0.5\n  api_key_env: "DSPX_TEST_NO_SUCH_KEY"'
    )
    source.write_text(text)
    result = dspxc_eval(str(source), "--data", "dev", cwd=tmp_path)
    assert result.returncode == 1
    assert "set the environment variable DSPX_TEST_NO_SUCH_KEY" in result.stderr
    assert "Traceback" not in result.stderr


def test_opt_with_a_missing_artifact_is_a_usage_error(
    tmp_path: Path, lm_server: FakeLMServer
) -> None:
    source = write_intent(tmp_path, lm_server.base_url)
    result = dspxc_eval(str(source), "--data", "dev", "--opt", "x.opt.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "--opt: cannot read the artifact x.opt.json" in result.stderr
    assert "Traceback" not in result.stderr
    assert lm_server.chat_requests == []


def test_resume_refuses_another_configuration(tmp_path: Path, lm_server: FakeLMServer) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    source = write_intent(tmp_path, lm_server.base_url)
    assert dspxc_eval(str(source), "--data", "dev", "--limit", "2", cwd=tmp_path).returncode == 0
    result = dspxc_eval(str(source), "--data", "dev", "--resume", "--set", "demos=1", cwd=tmp_path)
    assert result.returncode == 2
    assert "differs in: fingerprint" in result.stderr


def test_kill_9_keeps_finished_examples_and_resume_does_not_redo_them(
    tmp_path: Path, lm_server: FakeLMServer
) -> None:
    lm_server.respond_with(answer_by_utterance({}))
    lm_server.delay_s = 0.2
    source = write_intent(tmp_path, lm_server.base_url, rows=MANY)
    out = tmp_path / "results.jsonl"
    args = (str(source), "--data", "dev", "--concurrency", "2", "--out", str(out))
    process = subprocess.Popen(
        command(*args),
        env=environment(),
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: out.exists() and len(example_lines(out)) >= 4)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    finished = {str(line["inputs"]["utterance"]) for line in example_lines(out)}
    assert 4 <= len(finished) < len(MANY)
    lm_server.reset()
    lm_server.respond_with(answer_by_utterance({}))
    result = dspxc_eval(*args, "--resume", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    asked = [user_text(r) for r in lm_server.chat_requests]
    assert len(asked) == len(MANY) - len(finished)
    assert not any(u in text for u in finished for text in asked)
    assert f"({len(finished)} resumed)" in result.stdout
    assert sorted(int(line["index"]) for line in example_lines(out)) == list(range(len(MANY)))


def test_ctrl_c_prints_the_results_so_far(tmp_path: Path, lm_server: FakeLMServer) -> None:
    lm_server.respond_with(answer_by_utterance({}))
    lm_server.delay_s = 0.2
    source = write_intent(tmp_path, lm_server.base_url, rows=MANY)
    out = tmp_path / "results.jsonl"
    process = subprocess.Popen(
        command(str(source), "--data", "dev", "-c", "2", "--out", str(out), "--report", "r.html"),
        env=environment(),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: out.exists() and len(example_lines(out)) >= 2)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    done = len(example_lines(out))
    assert stdout.startswith(f"classify: {done} of {len(MANY)} examples")
    assert "stopped: interrupted" in stdout
    assert "rerun with --resume" in stderr
    assert "Traceback" not in stderr
    page = (tmp_path / "r.html").read_text()
    assert "stopped: interrupted" in page
    assert page.count("<tr class=") == done


@pytest.mark.parametrize("flag", ["--concurrency=0", "--limit=-1"])
def test_bad_numbers_are_usage_errors(tmp_path: Path, lm_server: FakeLMServer, flag: str) -> None:
    source = write_intent(tmp_path, lm_server.base_url)
    result = dspxc_eval(str(source), "--data", "dev", flag, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
