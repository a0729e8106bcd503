"""Several worker processes on one study, and workers that die: real processes, SIGKILL and
SIGSTOP, on SQLite files and a real PostgreSQL server.

`DSPX_SOAK=1` raises the kill-and-resume runs from 3 to 20 per storage.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from optimize_kit import finish, ledger_total, logged_spend, read_log, spawn, study_state
from optuna.trial import TrialState

from dspx_lang.optimize.samplers import CLAIM_ATTR, RESULT_ATTR

KILLS = 20 if os.environ.get("DSPX_SOAK") == "1" else 3


def ok_trials(state: dict[str, Any]) -> dict[int, str]:
    """Trial number -> configuration key of every COMPLETE, scored trial."""
    return {
        t.number: t.user_attrs[CLAIM_ATTR]["key"]
        for t in state["trials"]
        if t.state == TrialState.COMPLETE and t.user_attrs[RESULT_ATTR]["status"] == "ok"
    }


def wait_for_events(log: Path, count: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while len(read_log(str(log))) < count:
        assert process.poll() is None, process.communicate()[1][-2000:]
        assert time.monotonic() < deadline, "the worker made no progress"
        time.sleep(0.005)


def test_two_postgres_workers_share_one_study(pg_url: str, tmp_path: Path) -> None:
    logs = [tmp_path / "a.jsonl", tmp_path / "b.jsonl"]
    workers = [
        # A trial takes about 0.3 s, so one worker alone would need about 5 s: far more than
        # the other needs to start.
        spawn(pg_url, "pair", log, sampler="tpe", trials=30, max_spend=1.0, delay=0.08)
        for log in logs
    ]
    results = [finish(w) for w in workers]
    state = study_state(pg_url, "pair")
    done = ok_trials(state)
    ends = [[e for e in read_log(str(log)) if e["event"] == "end"] for log in logs]
    assert len(done) == 30
    assert len(set(done.values())) == 30
    assert all(ends), "both workers evaluated trials"
    assert sum(len(e) for e in ends) == 30
    spent = logged_spend([e for log in logs for e in read_log(str(log))])
    assert spent == Decimal("0.30")
    assert ledger_total(state["slots"]) == Decimal("0.30")
    assert {r["stop_reason"] for r in results} == {"trials"}
    assert results[0]["best"] == results[1]["best"]


@pytest.mark.parametrize(("backend", "sampler"), [("sqlite", "random"), ("postgres", "tpe")])
def test_kill_9_at_random_moments_then_resume_loses_and_repeats_nothing(
    backend: str, sampler: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = (
        f"sqlite:///{tmp_path / 'study.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    log = tmp_path / "events.jsonl"
    options: dict[str, Any] = {
        "sampler": sampler,
        "trials": 16 if KILLS <= 3 else 60,
        "max_spend": 0.3 if KILLS <= 3 else 1.2,
        "concurrency": 3,
        "delay": 0.01,
        "seed": 4,
    }
    rng = random.Random(f"{backend}-{KILLS}")
    kept: dict[int, str] = {}
    for _ in range(KILLS):
        before = len(read_log(str(log)))
        worker = spawn(url, "killed", log, **options)
        if rng.random() < 0.2:
            time.sleep(rng.uniform(0.0, 1.5))  # sometimes while it starts or opens the study
        else:
            wait_for_events(log, before + rng.randint(1, 14), worker)
            time.sleep(rng.uniform(0.0, 0.03))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        now = ok_trials(study_state(url, "killed"))
        assert kept.items() <= now.items(), "a finished trial was lost"
        kept = now
    result = finish(spawn(url, "killed", log, **options))
    state = study_state(url, "killed")
    done = ok_trials(state)
    events = read_log(str(log))
    ended = {(e["number"], e["key"]) for e in events if e["event"] == "end"}
    assert kept.items() <= done.items()
    assert len(done) == options["trials"]
    assert len(set(done.values())) == len(done), "a configuration was evaluated twice"
    assert set(done.items()) <= ended, "every kept trial was evaluated by the callback"
    assert not [t for t in state["trials"] if t.state == TrialState.RUNNING]
    assert not [s for s in state["slots"] if s[0] == "running"]
    cap = Decimal(repr(options["max_spend"]))
    assert logged_spend(events) <= cap
    assert ledger_total(state["slots"]) <= cap
    assert result["stop_reason"] == "trials"


def test_a_silent_worker_loses_its_lease_and_its_trials_are_redone(
    sqlite_url: str, tmp_path: Path
) -> None:
    lease = {"heartbeat": 0.2, "grace": 1.5}
    stuck_log, live_log = tmp_path / "stuck.jsonl", tmp_path / "live.jsonl"
    options: dict[str, Any] = {"trials": 12, "max_spend": 0.5, "delay": 0.05, **lease}
    stuck = spawn(sqlite_url, "lease", stuck_log, **options)
    wait_for_events(stuck_log, 3, stuck)
    stuck.send_signal(signal.SIGSTOP)  # alive but silent: only the heartbeat can tell
    try:
        result = finish(spawn(sqlite_url, "lease", live_log, **options))
    finally:
        stuck.send_signal(signal.SIGCONT)
    _, err = stuck.communicate(timeout=60)
    assert stuck.returncode != 0
    assert "lost its lease" in err
    state = study_state(sqlite_url, "lease")
    done = ok_trials(state)
    statuses = [t.user_attrs.get(RESULT_ATTR, {}).get("status") for t in state["trials"]]
    assert result["stop_reason"] == "trials"
    assert len(done) == 12
    assert len(set(done.values())) == 12
    assert "worker_died" in statuses
    events = read_log(str(stuck_log)) + read_log(str(live_log))
    assert logged_spend(events) <= Decimal("0.5")
    assert ledger_total(state["slots"]) <= Decimal("0.5")
