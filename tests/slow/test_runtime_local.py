"""Opt-in slow tests (DSPX_SLOW=1): the examples run against the real local model.

The model is 0.5B parameters, so these tests pin down what the runtime guarantees, not the
model's accuracy: the calls go through, the answers parse into the declared types (with the
runtime's repairs and retries), usage is recorded, and `dspxc run` works end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dspx_lang import local
from dspx_lang.codegen.build import compile_source
from dspx_lang.runtime import LMClient, Program

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def example(name: str, program: str, server: local.ServerInfo, client: LMClient) -> Program:
    result = compile_source(ROOT / "examples" / f"{name}.dspx")
    assert result.package is not None
    return Program(result.package, program, client=client).with_model(
        "local", api_base=server.base_url, timeout_s=300.0
    )


@pytest.fixture
def client() -> LMClient:
    return LMClient(cache=False)


def test_intent_classification_returns_a_declared_intent(
    local_server: local.ServerInfo, client: LMClient
) -> None:
    program = example("intent", "classify", local_server, client)  # default model: local
    prediction = program(utterance="Will it rain in Paris tomorrow?")
    values = {v.name for v in program.package.types["Intent"].values}  # type: ignore[union-attr]
    assert prediction.intent in values
    [call] = prediction.calls
    assert call.prompt_tokens > 100
    assert call.completion_tokens > 0
    assert call.cost_usd == 0.0  # the declared price of the local model


def test_math_chain_of_thought_gives_a_number(
    local_server: local.ServerInfo, client: LMClient
) -> None:
    program = example("math", "solve", local_server, client).configure(model="local", demos=0)
    prediction = program(question="Tom has 3 apples and buys 4 more. How many apples now?")
    assert isinstance(prediction.answer, float)
    assert prediction.steps[0].outputs["reasoning"]


def test_qa_predict_answers_within_its_checks(
    local_server: local.ServerInfo, client: LMClient
) -> None:
    program = example("qa", "qa", local_server, client).configure(
        model="local", reasoning="predict"
    )
    prediction = program(
        question="What is the capital of France?",
        context=["Paris is the capital of France."],
    )
    assert 1 <= len(prediction.answer) <= 80


def test_dspxc_run_against_the_local_model(local_server: local.ServerInfo) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "dspx_lang",
            "run",
            str(ROOT / "examples" / "intent.dspx"),
            "--input",
            json.dumps({"utterance": "Play some jazz by Miles Davis"}),
            "--api-base",
            f"local={local_server.base_url}",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert isinstance(data["outputs"]["intent"], str)
    assert data["usage"]["calls"] >= 1
