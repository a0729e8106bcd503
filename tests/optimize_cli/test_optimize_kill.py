"""`kill -9` a running `dspxc optimize`, rerun the same command: the study resumes; every
trial that finished before the kill is kept and never evaluated again, and the setup phases
(bootstrapping, proposals, baseline) are not redone."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from fixtures.lm_server import FakeLMServer
from optimize_cli_kit import (
    DEV,
    FEASIBLE_CONFIGS,
    TRAIN,
    dspxc,
    environment,
    is_proposal,
    ok_keys,
    responder,
    trials_of,
    utterance_of,
    write_task,
)

ARGS = ("--teacher", "model=chatty", "--concurrency", "1", "--eval-concurrency", "1", "--quiet")


def test_kill_9_then_rerun_resumes_without_losing_or_repeating_a_trial(
    tmp_path: Path, lm_server: FakeLMServer
) -> None:
    lm_server.respond_with(responder)
    lm_server.delay_s = 0.02  # long enough to kill it mid-run, short enough for CI
    source = write_task(tmp_path, lm_server.base_url, concurrency=1)
    study = tmp_path / "task.classify.opt.study.db"
    err = tmp_path / "stderr.txt"
    with err.open("w") as sink:  # the child holds its own copy of the descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "dspx_lang", "optimize", str(source), *ARGS],
            cwd=tmp_path,
            env=environment(),
            stdout=subprocess.DEVNULL,
            stderr=sink,
        )
    try:
        deadline = time.monotonic() + 120
        while not (study.exists() and len(ok_keys(_trials(study))) >= 6):
            ended = process.poll() is not None
            assert not ended, f"dspxc optimize ended before it was killed: {err.read_text()}"
            assert time.monotonic() < deadline, "no trial finished in time"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(30)
    before = ok_keys(trials_of(study))
    assert 6 <= len(before) < FEASIBLE_CONFIGS
    lm_server.reset()
    lm_server.respond_with(responder)
    result = dspxc("optimize", str(source), *ARGS, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    after = ok_keys(trials_of(study))
    assert len(after) == len(set(after)) == FEASIBLE_CONFIGS  # none lost, none repeated
    assert set(before) <= set(after)
    asked = lm_server.chat_requests
    assert not any(is_proposal(r) for r in asked)  # proposals were stored before the kill
    train = {u for u, _ in TRAIN}
    assert not any(utterance_of(r) in train for r in asked)  # so was bootstrapping
    # Exactly the trials left (the one killed mid-way included) ran again, one call per row.
    assert len(asked) == (FEASIBLE_CONFIGS - len(before)) * len(DEV)


def _trials(study: Path) -> list[dict[str, object]]:
    try:
        return trials_of(study)
    except Exception:  # the study is being created by the other process
        return []
