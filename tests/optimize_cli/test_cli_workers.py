"""Two `dspxc optimize` processes on one PostgreSQL study share the work: each setup phase
(bootstrapping, proposals, baseline) runs once for both, every feasible configuration is
evaluated exactly once across them, and the artifact each writes is the same choice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from fixtures.lm_server import FakeLMServer
from fixtures.postgres import PostgresServer
from optimize_cli_kit import (
    CANDIDATES,
    DEV,
    FEASIBLE_CONFIGS,
    TRAIN,
    environment,
    is_proposal,
    responder,
    utterance_of,
    write_task,
)


def test_two_workers_share_one_postgres_study(
    tmp_path: Path, lm_server: FakeLMServer, postgres: PostgresServer
) -> None:
    lm_server.respond_with(responder)
    lm_server.delay_s = 0.01
    source = write_task(tmp_path, lm_server.base_url, concurrency=1)
    storage = postgres.database()
    workers = [
        subprocess.Popen(
            [
                sys.executable, "-m", "dspx_lang", "optimize", str(source),
                "--teacher", "model=chatty", "--storage", storage, "--study", "shared",
                "-o", f"worker{i}.opt.json", "--format", "json",
            ],
            cwd=tmp_path,
            env=environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]  # fmt: skip
    outputs = [w.communicate(timeout=300) for w in workers]
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err
    summaries = [json.loads(out) for out, _ in outputs]
    asked = lm_server.chat_requests
    assert sum(is_proposal(r) for r in asked) == len(CANDIDATES)  # proposed once, not twice
    train = {u for u, _ in TRAIN}
    runs = [r for r in asked if not is_proposal(r)]
    assert sum(utterance_of(r) in train for r in runs) == len(TRAIN)  # bootstrapped once
    dev_calls = sum(utterance_of(r) in dict(DEV) for r in runs)
    # every feasible configuration once across both workers, plus one baseline
    assert dev_calls == (FEASIBLE_CONFIGS + 1) * len(DEV)
    assert all(s["trials"] == FEASIBLE_CONFIGS for s in summaries)
    assert summaries[0]["config"] == summaries[1]["config"]
    assert summaries[0]["config"]["model"] == "good"
