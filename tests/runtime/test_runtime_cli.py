"""`dspxc compile/run/prompt/test` end to end, as processes, against the fixture server.

The examples' models are pointed at the server with `DSPX_API_BASE_<MODEL>` (and once with
`--api-base`), the way a user points a compiled program at another endpoint.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.lm_server import FakeLMServer

from dspx_lang.prompts import FieldSpec, format_outputs

ROOT = Path(__file__).resolve().parents[2]
QA = str(ROOT / "examples" / "qa.dspx")
QUESTION = json.dumps({"question": "How many books?", "context": ["250 books", "85 out"]})


def dspxc(*args: str, server: FakeLMServer | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    if server is not None:
        env["DSPX_API_BASE_MINI"] = env["DSPX_API_BASE_LOCAL"] = server.base_url
    return subprocess.run(
        [sys.executable, "-m", "dspx_lang", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def answer(**values: object) -> str:
    return format_outputs("chat", [FieldSpec(k, "string") for k in values], values)


@pytest.mark.parametrize("command", ["compile", "run", "prompt", "test"])
def test_help_has_examples(command: str) -> None:
    result = dspxc(command, "--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout
    assert f"dspxc {command}" in result.stdout


def test_compile_writes_module_and_ir(tmp_path: Path) -> None:
    result = dspxc("compile", QA, str(ROOT / "examples" / "intent.dspx"), "-o", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "intent.ir.json",
        "intent.py",
        "qa.ir.json",
        "qa.py",
    ]
    ir = json.loads((tmp_path / "qa.ir.json").read_text())
    assert ir["ir_version"] == 1
    assert list(ir["programs"]) == ["qa"]
    assert "class QaProgram" in (tmp_path / "qa.py").read_text()


def test_compile_writes_nothing_when_a_file_has_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.dspx"
    broken.write_text('model m = "openai/x"\nsignature S { in a: strng\n out b: string }\n')
    out = tmp_path / "out"
    result = dspxc("compile", QA, str(broken), "-o", str(out))
    assert result.returncode == 1
    assert "error[E100]" in result.stdout
    assert "nothing written" in result.stdout
    assert not out.exists()


def test_run_prints_outputs_then_usage(lm_server: FakeLMServer) -> None:
    lm_server.respond_with(lambda request: answer(reasoning="250 - 85", answer="165"))
    result = dspxc("run", QA, "--input", QUESTION, server=lm_server)
    assert result.returncode == 0, result.stderr
    outputs, usage = result.stdout.rsplit("}\n", 1)
    assert json.loads(outputs + "}") == {"answer": "165"}
    assert usage.startswith("usage: 1 call(s), ")
    assert "cost $" in usage
    assert "latency" in usage
    assert len(lm_server.chat_requests) == 1


def test_run_with_sets_and_api_base_flag(lm_server: FakeLMServer) -> None:
    lm_server.respond_with(lambda request: answer(answer="165"))
    result = dspxc(
        "run", QA, "-i", QUESTION, "--set", "reasoning=predict", "--set", "temperature=0.1",
        "--api-base", f"mini={lm_server.base_url}", "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["outputs"] == {"answer": "165"}
    assert data["usage"]["calls"] == 1
    body = lm_server.chat_requests[0].json
    assert body["temperature"] == 0.1
    assert "`reasoning`" not in body["messages"][0]["content"]


def test_run_failures_have_clear_messages_and_exit_codes(lm_server: FakeLMServer) -> None:
    lm_server.respond_with(lambda request: "I do not know.")
    failed = dspxc("run", QA, "-i", QUESTION, server=lm_server)
    assert failed.returncode == 1
    assert "program 'qa', step 'answer'" in failed.stderr
    assert "Traceback" not in failed.stderr
    infeasible = dspxc("run", QA, "-i", QUESTION, "--set", "model=local", server=lm_server)
    assert infeasible.returncode == 1
    assert "the local model answers directly" in infeasible.stderr
    bad_json = dspxc("run", QA, "-i", "{nope", server=lm_server)
    assert bad_json.returncode == 2
    assert "--input is not valid JSON" in bad_json.stderr
    unknown = dspxc("run", QA, "-i", QUESTION, "--program", "nope", server=lm_server)
    assert unknown.returncode == 2
    assert "no program 'nope'" in unknown.stderr


def test_prompt_prints_what_run_sends(lm_server: FakeLMServer) -> None:
    shown = dspxc("prompt", QA, "-i", QUESTION, "--format", "json", server=lm_server)
    assert shown.returncode == 0, shown.stderr
    messages = json.loads(shown.stdout)["answer"]
    lm_server.respond_with(lambda request: answer(reasoning="r", answer="165"))
    assert dspxc("run", QA, "-i", QUESTION, server=lm_server).returncode == 0
    assert lm_server.chat_requests[0].json["messages"] == messages
    text = dspxc("prompt", QA, "--set", "reasoning=predict", server=lm_server)
    assert text.returncode == 0
    assert text.stdout.startswith("=== step answer: predict AnswerQuestion, model mini")
    assert "--- system ---" in text.stdout
    assert "{question}" in text.stdout
    missing = dspxc("prompt", QA, "--step", "nope")
    assert missing.returncode == 1
    assert "no step(s) nope" in missing.stderr


def test_test_command_passes_and_fails(lm_server: FakeLMServer) -> None:
    lm_server.respond_with(lambda request: answer(reasoning="250-120+35", answer="165 books"))
    passed = dspxc("test", QA, server=lm_server)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "PASS  library_books (qa)" in passed.stdout
    assert "1 test(s): 1 passed, 0 failed" in passed.stdout
    lm_server.respond_with(lambda request: answer(reasoning="hm", answer="160"))
    failed = dspxc("test", QA, "-k", "library", "--set", "temperature=0.5", server=lm_server)
    assert failed.returncode == 1
    assert "FAIL  library_books (qa)" in failed.stdout
    assert 'expect contains(answer, "165") (qa.dspx:' in failed.stdout
    assert 'answer = "160"' in failed.stdout
    as_json = dspxc("test", QA, "--format", "json", "--set", "temperature=0.5", server=lm_server)
    assert as_json.returncode == 1
    [outcome] = json.loads(as_json.stdout)
    assert outcome["name"] == "library_books"
    assert outcome["passed"] is False
    assert outcome["outputs"] == {"answer": "160"}
    none = dspxc("test", QA, "-k", "zzz")
    assert none.returncode == 1
    assert "no tests matching -k 'zzz'" in none.stdout


def test_test_command_on_every_example(lm_server: FakeLMServer) -> None:
    def respond(request: object) -> str:
        body = json.dumps(getattr(request, "json", {}))
        if "ListObjects" in body or "List every object" in body:
            return answer(objects=["3 chairs", "1 couch", "1 lamp"])
        if "Add up the quantities" in body:
            return answer(reasoning="3 + 1 + 1", count=5)
        if "Classify" in body:
            return answer(intent="get_weather")
        if "grade-school math" in body:
            return answer(reasoning="48 + 24", answer=72)
        return answer(reasoning="250-120+35", answer="165")

    lm_server.respond_with(respond)
    for example in ("qa", "intent", "math", "count"):
        path = str(ROOT / "examples" / f"{example}.dspx")
        extra = ["--set", "counter=cot"] if example == "count" else []
        result = dspxc("test", path, *extra, server=lm_server)
        assert result.returncode == 0, (example, result.stdout, result.stderr)
        assert "1 passed, 0 failed" in result.stdout
