"""A scripted optimization task on the fixture server, and `dspxc` as a subprocess.

`write_task(directory, base_url)` writes `task.dspx`, `train.jsonl` (8 rows) and `dev.jsonl`
(4 rows). Its program `classify` has four models at the server: `good`, `bad`, `chatty` and
`pricey` (each its own model id), `demos` 0..2 and an `instructions(Classify)` variable;
objectives exact_match (0.8) and cost (0.2); budgets cost <= $0.01 (statically prunes
`pricey`, whose price is absurd) and tokens <= 3000 (`chatty` answers right but reports 5000
completion tokens: over budget, measured). `responder` scripts the server:
- an instruction proposal (its prompt holds `propose.MARKER`) is answered with candidate
  text `CANDIDATES[i]`; only candidate 2 holds the word MAGIC;
- `good` answers right only when the prompt shows demos AND its instructions hold MAGIC;
- `bad` always answers wrong; `chatty` always right (5000 completion tokens); `pricey` is
  answered with an HTTP 500 (it must never be asked).
So the best feasible configuration is exactly good / demos 1 / the MAGIC candidate.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fixtures.lm_server import RecordedRequest, Reply

from dspx_lang.optimize.propose import MARKER
from dspx_lang.optimize.storage import open_storage
from dspx_lang.prompts import FieldSpec, format_outputs

ROOT = Path(__file__).resolve().parents[2]

SOURCE = """\
model good = "openai/good-model" {{
  api_base: "{base}"
  input_cost: 0.5
  output_cost: 2.0
  retries: 1
  timeout: 10s
}}
model bad = "openai/bad-model" {{
  api_base: "{base}"
  input_cost: 0.5
  output_cost: 2.0
  retries: 1
  timeout: 10s
}}
model chatty = "openai/chatty-model" {{
  api_base: "{base}"
  input_cost: 0.5
  output_cost: 2.0
  retries: 1
  timeout: 10s
}}
model pricey = "openai/pricey-model" {{
  api_base: "{base}"
  input_cost: 5000.0
  output_cost: 5000.0
  retries: 1
  timeout: 10s
}}

enum Intent {{
  weather
  music
  booking
}}

signature Classify {{
  \"\"\"Classify the request.\"\"\"
  in utterance: string
  out intent: Intent
}}

dataset train = "train.jsonl"
dataset dev = "dev.jsonl"

program classify {{
  in utterance: string
  out intent: Intent

  var model: [bad, good, chatty, pricey] = bad
  var demos: int in 0..2 = 0
  var instructions: instructions(Classify)

  step c = predict Classify(utterance) {{
    model: model
    demos: demos
    instructions: instructions
  }}

  return c

  objective maximize exact_match(intent) weight 0.8
  objective minimize cost weight 0.2
  budget cost <= $0.01
  budget tokens <= 3000

  optimize {{
    trainset train
    devset dev
    sampler {sampler}
    trials {trials}
    seed 1
    concurrency {concurrency}
  }}
}}
"""

TRAIN = (
    ("will it rain tomorrow", "weather"),
    ("play some jazz", "music"),
    ("book a table for two", "booking"),
    ("is it sunny in rome", "weather"),
    ("put on the radio", "music"),
    ("reserve a spot at noon", "booking"),
    ("how cold is it outside", "weather"),
    ("start my workout playlist", "music"),
)
DEV = (
    ("will it snow in oslo", "weather"),
    ("play the new album", "music"),
    ("get me a dinner reservation", "booking"),
    ("is it windy today", "weather"),
)
CANDIDATES = (
    "Name the intent of the request.",
    "Read the request and name its intent.",
    "Decide the intent carefully. MAGIC",
    "Pick exactly one intent for the request.",
)
FEASIBLE_CONFIGS = 3 * 3 * 5  # models good/bad/chatty x demos 0..2 x 5 instructions


def write_task(
    directory: Path,
    base_url: str,
    *,
    sampler: str = "grid",
    trials: int = 60,
    concurrency: int = 2,
) -> Path:
    path = directory / "task.dspx"
    path.write_text(
        SOURCE.format(base=base_url, sampler=sampler, trials=trials, concurrency=concurrency),
        encoding="utf-8",
    )
    for name, rows in (("train", TRAIN), ("dev", DEV)):
        lines = "".join(json.dumps({"utterance": u, "intent": i}) + "\n" for u, i in rows)
        (directory / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    return path


def answer(label: str) -> str:
    return format_outputs("chat", [FieldSpec("intent", "string")], {"intent": label})


LABELS = {u: label for u, label in (*TRAIN, *DEV)}


def model_of(request: RecordedRequest) -> str:
    return str(request.json.get("model", ""))


def is_proposal(request: RecordedRequest) -> bool:
    return any(MARKER in str(m.get("content", "")) for m in request.json["messages"])


def has_demos(request: RecordedRequest) -> bool:
    users = [m for m in request.json["messages"] if m.get("role") == "user"]
    return len(users) > 1


def utterance_of(request: RecordedRequest) -> str:
    last = str(request.json["messages"][-1].get("content", ""))
    found = [u for u in LABELS if u in last]
    return found[0] if found else ""


def responder(request: RecordedRequest) -> Reply | str:
    messages = request.json["messages"]
    if is_proposal(request):
        index = int(re.search(rf"{MARKER} (\d+) of", messages[-1]["content"]).group(1))  # type: ignore[union-attr]
        return CANDIDATES[index - 1]
    label = LABELS.get(utterance_of(request), "weather")
    wrong = "music" if label != "music" else "booking"
    model = model_of(request)
    system = str(messages[0].get("content", ""))
    if "pricey" in model:
        return Reply.error(500, "pricey must never be asked")
    if "chatty" in model:
        return Reply(content=answer(label), usage=(100, 5000))
    if "good" in model and has_demos(request) and "MAGIC" in system:
        return answer(label)
    return answer(wrong)


def environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1", **(extra or {})}
    return env


def dspxc(
    *args: str, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dspx_lang", *args],
        capture_output=True,
        text=True,
        env=environment(env),
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def trials_of(study_db: Path, study: str = "classify") -> list[dict[str, Any]]:
    """Every trial of the study as {number, state, status, config key}."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Through our storage: it takes the creation lock a plain optuna reader would race.
    storage = open_storage(f"sqlite:///{study_db}")
    try:
        loaded = optuna.load_study(study_name=study, storage=storage.optuna)
        trials = loaded.get_trials(deepcopy=False)
    finally:
        storage.close()
    return [
        {
            "number": t.number,
            "state": t.state.name,
            "status": (t.user_attrs.get("dspx_result") or {}).get("status"),
            "key": (t.user_attrs.get("dspx_claim") or {}).get("key"),
        }
        for t in trials
    ]


def ok_keys(trials: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(t["key"]) for t in trials if t["state"] == "COMPLETE" and t["status"] == "ok"]
