"""`Optimizer`: search the feasible space with optuna, shared and resumable, under a spend cap.

Contract (docs/optimize.md explains each point at length):
- Only statically feasible configurations are evaluated. grid and random claim the first
  untaken entry of a deterministic feasible sequence (`samplers.FeasibleSequence`); tpe,
  nsga2 and cmaes ask optuna. An infeasible proposal is told back unevaluated (tpe/nsga2
  learn it through a constraint value); a taken one is told back as a duplicate and its
  nearest untaken feasible neighbour is evaluated instead; after `MAX_REJECTS` unusable
  proposals in a row the next configuration comes from a seeded random sequence.
- Before a trial runs, the ledger atomically checks `trials`, takes its configuration and
  reserves its forecast under `max_spend`; after it, the slot is settled with what the
  trial's `SpendGuard` says it spent. The cap therefore holds across every worker sharing
  the storage and study (see `spend.py` for the exact guarantee).
- A provider failure (`TrialOutcome.infra_failed`) is a FAIL trial with status
  "infra_failed", retried `infra_retries` times as new trials of the same configuration;
  then the configuration is skipped for this run. After `infra_abort_after` configurations
  in a row fail that way the run stops with reason "infra". Such trials are never scored.
- Workers heartbeat from a thread; a dead worker's running trials are failed in optuna and
  their slots settled (as done if optuna holds their result, else at their reservation) by
  any live worker, and their configurations are claimed again.
- `run()` returns the study's result when the run stops for trials, spend, exhausted or
  infra; it raises `EvaluationError` when `evaluate` raises, and is cancellable (in-flight
  trials are recorded as "stopped" and their spend settled).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from dspx_lang.optimize import outcomes, pareto
from dspx_lang.optimize.codec import config_key, decode_config, encode_config
from dspx_lang.optimize.ledger import Claim, Pick, Refusal, SlotState
from dspx_lang.optimize.model import (
    SAMPLERS,
    Budget,
    Evaluate,
    EvaluationError,
    Forecast,
    Lease,
    Objective,
    OptimizeError,
    OptimizeResult,
    ProgressEvent,
    SamplerName,
    SpendCapReached,
    StopReason,
    TrialInfo,
    TrialOutcome,
    TrialStatus,
)
from dspx_lang.optimize.progress import Callback, Display, snapshot, wants_live
from dspx_lang.optimize.samplers import FeasibleSequence, first_untaken, neighbours
from dspx_lang.optimize.spend import SpendGuard, to_units, to_usd
from dspx_lang.optimize.worker import StudyWorker
from dspx_lang.space.solve import ConfigValue, Space

MAX_REJECTS = 8
"""Proposals in a row told back unevaluated before a fresh configuration is drawn instead."""

_REASONS: dict[str, StopReason] = {"trials": "trials", "spend": "spend", "exhausted": "exhausted"}


@dataclass(slots=True)
class _Ticket:
    slot: int
    key: str
    config: dict[str, ConfigValue]
    units: int
    number: int
    trial_id: int


class Optimizer(StudyWorker):
    """One worker of a study, for one run (`run` or `summary`, once). See the module
    docstring and docs/optimize.md."""

    def __init__(
        self,
        space: Space,
        *,
        objectives: Sequence[Objective],
        evaluate: Evaluate,
        forecast: Forecast,
        storage: str,
        study: str,
        budgets: Sequence[Budget] = (),
        sampler: SamplerName = "tpe",
        trials: int = 20,
        seed: int = 0,
        concurrency: int = 1,
        max_spend: float | None = None,
        infra_retries: int = 2,
        infra_abort_after: int = 3,
        lease: Lease | None = None,
        live: bool | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> None:
        names = [o.name for o in objectives]
        if not names or len(set(names)) != len(names):
            raise OptimizeError("give at least one objective, each name once")
        if sampler not in SAMPLERS:
            raise OptimizeError(f"unknown sampler {sampler!r}: use {', '.join(SAMPLERS)}")
        if trials < 1 or concurrency < 1 or infra_retries < 0 or infra_abort_after < 1:
            raise OptimizeError("trials, concurrency and infra_abort_after must be >= 1")
        if not study:
            raise OptimizeError("give the study a name")
        super().__init__(
            space,
            pareto.normalised(objectives),
            storage=storage,
            study=study,
            sampler=sampler,
            seed=seed,
            trials=trials,
            lease=lease or Lease(),
        )
        self.budgets = tuple(budgets)
        self.evaluate = evaluate
        self.forecast = forecast
        self.concurrency = concurrency
        self.max_spend = max_spend
        self.cap = None if max_spend is None else to_units(max_spend, up=False)
        self.infra_retries = infra_retries
        self.infra_abort_after = infra_abort_after
        self._display = Display(f"optimize {study} ({sampler})", wants_live(live), callbacks)
        self._reporting = wants_live(live) or bool(callbacks)
        self._stop: StopReason | None = None
        self._skip: set[str] = set()
        self._streak = 0
        self._sequence: FeasibleSequence | None = None
        self._fallback: FeasibleSequence | None = None
        self._finishing: set[asyncio.Future[None]] = set()

    def _halt(self, reason: StopReason) -> None:
        if self._stop is None:
            self._stop = reason

    # ------------------------------------------------------------- running

    async def run(self) -> OptimizeResult:
        """Run trials until the study is done, the cap is reached or the space exhausted."""
        with self._display:
            try:
                await self._open()
                if self.sampler in ("grid", "random"):
                    self._sequence = FeasibleSequence(
                        self.space, self.sampler, self.seed, self.forecast
                    )
                await self._emit("start")
                lanes = [asyncio.create_task(self._lane()) for _ in range(self.concurrency)]
                try:
                    await asyncio.gather(*lanes)
                except BaseException:
                    for lane in lanes:
                        # Cancel once: a second cancel would cut short the recording of an
                        # interrupted trial (see `_run`).
                        if not lane.done() and not lane.cancelling():
                            lane.cancel()
                    await asyncio.gather(*lanes, return_exceptions=True)
                    raise
                if self._lost.is_set():
                    raise OptimizeError(
                        "this worker lost its lease on the study (no heartbeat reached the "
                        "database within the grace period); its trials are redone by the "
                        "others — rerun the command to join again"
                    )
                result = await self._result()
                await self._emit("stop", reason=self._stop)
                return result
            finally:
                await asyncio.gather(*self._finishing, return_exceptions=True)
                await self._close()

    async def summary(self) -> OptimizeResult:
        """The study's current result, without running anything."""
        try:
            await self._connect()
            return await self._result()
        finally:
            await self._close()

    async def _lane(self) -> None:
        while self._stop is None and not self._lost.is_set():
            ticket = await (
                self._next_sequence(self._sequence) if self._sequence else self._next_asked()
            )
            if ticket is None:
                return
            await self._run(ticket)

    # ------------------------------------------------------------- proposals

    def _claim_attr(self, key: str) -> dict[str, str]:
        return {"worker": self.me.worker, "key": key}

    async def _refused(self, refusal: Refusal) -> bool:
        """Wait and return True when the refusal may pass; else stop and return False."""
        if refusal.reason == "dead":
            self._lost.set()
            return False
        if refusal.final:
            self._halt(_REASONS.get(refusal.reason, "trials"))
            return False
        await self._wait()
        await self._reap()
        return self._stop is None and not self._lost.is_set()

    async def _next_sequence(self, seq: FeasibleSequence) -> _Ticket | None:
        while self._stop is None and not self._lost.is_set():
            await self._reap()
            if not seq.entries:
                seq.extend()
            result = await self._db_call(
                self.ledger.claim,
                seq.chooser(frozenset(self._skip)),
                trials=self.trials,
                cap=self.cap,
            )
            if isinstance(result, Claim):
                return await self._start_fixed(result, seq.keys[result.key].config)
            if result.reason == "more":
                seq.extend()
                continue
            if not await self._refused(result):
                return None
        return None

    async def _start_fixed(self, claim: Claim, config: dict[str, ConfigValue]) -> _Ticket | None:
        """Create the optuna trial of a claimed configuration and attach it to the slot."""
        params = encode_config(self.vars, config)
        number, trial_id = await self._opt_call(
            self.access.create, params, self._claim_attr(claim.key)
        )
        if not await self._db_call(self.ledger.link, claim.slot, trial_id, number):
            self._lost.set()
            return None
        return _Ticket(claim.slot, claim.key, config, claim.units, number, trial_id)

    async def _next_asked(self) -> _Ticket | None:
        """Ask the sampler; evaluate its proposal, or, when it is taken, its nearest untaken
        feasible neighbour (the proposal is then told back as a duplicate)."""
        rejects = 0
        while self._stop is None and not self._lost.is_set():
            await self._reap()
            if rejects >= MAX_REJECTS:
                if self._fallback is None:
                    self._fallback = FeasibleSequence(
                        self.space, "random", self.seed + 1, self.forecast
                    )
                return await self._next_sequence(self._fallback)
            # Ask only when a slot may be free: an asked trial left unused is noise in the study.
            totals = await self._db_call(self.ledger.totals)
            if totals.done + totals.running >= self.trials:
                if await self._refused(Refusal("trials", totals.done >= self.trials)):
                    continue
                return None
            number, trial_id, config, key = await self._opt_call(self._ask)
            if not self.space.is_feasible(config):
                await self._reject(number, key, "infeasible")
                rejects += 1
                continue
            configs = {key: config}
            configs.update((config_key(self.vars, n), n) for n in neighbours(self.space, config))
            options = [
                Pick(k, to_units(self.forecast(c)), *((trial_id, number) if k == key else ()))
                for k, c in configs.items()
                if k not in self._skip
            ]
            while True:
                result = await self._db_call(
                    self.ledger.claim, first_untaken(options), trials=self.trials, cap=self.cap
                )
                if isinstance(result, Claim):
                    if result.key == key:
                        return _Ticket(result.slot, key, config, result.units, number, trial_id)
                    await self._reject(number, key, "duplicate")
                    return await self._start_fixed(result, configs[result.key])
                if result.reason == "taken":
                    await self._reject(number, key, "duplicate")
                    rejects += 1
                    break
                if not await self._refused(result):
                    await self._reject(number, key, "not_run")
                    return None
        return None

    def _ask(self) -> tuple[int, int, dict[str, ConfigValue], str]:
        number, trial_id, params = self.access.ask({"worker": self.me.worker})
        config = decode_config(self.vars, params)
        key = config_key(self.vars, config)
        self.access.study._storage.set_trial_user_attr(
            trial_id, "dspx_claim", self._claim_attr(key)
        )
        return number, trial_id, config, key

    async def _reject(self, number: int, key: str, status: TrialStatus) -> None:
        """Tell optuna about a proposal that is not evaluated."""
        result: dict[str, Any] = {"status": status, "key": key, "worker": self.me.worker}
        if status == "infeasible" and self.sampler in ("tpe", "nsga2"):
            # Told COMPLETE but violated, so the sampler learns where the infeasible region is
            # (its values are placeholders: an infeasible trial is never compared by value).
            values = [0.0] * len(self.access.directions)
            await self._opt_call(self.access.finish, number, values, result, {"static": 1.0})
        else:
            await self._opt_call(self.access.finish, number, None, result)

    # ------------------------------------------------------------- trials

    async def _run(self, t: _Ticket) -> None:
        async def top_up(units: int) -> bool | None:
            return await self._db_call(self.ledger.top_up, t.slot, units, self.cap)

        guard = SpendGuard(top_up, t.units)
        attempt, number = 1, t.number
        try:
            while True:
                info = TrialInfo(number, attempt, t.key, self.study_name, self.me.worker, guard)
                try:
                    outcome: TrialOutcome | None = await self.evaluate(t.config, info)
                except SpendCapReached:
                    outcome = None
                except asyncio.CancelledError:
                    # Recorded even if the run is cancelled again meanwhile: `run` awaits it.
                    ending = asyncio.ensure_future(
                        self._end(t, number, attempt, guard, "stopped", "stopped")
                    )
                    self._finishing.add(ending)
                    await asyncio.shield(ending)
                    raise
                except Exception as exc:
                    error = f"{type(exc).__name__}: {exc}"
                    await self._end(t, number, attempt, guard, "error", "stopped", error=error)
                    self._halt("error")
                    raise EvaluationError(
                        f"evaluating trial {number} raised {error} (the study keeps every "
                        "finished trial; fix the error and rerun to resume)"
                    ) from exc
                if outcome is None or guard.cap_reached:
                    await self._end(t, number, attempt, guard, "stopped", "stopped")
                    self._stopped_by(guard)
                    return
                if not outcome.infra_failed:
                    self._streak = 0
                    try:
                        values = outcomes.objective_values(self.objectives, number, outcome)
                    except EvaluationError as exc:
                        await self._end(
                            t, number, attempt, guard, "error", "stopped", error=str(exc)
                        )
                        self._halt("error")
                        raise
                    await self._end(
                        t, number, attempt, guard, "ok", "done", outcome=outcome, values=values
                    )
                    return
                await self._end(t, number, attempt, guard, "infra_failed", None, outcome=outcome)
                if attempt > self.infra_retries:
                    await self._settle(t, guard, "failed", outcome)
                    self._skip.add(t.key)
                    self._streak += 1
                    if self._streak >= self.infra_abort_after:
                        self._halt("infra")
                    return
                try:
                    await guard.ensure(self.forecast(t.config))
                except SpendCapReached:
                    await self._settle(t, guard, "stopped", outcome)
                    self._stopped_by(guard)
                    return
                attempt += 1
                params = encode_config(self.vars, t.config)
                number, trial_id = await self._opt_call(
                    self.access.create, params, self._claim_attr(t.key)
                )
                if not await self._db_call(self.ledger.link, t.slot, trial_id, number):
                    self._lost.set()
                    return
        finally:
            await self._changed()

    def _stopped_by(self, guard: SpendGuard) -> None:
        """A trial was stopped by its guard: the cap, or this worker lost its lease."""
        if guard.reaped:
            self._lost.set()
        else:
            self._halt("spend")

    async def _end(
        self,
        t: _Ticket,
        number: int,
        attempt: int,
        guard: SpendGuard,
        status: TrialStatus,
        slot_state: SlotState | None,
        *,
        outcome: TrialOutcome | None = None,
        values: dict[str, float] | None = None,
        error: str | None = None,
    ) -> None:
        """Record one attempt in optuna, then (if `slot_state`) settle the slot."""
        excess = outcomes.violations(self.budgets, outcome) if outcome and values else {}
        result = outcomes.attempt_result(
            status=status,
            key=t.key,
            worker=self.me.worker,
            attempt=attempt,
            spent=to_usd(_spent(guard, outcome)),
            outcome=outcome,
            values=values,
            excess=excess,
            error=error,
        )
        vector = None
        if values is not None:
            vector = outcomes.told(self.objectives, values, excess, self.access.scalar)
        # False when reaped meanwhile: optuna holds it as FAIL already, the slot as dead.
        await self._opt_call(self.access.finish, number, vector, result, excess)
        if slot_state is not None:
            await self._settle(t, guard, slot_state, outcome)
        if self._reporting:
            await self._emit("trial", number=number)

    async def _settle(
        self, t: _Ticket, guard: SpendGuard, state: SlotState, outcome: TrialOutcome | None
    ) -> None:
        await self._db_call(self.ledger.settle, t.slot, state, _spent(guard, outcome))

    # ------------------------------------------------------------- results

    async def _result(self) -> OptimizeResult:
        s = await self._summary()
        totals = await self._db_call(self.ledger.totals)
        return OptimizeResult(
            best=s.best,
            pareto=s.front,
            trials=s.scored,
            counts=s.counts,
            spent=to_usd(totals.total),
            max_spend=self.max_spend,
            stop_reason=self._stop,
            study=self.study_name,
            storage=self._storage.shown if self._storage else "",
            sampler=self.sampler,
            seed=self.seed,
            objectives=self.objectives,
            budgets=self.budgets,
        )

    async def _emit(
        self,
        kind: Literal["start", "trial", "stop"],
        *,
        number: int | None = None,
        reason: StopReason | None = None,
    ) -> None:
        if not self._reporting:
            return
        s = await self._summary()
        totals = await self._db_call(self.ledger.totals)
        progress = snapshot(s, totals, self.trials, self.max_spend)
        trial = next((r for r in s.scored if r.number == number), None)
        self._display.emit(ProgressEvent(kind, progress, trial, reason))


def _spent(guard: SpendGuard, outcome: TrialOutcome | None) -> int:
    """What a slot is settled with: the guard's total, or the outcome's own account if larger."""
    return max(guard.total_units, to_units(outcome.cost_usd) if outcome else 0)
