"""With an API key in the environment, compile, run, eval and optimize write it nowhere: not
in the cache, the IR, the generated module, the artifact, the study database, the results,
the HTML reports, nor any output; even when the server echoes it back in an error."""

from __future__ import annotations

import json
from pathlib import Path

from fixtures.lm_server import FakeLMServer, RecordedRequest, Reply
from optimize_cli_kit import DEV, dspxc, responder, write_task

KEY = "sk-dspx-test-SECRET-4242424242"


def leaky(request: RecordedRequest) -> Reply | str:
    """The scripted task, except that one dev row gets a 500 quoting the request's key."""
    if DEV[1][0] in str(request.json["messages"][-1].get("content", "")):
        return Reply.error(500, f"upstream refused {request.headers.get('Authorization')}")
    return responder(request)


def test_the_api_key_is_never_written(tmp_path: Path, lm_server: FakeLMServer) -> None:
    lm_server.respond_with(leaky)
    source = write_task(tmp_path, lm_server.base_url, trials=6)
    env = {"OPENAI_API_KEY": KEY, "DSPX_CACHE_DIR": str(tmp_path / "cache")}
    steps = [
        ("compile", str(source), "-o", "out"),
        ("run", str(source), "--input", json.dumps({"utterance": DEV[0][0]})),
        ("eval", str(source), "--data", "dev", "--out", "results.jsonl", "--report", "eval.html"),
        ("optimize", str(source), "--teacher", "model=chatty", "--cache", "--report", "opt.html"),
        (
            "eval",
            str(source),
            "--data",
            "dev",
            "--opt",
            "task.classify.opt.json",
            "--out",
            "o.jsonl",
        ),
    ]
    outputs = []
    for step in steps:
        result = dspxc(*step, cwd=tmp_path, env=env)
        assert result.returncode in (0, 1), (step, result.stderr)  # 1: an eval row failed
        outputs += [result.stdout, result.stderr]
        (tmp_path / f"{step[0]}.log").write_text(result.stdout + result.stderr)
    # The key did reach the server (so the test means something), and its echo was seen.
    assert any(r.headers.get("Authorization") == f"Bearer {KEY}" for r in lm_server.chat_requests)
    assert "upstream refused" in (tmp_path / "results.jsonl").read_text()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    names = {p.name for p in written}
    assert {"task.ir.json", "task.py", "task.classify.opt.json", "opt.html", "eval.html"} <= names
    assert any(p.suffix == ".db" for p in written)  # the study
    assert any(p.parent.name == "cache" or "cache" in p.parts for p in written)
    for path in written:
        assert KEY.encode() not in path.read_bytes(), f"the key is in {path}"
    for text in outputs:
        assert KEY not in text
