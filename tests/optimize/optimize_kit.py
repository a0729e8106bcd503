"""A synthetic optimization task, shared by the optimizer tests and their worker processes.

The space (`space()`): model [small, medium, large] x temperature 0..1 step 0.25 x demos 0..4
x style ["terse", "detailed"], with the declared constraint `model == large => temperature
<= 0.5` and the extensional one `model == large => demos <= 3` (a `Predicate`, like a
model-capability check): 124 of 150 configurations are feasible, 93 of them within budget.
Objectives: quality (maximize, weight 0.8) and cost per call (minimize, weight 0.2);
the dynamic budget cost <= $0.004 per call rules out large with any demos or "detailed".
Quality and cost are plain functions of the configuration, so every assertion can be checked
against a brute-force answer computed here independently of the optimizer.

`Task` makes the evaluate callback: it records each configuration it is given, spends
`TRIAL_COST` in `CALLS` calls through the trial's `SpendGuard` (authorize, then charge), and
can log every event as a JSON line to a file (appended atomically, survives `kill -9`).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from dspx_lang.optimize import Budget, Objective, TrialInfo, TrialOutcome
from dspx_lang.optimize.codec import config_key
from dspx_lang.space.solve import (
    Choice,
    Cmp,
    ConfigValue,
    Const,
    Constraint,
    FloatRange,
    Implies,
    IntRange,
    Predicate,
    Ref,
    Space,
    Sym,
    Var,
)

MODELS = ("small", "medium", "large")
BASE = {"small": 0.50, "medium": 0.68, "large": 0.86}
PRICE = {"small": 0.001, "medium": 0.002, "large": 0.004}
OBJECTIVES = (Objective("quality", "maximize", 0.9), Objective("cost", "minimize", 0.1))
BUDGETS = (Budget("cost", 0.006),)
TRIAL_COST = 0.01
CALLS = 4
VARS = (
    Var("model", Choice(tuple(Sym(m) for m in MODELS)), Sym("small")),
    Var("temperature", FloatRange(0.0, 1.0, step=0.25), 0.0),
    Var("demos", IntRange(0, 4), 0),
    Var("style", Choice(("terse", "detailed")), "terse"),
)


def number(value: ConfigValue) -> float:
    """A numeric configuration value (ints and floats only)."""
    assert isinstance(value, int | float), value
    assert not isinstance(value, bool), value
    return value


def _large_few_demos(config: Mapping[str, ConfigValue]) -> bool:
    return config["model"] != Sym("large") or number(config["demos"]) <= 3


def space() -> Space:
    large = Cmp("==", Ref("model"), Const(Sym("large")))
    return Space(
        VARS,
        [
            Constraint(0, Implies(large, Cmp("<=", Ref("temperature"), Const(0.5)))),
            Predicate(1, ("model", "demos"), _large_few_demos),
        ],
    )


def name(config: Mapping[str, ConfigValue]) -> str:
    model = config["model"]
    assert isinstance(model, Sym)
    return model.name


def quality(config: Mapping[str, ConfigValue]) -> float:
    temperature = number(config["temperature"])
    demos = number(config["demos"])
    detailed = 0.02 if config["style"] == "detailed" else 0.0
    return round(BASE[name(config)] + 0.03 * demos - 0.2 * abs(temperature - 0.25) + detailed, 9)


def cost(config: Mapping[str, ConfigValue]) -> float:
    demos = number(config["demos"])
    style = 1.2 if config["style"] == "detailed" else 1.0
    return round(PRICE[name(config)] * (1 + 0.25 * demos) * style, 12)


def within_budget(config: Mapping[str, ConfigValue]) -> bool:
    return cost(config) <= BUDGETS[0].limit


def feasible_configs() -> list[dict[str, ConfigValue]]:
    return list(space().iter_feasible())


def weighted_best(
    configs: Sequence[Mapping[str, ConfigValue]],
) -> dict[str, ConfigValue]:
    """The weighted choice, computed independently: min-max scaling over the configurations
    within budget, weights 0.9/0.1, the first of equals in the given order."""
    ok = [c for c in configs if within_budget(c)]
    qs, cs = [quality(c) for c in ok], [cost(c) for c in ok]

    def scaled(x: float, lo: float, hi: float, up: bool) -> float:
        if hi == lo:
            return 1.0
        return (x - lo) / (hi - lo) if up else (hi - x) / (hi - lo)

    scores = [
        0.9 * scaled(q, min(qs), max(qs), True) + 0.1 * scaled(c, min(cs), max(cs), False)
        for q, c in zip(qs, cs, strict=True)
    ]
    return dict(ok[scores.index(max(scores))])


def key(config: Mapping[str, ConfigValue]) -> str:
    return config_key(VARS, config)


@dataclass
class Task:
    """The evaluate callback and what it saw (see the module docstring)."""

    delay_s: float = 0.0
    log_path: str | None = None
    trial_cost: float = TRIAL_COST
    calls: int = CALLS
    call_bound: float | None = None
    """What each call is authorized for (default: its exact cost)."""
    infra_fail: set[str] = field(default_factory=set)
    """Keys whose evaluation reports a provider failure."""
    raise_on: set[str] = field(default_factory=set)
    seen: list[dict[str, ConfigValue]] = field(default_factory=list)
    spent: list[float] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)

    def log(self, event: str, **data: Any) -> None:
        if self.log_path is None:
            return
        line = json.dumps({"event": event, "pid": os.getpid(), **data}) + "\n"
        fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    async def evaluate(self, config: Mapping[str, ConfigValue], info: TrialInfo) -> TrialOutcome:
        k = key(config)
        self.seen.append(dict(config))
        self.attempts[k] = self.attempts.get(k, 0) + 1
        self.log("start", key=k, number=info.number, attempt=info.attempt)
        if k in self.raise_on:
            raise RuntimeError("metric crashed")
        per_call = self.trial_cost / self.calls
        for _ in range(self.calls):
            hold = await info.guard.authorize(self.call_bound or per_call)
            # The call is "sent" now: from here on its money is spent.
            self.spent.append(per_call)
            self.log("spend", usd=per_call, number=info.number)
            await asyncio.sleep(self.delay_s)
            info.guard.charge(per_call, hold)
        if k in self.infra_fail:
            self.log("infra", key=k, number=info.number)
            return TrialOutcome(infra_failed=True, cost_usd=self.trial_cost)
        values = {"quality": quality(config)}
        self.log("end", key=k, number=info.number, values=values)
        return TrialOutcome(
            values=values,
            cost=cost(config),
            latency=0.1,
            tokens=100.0,
            cost_usd=self.trial_cost,
            details={"note": "synthetic"},
        )


def read_log(path: str) -> list[dict[str, Any]]:
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except FileNotFoundError:
        return []


def logged_spend(events: Sequence[Mapping[str, Any]]) -> Decimal:
    """The exact sum of logged spend (decimals, as the ledger counts)."""
    return sum((Decimal(repr(e["usd"])) for e in events if e["event"] == "spend"), Decimal(0))


WORKER = Path(__file__).with_name("optimize_worker.py")


def spawn(storage: str, study: str, log: Path, **options: Any) -> subprocess.Popen[str]:
    """Start `optimize_worker.py` (options become `--name value` flags)."""
    args = [sys.executable, str(WORKER), "--storage", storage, "--study", study]
    args += ["--log", str(log)]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], timeout: float = 120) -> dict[str, Any]:
    """Wait for a worker; its result line, or an AssertionError with its stderr."""
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"worker failed ({process.returncode}):\n{err[-3000:]}"
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def study_state(storage: str, study: str) -> dict[str, Any]:
    """What the study database holds: optuna trials by state, and the ledger's slots."""
    import optuna
    from sqlalchemy import create_engine, text

    from dspx_lang.optimize.storage import normalise_url

    url = normalise_url(storage)
    loaded = optuna.load_study(study_name=study, storage=url)
    trials = loaded.get_trials(deepcopy=False)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            slots = conn.execute(
                text("SELECT state, reserved, spent, config_key FROM dspx_ledger_slots")
            ).all()
    finally:
        engine.dispose()
    return {"trials": trials, "slots": [tuple(s) for s in slots]}


def ledger_total(slots: Sequence[tuple[Any, ...]]) -> Decimal:
    """The ledger's total in USD: settled spend plus running reservations."""
    units = sum(max(r, s) if state == "running" else s for state, r, s, _ in slots)
    return Decimal(units) / Decimal(10**9)
