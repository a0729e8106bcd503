"""The setup phases of a run (`OptimizeRun.run` calls them in this order, each once per study
through `setup.SetupWorker.phase`): `bootstrap` (demo candidates from the teacher's successful
traces), `proposals` (instruction candidates), `baseline` (the default configuration on the dev
rows). Each phase's fingerprint holds what its result depends on, so a rerun with other inputs
is refused instead of mixing results; each says what it does through `say`, once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from dspx_lang.optimize.bootstrap import BootstrapResult, bootstrap_demos, bootstrap_rows
from dspx_lang.optimize.hook import GuardHook
from dspx_lang.optimize.model import TrialOutcome
from dspx_lang.optimize.propose import propose_instructions
from dspx_lang.optimize.spend import SpendGuard
from dspx_lang.space.analysis import INSTRUCTION_CANDIDATES

if TYPE_CHECKING:
    from dspx_lang.optimize.run import OptimizeRun
    from dspx_lang.optimize.setup import SetupWorker
    from dspx_lang.runtime.eval_results import EvaluationResult
    from dspx_lang.runtime.program import Program

Say = Callable[[str], None]


async def bootstrap(
    run: OptimizeRun, worker: SetupWorker, base: Program, say: Say
) -> BootstrapResult:
    wanted = {s: k for s, k in run.max_demos.items() if k > 0}
    if not wanted:
        return BootstrapResult()
    teacher = base.with_config(run.teacher)
    rows = bootstrap_rows(len(run.train), wanted)
    key = fingerprint_of(
        run.teacher, [e.index for e in run.train], wanted, run.seed, run.options.api_bases
    )
    stored = await worker.stored("bootstrap")
    if stored is None:
        say(f"bootstrapping demos: the teacher ({show(run.teacher)}) on {rows} trainset rows")

    async def work(guard: SpendGuard) -> dict[str, Any]:
        found = await bootstrap_demos(
            teacher,
            run.train,
            demos=wanted,
            concurrency=run.options.eval_concurrency,
            spend=GuardHook(guard),
            seed=run.seed,
        )
        return found.to_json()

    data = await worker.phase("bootstrap", key, run.phase_forecast("bootstrap"), work)
    boot = BootstrapResult.from_json(data)
    pools = ", ".join(f"{s} {len(d)}" for s, d in boot.pool.items())
    say(
        f"demos: {boot.successful} of {boot.rows} teacher runs succeeded; demo pool per step: "
        f"{pools or 'none'}" + (" (from the study)" if stored else "")
    )
    return boot


async def proposals(
    run: OptimizeRun, worker: SetupWorker, base: Program, say: Say
) -> dict[str, list[str]]:
    if not run.instruction_vars:
        return {}
    from dspx_lang.runtime.metering import MeteredClient

    model_name = run.proposal_model()
    assert model_name is not None
    model = base.models()[model_name]
    key = fingerprint_of(
        sorted(run.instruction_vars.items()),
        model_name,
        model.model_id,
        [e.index for e in run.train],
        run.seed,
        INSTRUCTION_CANDIDATES,
    )
    stored = await worker.stored("proposals")
    if stored is None:
        say(
            f"proposing instructions: {INSTRUCTION_CANDIDATES} candidate(s) for "
            f"{', '.join(run.instruction_vars)} with model {model_name}"
        )

    async def work(guard: SpendGuard) -> dict[str, Any]:
        metered = MeteredClient(base.client, GuardHook(guard))
        out = {}
        for var, signature in run.instruction_vars.items():
            out[var] = await propose_instructions(
                metered,
                model,
                run.package,
                run.decl,
                signature,
                run.train,
                count=INSTRUCTION_CANDIDATES,
                seed=run.seed,
            )
        return out

    data = await worker.phase("proposals", key, run.phase_forecast("proposals"), work)
    for var, texts in data.items():
        for i, text in enumerate(texts, 1):
            say(f"  {var} candidate {i}: {clip(text, 100)}")
    return {var: list(texts) for var, texts in data.items()}


async def baseline(
    run: OptimizeRun, worker: SetupWorker, base: Program, say: Say
) -> dict[str, Any]:
    key = fingerprint_of([e.index for e in run.dev], run.options.api_bases, run.options.pins)
    stored = await worker.stored("baseline")
    if stored is None:
        say(f"baseline: the default configuration on {len(run.dev)} dev rows")

    async def work(guard: SpendGuard) -> dict[str, Any]:
        result = await run.evaluate(base.with_config(run.pinned), guard)
        outcome = outcome_of(result)
        return {
            "values": dict(outcome.values),
            "measured": outcome.measured(),
            "details": dict(outcome.details),
        }

    return await worker.phase("baseline", key, run.phase_forecast("baseline"), work)


def fingerprint_of(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def show(config: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={clip(str(v), 30)}" for k, v in config.items())


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def outcome_of(result: EvaluationResult) -> TrialOutcome:
    """An evaluation as the optimizer's outcome (docs/evaluate.md, "Mapping to TrialOutcome")."""
    counts = result.counts()
    return TrialOutcome(
        values={o.name: o.value for o in result.objectives if o.value is not None},
        cost=result.cost_usd,
        latency=result.latency_s,
        tokens=result.tokens,
        cost_usd=result.spent_usd,
        infra_failed=result.scored == 0 and result.count("infra_error") > 0,
        details={
            "counts": counts,
            "total": result.total,
            "calls": sum(r.calls for r in result.results),
        },
    )
