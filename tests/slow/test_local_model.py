"""Opt-in slow tests against the real local model (DSPX_SLOW=1; see conftest.py).

They pin down what the runtime relies on: the server honours `max_tokens` both
when it is sent directly and when litellm sends it, it reports token usage, the
model follows an `Answer: <x>` format, and `dspxc local start|status|stop` work.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from dspx_lang import local

pytestmark = pytest.mark.slow

LONG_ANSWER = [{"role": "user", "content": "Write a long story about a dragon who learns to code."}]
SYSTEM = "Reply with exactly one line of the form `Answer: <answer>` and nothing else."
QUESTIONS = [
    ("What is 7 + 5?", "12"),
    ("What is the capital of France?", "Paris"),
    ("How many legs does a spider have?", "8"),
    ("What is 9 times 6?", "54"),
    ("Which planet is known as the red planet?", "Mars"),
    ("What is the boiling point of water in Celsius at sea level?", "100"),
]


def _chat(server: local.ServerInfo, messages: list[dict[str, str]], **extra: object) -> dict:
    body = {"model": server.served_as, "messages": messages, "temperature": 0, **extra}
    response = httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=300)
    response.raise_for_status()
    result: dict = response.json()
    return result


def test_max_tokens_sent_directly_is_honoured(local_server: local.ServerInfo) -> None:
    reply = _chat(local_server, LONG_ANSWER, max_tokens=5)
    assert 0 < reply["usage"]["completion_tokens"] <= 5
    assert reply["choices"][0]["finish_reason"] == "length"


def test_max_tokens_sent_by_litellm_is_honoured(
    local_server: local.ServerInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    reply = litellm.completion(
        model=f"openai/{local_server.served_as}",
        api_base=local_server.base_url,
        api_key="no-key-needed",
        messages=LONG_ANSWER,
        max_tokens=5,
        temperature=0,
    )
    assert 0 < reply.usage.completion_tokens <= 5
    assert reply.choices[0].finish_reason == "length"


def test_usage_counts_the_prompt(local_server: local.ServerInfo) -> None:
    short = _chat(local_server, [{"role": "user", "content": "Hi"}], max_tokens=1)
    longer = _chat(local_server, [{"role": "user", "content": "Hi " * 200}], max_tokens=1)
    assert 0 < short["usage"]["prompt_tokens"] < longer["usage"]["prompt_tokens"]


@pytest.mark.parametrize(("question", "expected"), QUESTIONS)
def test_model_follows_the_answer_format(
    local_server: local.ServerInfo, question: str, expected: str
) -> None:
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    content = _chat(local_server, messages, max_tokens=24)["choices"][0]["message"]["content"]
    match = re.fullmatch(r"Answer:\s*(.+)", content.strip())
    assert match, f"not in the Answer: format: {content!r}"
    assert expected.lower() in match.group(1).lower()


def test_cli_start_status_stop(tmp_path: Path) -> None:
    repo = str(Path(__file__).resolve().parents[2])
    env = {**os.environ, "DSPX_STATE_DIR": str(tmp_path), "PYTHONPATH": repo}
    port = local.free_port()

    def dspxc(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "dspx_lang", "local", *args]
        return subprocess.run(
            command, check=False, env=env, capture_output=True, text=True, timeout=300
        )

    started = dspxc("start", "--port", str(port), "--threads", "2")
    try:
        assert started.returncode == 0, started.stderr
        assert f'api_base: "http://127.0.0.1:{port}/v1"' in started.stdout
        assert local.server_answers(f"http://127.0.0.1:{port}/v1")
        again = dspxc("start", "--port", str(port))
        assert again.returncode == 1
        assert "already running" in again.stderr
        status = dspxc("status")
        assert status.returncode == 0
        assert f"127.0.0.1:{port}" in status.stdout
    finally:
        stopped = dspxc("stop")
    assert stopped.returncode == 0
    assert "stopped the server" in stopped.stdout
    assert not local.server_answers(f"http://127.0.0.1:{port}/v1")
    assert dspxc("status").returncode == 1
