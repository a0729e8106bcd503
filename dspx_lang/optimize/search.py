"""`Optimizer`: search the feasible space with optuna, shared and resumable, under a spend cap.

Contract (docs/optimize.md explains each point at length):
- Only statically feasible configurations are evaluated. grid and random claim the first
  untaken entry of a deterministic feasible sequence (`samplers.FeasibleSequence`); tpe,
  nsga2 and cmaes ask optuna, and a proposal that is infeasible or already taken is told
  back without evaluation (tpe/nsga2 learn it through constraint values; after
  `MAX_REJECTS` in a row the next configuration comes from a seeded random sequence).
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
import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar

from dspx_lang.optimize import pareto
from dspx_lang.optimize.codec import config_key, decode_config, encode_config
from dspx_lang.optimize.ledger import Claim, Identity, Ledger, Pick, Refusal, SlotState
from dspx_lang.optimize.model import (
    MEASURED,
    SAMPLERS,
    Budget,
    Evaluate,
    EvaluationError,
    Forecast,
    Lease,
    Objective,
    OptimizeError,
    OptimizeResult,
    Progress,
    ProgressEvent,
    SamplerName,
    SpendCapReached,
    StopReason,
    TrialInfo,
    TrialOutcome,
    TrialStatus,
)
from dspx_lang.optimize.progress import Callback, Display, wants_live
from dspx_lang.optimize.reaper import reap
from dspx_lang.optimize.records import Summary, summarize
from dspx_lang.optimize.samplers import FeasibleSequence, first_untaken, neighbours
from dspx_lang.optimize.spend import SpendGuard, to_units, to_usd
from dspx_lang.optimize.storage import StudyStorage, open_storage
from dspx_lang.optimize.study import StudyAccess
from dspx_lang.space.solve import ConfigValue, Space

MAX_REJECTS = 8
"""Proposals in a row told back unevaluated before a fresh configuration is drawn instead."""

P = ParamSpec("P")
R = TypeVar("R")

_REASONS: dict[str, StopReason] = {"trials": "trials", "spend": "spend", "exhausted": "exhausted"}


@dataclass(slots=True)
class _Ticket:
    slot: int
    key: str
    config: dict[str, ConfigValue]
    units: int
    number: int
    trial_id: int


class Optimizer:
    """One worker of a study. See the module docstring and docs/optimize.md."""

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
        self.space = space
        self.vars = space.vars
        self.objectives = pareto.normalised(objectives)
        self.budgets = tuple(budgets)
        self.evaluate = evaluate
        self.forecast = forecast
        self.storage_url = storage
        self.study_name = study
        self.sampler: SamplerName = sampler
        self.trials = trials
        self.seed = seed
        self.concurrency = concurrency
        self.max_spend = max_spend
        self.cap = None if max_spend is None else to_units(max_spend, up=False)
        self.infra_retries = infra_retries
        self.infra_abort_after = infra_abort_after
        self.lease = lease or Lease()
        self.me = Identity.current()
        self._display = Display(f"optimize {study} ({sampler})", wants_live(live), callbacks)
        self._reporting = wants_live(live) or bool(callbacks)
        self._storage: StudyStorage | None = None
        self._ledger: Ledger | None = None
        self._access: StudyAccess | None = None
        self._db = ThreadPoolExecutor(1, thread_name_prefix="dspx-ledger")
        self._opt = ThreadPoolExecutor(1, thread_name_prefix="dspx-optuna")
        self._cond = asyncio.Condition()
        self._stop: StopReason | None = None
        self._registered = False
        self._lost = threading.Event()
        self._beat_stop = threading.Event()
        self._last_reap = -math.inf
        self._skip: set[str] = set()
        self._streak = 0
        self._running = 0
        self._rejected = 0
        self._sequence: FeasibleSequence | None = None
        self._fallback: FeasibleSequence | None = None

    # ------------------------------------------------------------- plumbing

    @property
    def ledger(self) -> Ledger:
        assert self._ledger is not None
        return self._ledger

    @property
    def access(self) -> StudyAccess:
        assert self._access is not None
        return self._access

    async def _in(
        self, pool: ThreadPoolExecutor, fn: Callable[P, R], *a: P.args, **k: P.kwargs
    ) -> R:
        return await asyncio.get_running_loop().run_in_executor(pool, lambda: fn(*a, **k))

    async def _db_call(self, fn: Callable[P, R], *a: P.args, **k: P.kwargs) -> R:
        return await self._in(self._db, fn, *a, **k)

    async def _opt_call(self, fn: Callable[P, R], *a: P.args, **k: P.kwargs) -> R:
        return await self._in(self._opt, fn, *a, **k)

    async def _connect(self) -> None:
        self._storage = await self._db_call(open_storage, self.storage_url)
        self._ledger = Ledger(self._storage.engine, self.study_name, self.me)
        self._access = StudyAccess(
            self._storage,
            self.study_name,
            self.vars,
            self.objectives,
            self.sampler,
            seed=self.seed,
            trials=self.trials,
        )
        await self._opt_call(self._access.open)

    async def _open(self) -> None:
        await self._connect()
        await self._db_call(self.ledger.register)
        self._registered = True
        threading.Thread(target=self._beat, name="dspx-heartbeat", daemon=True).start()
        if self.sampler in ("grid", "random"):
            self._sequence = FeasibleSequence(self.space, self.sampler, self.seed, self.forecast)
        await self._reap(force=True)

    async def _close(self) -> None:
        self._beat_stop.set()
        try:
            if self._registered and not self._lost.is_set():
                await self._db_call(self.ledger.stop)
        finally:
            if self._storage is not None:
                await self._db_call(self._storage.close)
            self._db.shutdown(wait=False)
            self._opt.shutdown(wait=False)

    def _beat(self) -> None:
        while not self._beat_stop.wait(self.lease.heartbeat_s):
            try:
                alive = self.ledger.beat()
            except Exception:
                continue  # the database blinked; the next beat retries within the grace
            if not alive:
                self._lost.set()
                return

    async def _reap(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_reap < self.lease.heartbeat_s:
            return
        self._last_reap = now
        await reap(self.ledger, self.access, self.lease.grace_s, self._db_call, self._opt_call)

    async def _wait(self) -> None:
        """Until a local trial ends, or a heartbeat interval passes (other workers)."""
        async with self._cond:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._cond.wait(), self.lease.heartbeat_s)

    async def _changed(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    def _halt(self, reason: StopReason) -> None:
        if self._stop is None:
            self._stop = reason

    # ------------------------------------------------------------- running

    async def run(self) -> OptimizeResult:
        """Run trials until the study is done, the cap is reached or the space exhausted."""
        with self._display:
            try:
                await self._open()
                await self._emit("start")
                lanes = [asyncio.create_task(self._lane()) for _ in range(self.concurrency)]
                try:
                    await asyncio.gather(*lanes)
                except BaseException:
                    for lane in lanes:
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
        self._rejected += 1
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
        self._running += 1
        try:
            while True:
                info = TrialInfo(number, attempt, t.key, self.study_name, self.me.worker, guard)
                try:
                    outcome: TrialOutcome | None = await self.evaluate(t.config, info)
                except SpendCapReached:
                    outcome = None
                except asyncio.CancelledError:
                    await asyncio.shield(self._end(t, number, attempt, guard, "stopped", "stopped"))
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
                    self._halt("spend")
                    return
                if not outcome.infra_failed:
                    self._streak = 0
                    try:
                        values = self._values(number, outcome)
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
                    self._halt("spend")
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
            self._running -= 1
            await self._changed()

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
        spent = max(guard.total_units, to_units(outcome.cost_usd) if outcome else 0)
        result: dict[str, Any] = {
            "status": status,
            "key": t.key,
            "worker": self.me.worker,
            "attempt": attempt,
            "spent": to_usd(spent),
        }
        told: list[float] | None = None
        violations: dict[str, float] = {}
        if error is not None:
            result["error"] = error
        if outcome is not None:
            result["measured"] = outcome.measured()
            result["details"] = _jsonable(outcome.details)
        if values is not None and outcome is not None:
            violations = self._violations(outcome)
            result["values"] = values
            result["violations"] = violations
            told = self._told(values, violations)
        # False when reaped meanwhile: optuna holds it as FAIL already, the slot as dead.
        await self._opt_call(self.access.finish, number, told, result, violations)
        if slot_state is not None:
            await self._settle(t, guard, slot_state, outcome)
        if self._reporting:
            await self._emit("trial", number=number)

    async def _settle(
        self, t: _Ticket, guard: SpendGuard, state: SlotState, outcome: TrialOutcome | None
    ) -> None:
        spent = max(guard.total_units, to_units(outcome.cost_usd) if outcome else 0)
        await self._db_call(self.ledger.settle, t.slot, state, spent)

    def _values(self, number: int, outcome: TrialOutcome) -> dict[str, float]:
        measured = outcome.measured()
        out = {}
        for o in self.objectives:
            value = outcome.values.get(o.name)
            if value is None and o.name in MEASURED:
                value = measured[o.name]
            if value is None or not math.isfinite(float(value)):
                raise EvaluationError(
                    f"trial {number}: evaluate gave no finite value for objective {o.name}"
                )
            out[o.name] = float(value)
        return out

    def _violations(self, outcome: TrialOutcome) -> dict[str, float]:
        """Relative excess per budget; an unmeasured quantity never violates (like an
        unknown price never prunes statically)."""
        measured = outcome.measured()
        out: dict[str, float] = {}
        for b in self.budgets:
            m = measured[b.metric]
            out[b.metric] = 0.0 if m is None else (float(m) - b.limit) / b.limit
        return out

    def _told(self, values: Mapping[str, float], violations: Mapping[str, float]) -> list[float]:
        if not self.access.scalar:
            return [values[o.name] for o in self.objectives]
        scalar = pareto.scalarize(values, self.objectives)
        excess = sum(max(0.0, v) for v in violations.values())
        # cmaes has no constraints: an over-budget trial ranks below any within budget.
        return [scalar - (1.0 + excess) * (abs(scalar) + 1.0) if excess > 0 else scalar]

    # ------------------------------------------------------------- results

    async def _summary(self) -> Summary:
        trials = await self._opt_call(self.access.all)
        return summarize(self.vars, trials, self.objectives)

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
        progress = Progress(
            done=totals.done,
            running=totals.running,
            failed=s.counts["infra_failed"] + s.counts["error"] + s.counts["worker_died"],
            infeasible=s.counts["infeasible"] + s.counts["duplicate"],
            trials=self.trials,
            best_score=s.best.score if s.best else None,
            best_values=dict(s.best.values) if s.best else {},
            pareto_size=len(s.front),
            spent=to_usd(totals.settled),
            max_spend=self.max_spend,
            reserved=to_usd(totals.outstanding),
        )
        trial = next((r for r in s.scored if r.number == number), None)
        self._display.emit(ProgressEvent(kind, progress, trial, reason))


def _jsonable(details: Mapping[str, Any]) -> dict[str, Any]:
    """Details as stored: JSON values, anything else by its `str`."""
    loaded: dict[str, Any] = json.loads(json.dumps(dict(details), default=str))
    return loaded
