"""The optuna side of a run: the study, its trials and what we store on them.

Contract:
- `StudyAccess` makes every optuna call of one worker; the caller runs them all from one
  thread (optuna's samplers are not meant to be shared across threads).
- The study records, as a study user attribute, the objective names and directions and the
  variables' distributions; opening an existing study made for others is a
  `StudyMismatchError`. The `cmaes` sampler's study has one direction (it maximises the
  fixed scalarisation of `pareto.scalarize`); the others have one direction per objective.
- Every trial we create or ask carries `dspx_claim` ({worker, key}); every trial we finish
  carries `dspx_result` (status, objective values, measurements, budget violations, spend,
  attempt, details) set *before* optuna is told, so a trial told COMPLETE always has it.
- Feasibility reaches optuna as constraint values (`Trial.set_constraint`, > 0 violated):
  `static` = 1 on a statically infeasible proposal, and one per dynamic budget (its
  relative excess). The `cmaes` study stores none (its sampler cannot use them).
- Fixed configurations (grid, random, fallbacks, retries) become trials created directly
  in the storage in state RUNNING with their parameters: no sampler is asked.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from dspx_lang.optimize.codec import Scalar, distributions
from dspx_lang.optimize.model import Direction, Objective, SamplerName, StudyMismatchError
from dspx_lang.optimize.samplers import CLAIM_ATTR, RESULT_ATTR, optuna_sampler
from dspx_lang.optimize.storage import StudyStorage
from dspx_lang.space.solve import Var

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution
    from optuna.trial import FrozenTrial

META_ATTR = "dspx_meta"


class StudyAccess:
    def __init__(
        self,
        storage: StudyStorage,
        name: str,
        vars: Sequence[Var],
        objectives: Sequence[Objective],
        sampler: SamplerName,
        *,
        seed: int,
        trials: int,
    ) -> None:
        self.storage = storage
        self.name = name
        self.vars = tuple(vars)
        self.objectives = tuple(objectives)
        self.sampler_name = sampler
        self.seed = seed
        self.trials = trials
        self.dists = distributions(self.vars)
        self.scalar = sampler == "cmaes"
        self._study: optuna.Study | None = None

    @property
    def study(self) -> optuna.Study:
        assert self._study is not None, "open() first"
        return self._study

    @property
    def directions(self) -> list[Direction]:
        return ["maximize"] if self.scalar else [o.direction for o in self.objectives]

    def open(self) -> None:
        import optuna
        from optuna.distributions import distribution_to_json

        sampler = optuna_sampler(self.sampler_name, seed=self.seed, trials=self.trials)
        verbosity = optuna.logging.get_verbosity()
        # optuna announces "A new study created ..." at INFO; our progress says it instead.
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            study = optuna.create_study(
                storage=self.storage.optuna,
                study_name=self.name,
                directions=self.directions,
                sampler=sampler,
                load_if_exists=True,
            )
        finally:
            optuna.logging.set_verbosity(verbosity)
        meta = {
            "objectives": [o.name for o in self.objectives],
            "directions": self.directions,
            "variables": {n: distribution_to_json(d) for n, d in self.dists.items()},
        }
        stored = study.user_attrs.get(META_ATTR)
        if stored is None:
            if [d.name.lower() for d in study.directions] != self.directions:
                raise self._mismatch("directions", study)
            study.set_user_attr(META_ATTR, meta)
        else:
            for part in ("objectives", "directions", "variables"):
                if stored.get(part) != meta[part]:
                    raise self._mismatch(part, study)
        self._study = study

    def _mismatch(self, part: str, study: optuna.Study) -> StudyMismatchError:
        what = {
            "objectives": "other objectives",
            "directions": "other objective directions (or another sampler family: cmaes "
            "studies have one scalar objective)",
            "variables": "other variables or domains",
        }[part]
        return StudyMismatchError(
            f"the study '{self.name}' in {self.storage.shown} was made for {what}; give "
            "another study name (--study) or another storage"
        )

    # ------------------------------------------------------------- trials

    def ask(self, claim: Mapping[str, Any]) -> tuple[int, int, dict[str, Scalar]]:
        """Ask the sampler: (number, trial id, encoded parameters).

        Like `Study.ask`, but the trial is born with its claim (the worker), so a worker that
        dies while asking leaves a trial the reaper can attribute."""
        import optuna

        # What Study.ask does first: drop this thread's cached trial list, so the sampler
        # sees every trial finished since (by any worker).
        self.study._thread_local.cached_all_trials = None
        _, trial_id = self.create({}, claim)
        trial = optuna.Trial(self.study, trial_id)
        for name, dist in self.dists.items():
            _suggest(trial, name, dist)
        return trial.number, trial_id, dict(trial.params)

    def create(self, params: Mapping[str, Scalar], claim: Mapping[str, Any]) -> tuple[int, int]:
        """A RUNNING trial with these parameters, without asking the sampler."""
        from optuna.trial import FrozenTrial, TrialState

        template = FrozenTrial(
            number=0,
            state=TrialState.RUNNING,
            value=None,
            values=None,
            datetime_start=datetime.datetime.now(),
            datetime_complete=None,
            params=dict(params),
            distributions={name: self.dists[name] for name in params},
            user_attrs={CLAIM_ATTR: dict(claim)},
            system_attrs={},
            intermediate_values={},
            trial_id=0,
        )
        # optuna has no public call that creates a RUNNING trial with given parameters for
        # this process only (enqueue_trial lets any worker pop it); the storage API does.
        storage = self.study._storage
        trial_id = storage.create_new_trial(self.study._study_id, template_trial=template)
        return storage.get_trial_number_from_id(trial_id), trial_id

    def finish(
        self,
        number: int,
        values: Sequence[float] | None,
        result: dict[str, Any],
        constraints: Mapping[str, float] | None = None,
    ) -> bool:
        """Store `result` and `constraints`, then tell optuna: COMPLETE with `values`, or
        FAIL when None. False when the trial was finished already (reaped for dead)."""
        import optuna
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        study = self.study
        storage = study._storage
        trial_id = storage.get_trial_id_from_study_id_trial_number(study._study_id, number)
        try:
            storage.set_trial_user_attr(trial_id, RESULT_ATTR, result)
            if constraints and not self.scalar:
                trial = optuna.trial.Trial(study, trial_id)
                for name, value in constraints.items():
                    trial.set_constraint(name, value)
        except UpdateFinishedTrialError:
            return False
        try:
            if values is None:
                study.tell(number, state=TrialState.FAIL)
            else:
                study.tell(number, list(values), state=TrialState.COMPLETE)
        except (UpdateFinishedTrialError, ValueError):
            if storage.get_trial(trial_id).state == TrialState.RUNNING:
                raise
            return False
        return True

    def get(self, trial_id: int) -> FrozenTrial:
        return self.study._storage.get_trial(trial_id)

    def fail_if_running(self, trial_id: int, result: dict[str, Any]) -> FrozenTrial:
        """FAIL a trial left RUNNING by a dead worker (returns its final state)."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        storage = self.study._storage
        trial = storage.get_trial(trial_id)
        if trial.state == TrialState.RUNNING:
            # Keep what the dead worker stored (its spend) and override the status.
            merged = {**(trial.user_attrs.get(RESULT_ATTR) or {}), **result}
            try:
                storage.set_trial_user_attr(trial_id, RESULT_ATTR, merged)
                storage.set_trial_state_values(trial_id, TrialState.FAIL)
            except UpdateFinishedTrialError:
                pass  # its worker or another reaper finished it meanwhile
            trial = storage.get_trial(trial_id)
        return trial

    def running(self) -> list[FrozenTrial]:
        from optuna.trial import TrialState

        return self.study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))

    def all(self) -> list[FrozenTrial]:
        return self.study.get_trials(deepcopy=False)


def _suggest(trial: optuna.Trial, name: str, dist: BaseDistribution) -> None:
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if isinstance(dist, CategoricalDistribution):
        trial.suggest_categorical(name, dist.choices)
    elif isinstance(dist, IntDistribution):
        trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    else:
        assert isinstance(dist, FloatDistribution)
        trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
