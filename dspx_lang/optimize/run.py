"""`OptimizeRun`: a program's optimize block, end to end — what `dspxc optimize` runs.

Contract:
- `OptimizeRun.prepare(path, program, options)` compiles the file, reads the optimize block
  (trainset; devset, else a seeded `split` of the trainset), builds the feasible space and
  the forecast, and reads what the study already holds. No LM call, nothing written.
- `run()` then, in order: the setup phases, each run once per study and shared by every
  worker (`setup.SetupWorker`): `bootstrap` (the teacher configuration on trainset rows;
  successful traces become each step's demo pool), `proposals` (LM-written candidates for
  every `instructions(...)` variable), `baseline` (the default configuration, as the file
  stands, on the dev rows); then the `Optimizer` over the feasible space, each trial being
  `aevaluate_program` of that configuration with the demo pool on the dev rows, every LM
  call authorized and charged on the trial's guard. Setup spend comes from the same ledger
  and cap. Finally the artifact (chosen configuration, Pareto front, the demos it shows,
  instruction candidates, prices) is written next to the file unless `options.artifact`.
- The teacher is the default configuration changed by `options.teacher` (e.g. a stronger
  model: `{"model": "big"}`); proposals use the teacher's model of the first step whose
  signature the variable holds instructions for.
- Every configuration the optimizer evaluates is statically feasible; a run resumed with the
  same options reuses the setup phases and the finished trials.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dspx_lang.ir import schema as ir
from dspx_lang.ir.specs import step_settings
from dspx_lang.optimize import phases, scope
from dspx_lang.optimize.artifact import Artifact, Price, build_artifact, save_artifact
from dspx_lang.optimize.bootstrap import BootstrapResult, bootstrap_rows
from dspx_lang.optimize.forecast import RunForecast, run_forecast
from dspx_lang.optimize.hook import GuardHook
from dspx_lang.optimize.model import (
    SAMPLERS,
    Budget,
    Lease,
    Objective,
    OptimizeError,
    OptimizeResult,
    SamplerName,
    TrialInfo,
    TrialOutcome,
)
from dspx_lang.optimize.propose import instruction_variables
from dspx_lang.optimize.spend import SpendGuard
from dspx_lang.optimize.storage import default_storage_url
from dspx_lang.prompts import Demo
from dspx_lang.space.analysis import INSTRUCTION_CANDIDATES

if TYPE_CHECKING:
    from dspx_lang.optimize.progress import Callback
    from dspx_lang.runtime.eval_results import EvaluationResult
    from dspx_lang.runtime.examples import Example
    from dspx_lang.runtime.lm import LMClient
    from dspx_lang.runtime.program import Program
    from dspx_lang.space.program import ProgramSpace
    from dspx_lang.space.solve import ConfigValue

Say = Callable[[str], None]


class SourceError(OptimizeError):
    """The `.dspx` file has errors (the message holds them as `dspxc check` prints them)."""


@dataclass(frozen=True)
class RunOptions:
    trials: int | None = None
    max_spend: float | None = None
    storage: str | None = None
    study: str | None = None
    artifact: str | None = None
    concurrency: int | None = None
    """Trials evaluated at once (default: the optimize block's `concurrency`)."""
    eval_concurrency: int = 8
    """Examples in flight within one trial (and in bootstrapping and the baseline)."""
    seed: int | None = None
    teacher: Mapping[str, Any] = field(default_factory=dict)
    pins: Mapping[str, Any] = field(default_factory=dict)
    """Variables fixed for this run (`--set`): the search never changes them."""
    baseline: bool = True
    api_bases: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RunOutcome:
    result: OptimizeResult
    artifact: Artifact
    artifact_path: Path
    baseline: dict[str, Any] | None
    bootstrap: BootstrapResult
    candidates: dict[str, list[str]]


class OptimizeRun:
    """One `dspxc optimize` run; build it with `prepare`."""

    def __init__(self, **parts: Any) -> None:
        self.source: Path = parts["source"]
        self.package: ir.Package = parts["package"]
        self.decl: ir.ProgramDecl = parts["decl"]
        self.ps: ProgramSpace = parts["ps"]
        self.sampler: SamplerName = parts["sampler"]
        self.options: RunOptions = parts["options"]
        self.train: list[Example] = parts["train"]
        self.dev: list[Example] = parts["dev"]
        self.trials: int = parts["trials"]
        self.seed: int = parts["seed"]
        self.concurrency: int = parts["concurrency"]
        self.max_spend: float | None = parts["max_spend"]
        self.artifact_path: Path = parts["artifact_path"]
        self.storage: str = parts["storage"]
        self.study: str = parts["study"]
        self.teacher: dict[str, Any] = parts["teacher"]
        self.pinned: dict[str, Any] = parts["pinned"]
        """The default configuration with `options.pins` applied (what the baseline runs)."""
        self.maximum_cost: float | None = parts["maximum_cost"]
        self.objectives: tuple[Objective, ...] = parts["objectives"]
        self.budgets: tuple[Budget, ...] = tuple(
            Budget(b.metric, b.limit) for b in self.decl.budgets
        )
        self.instruction_vars = instruction_variables(self.decl)
        self.max_demos = {s.name: scope.max_demos(self.decl, s) for s in self.decl.steps}
        self.forecast: RunForecast = self._forecast([], 0, 0.0)

    # ------------------------------------------------------------ preparing

    @classmethod
    def prepare(cls, path: str | Path, program: str, options: RunOptions) -> OptimizeRun:
        from dspx_lang.codegen.build import compile_source, render_errors
        from dspx_lang.runtime.config import default_config, resolve_config
        from dspx_lang.runtime.evaluate import default_objectives
        from dspx_lang.runtime.examples import load_examples
        from dspx_lang.runtime.metrics import objectives_of
        from dspx_lang.space.program import program_space

        source = Path(path)
        result = compile_source(source)
        if result.package is None:
            raise SourceError(
                f"{source} has errors; nothing was run:\n" + render_errors(result.compilation)
            )
        package = result.package
        decl = package.programs.get(program)
        if decl is None:
            raise OptimizeError(
                f"no program '{program}' (the programs: {', '.join(package.programs)})"
            )
        block = decl.optimize
        if block is None or block.trainset is None:
            raise OptimizeError(
                f"program '{program}' has no optimize block with a trainset; add one, e.g. "
                "`optimize { trainset my_train  devset my_dev  trials 20 }`"
            )
        if not decl.variables:
            raise OptimizeError(f"program '{program}' has no variables: there is nothing to tune")
        rows = load_examples(package, decl, block.trainset)
        if block.devset is not None:
            train, dev = rows, load_examples(package, decl, block.devset)
        else:
            train, dev = scope.split(
                rows, block.split, options.seed if options.seed is not None else block.seed
            )
        if not dev:
            raise OptimizeError(
                "the dev set is empty: give the optimize block a devset or more rows"
            )
        pinned = resolve_config(decl, default_config(decl), options.pins)
        teacher = resolve_config(decl, pinned, options.teacher)
        ps = scope.pin_space(
            program_space(result.compilation, program, candidates=INSTRUCTION_CANDIDATES),
            decl,
            options.pins,
        )
        overrides = {m: {"api_base": url} for m, url in options.api_bases.items()}
        missing = scope.missing_keys(ps, package, overrides)
        if missing:
            names = ", ".join(f"{m} ({env})" for m, env in missing)
            raise OptimizeError(
                f"the search can pick model(s) {names} but the environment holds no API key "
                "for them: set the key, or keep the search off them with --set (e.g. "
                "--set model=local)"
            )
        report = result.compilation.reports.get(program)
        sampler = (report.sampler if report else None) or "tpe"
        if sampler not in SAMPLERS:
            raise OptimizeError(f"unknown sampler {sampler}")
        default_est = ps.estimator.estimate({v.name: v.default for v in ps.space.vars})
        objectives = tuple(
            Objective(o.name, o.direction, o.weight, _scale(o.metric, default_est))
            for o in objectives_of(default_objectives(decl, dev))
        )
        uses_cost = any(o.name == "cost" for o in objectives) or any(
            b.metric == "cost" for b in decl.budgets
        )
        if uses_cost and default_est.cost_usd is None:
            raise OptimizeError(
                "a cost objective or budget needs prices: declare input_cost and output_cost "
                "(USD per million tokens) on the program's models"
            )
        artifact_path = (
            Path(options.artifact)
            if options.artifact
            else source.with_name(f"{source.stem}.{program}.opt.json")
        )
        run = cls(
            source=source,
            package=package,
            decl=decl,
            ps=ps,
            sampler=sampler,
            options=options,
            train=train,
            dev=dev,
            trials=options.trials if options.trials is not None else block.trials,
            seed=options.seed if options.seed is not None else block.seed,
            concurrency=options.concurrency
            if options.concurrency is not None
            else block.concurrency,
            max_spend=options.max_spend if options.max_spend is not None else block.max_spend,
            artifact_path=artifact_path,
            storage=options.storage or default_storage_url(artifact_path),
            study=options.study or program,
            teacher=teacher,
            pinned=pinned,
            maximum_cost=scope.maximum_cost(ps),
            objectives=objectives,
        )
        return run

    def _forecast(self, phases_done: Sequence[str], trials_done: int, spent: float) -> RunForecast:
        return run_forecast(
            self.ps,
            trials=self.trials,
            trials_done=trials_done,
            dev_rows=len(self.dev),
            bootstrap_rows=bootstrap_rows(len(self.train), self.max_demos),
            teacher=self.teacher,
            baseline=self.pinned if self.options.baseline else None,
            proposals=len(self.instruction_vars) * INSTRUCTION_CANDIDATES,
            proposal_model=self.proposal_model(),
            phases_done=phases_done,
            spent=spent,
            max_spend=self.max_spend,
            maximum_cost=self.maximum_cost,
        )

    def read_study(self) -> RunForecast:
        """The forecast less what the study already holds (a rerun); reads the storage only
        when it exists (a SQLite file) or is a server."""
        from dspx_lang.optimize.ledger import Identity, Ledger
        from dspx_lang.optimize.setup import SETUP
        from dspx_lang.optimize.storage import open_storage

        if self.storage.startswith("sqlite:///") and not Path(self.storage[10:]).exists():
            return self.forecast
        from sqlalchemy import inspect, select

        storage = open_storage(self.storage)
        try:
            totals = Ledger(storage.engine, self.study, Identity.current()).totals()
            phases: list[str] = []
            if inspect(storage.engine).has_table(SETUP.name):
                with storage.engine.begin() as conn:
                    phases = [
                        str(p)
                        for p in conn.execute(
                            select(SETUP.c.phase).where(SETUP.c.study == self.study)
                        ).scalars()
                    ]
        finally:
            storage.close()
        from dspx_lang.optimize.spend import to_usd

        self.forecast = self._forecast(phases, totals.done, to_usd(totals.total))
        return self.forecast

    def proposal_model(self) -> str | None:
        for signature in self.instruction_vars.values():
            for step in self.decl.steps:
                if step.signature == signature:
                    return step_settings(self.package, self.decl, step, self.teacher).model
        return None

    # ------------------------------------------------------------ running

    def program(self, client: LMClient) -> Program:
        from dspx_lang.runtime.program import Program

        program = Program(self.package, self.decl.name, client=client)
        for model, url in self.options.api_bases.items():
            program = program.with_model(model, api_base=url)
        return program

    async def run(
        self,
        client: LMClient,
        *,
        say: Say = lambda _: None,
        live: bool | None = None,
        callbacks: Sequence[Callback] = (),
    ) -> RunOutcome:
        from dspx_lang.optimize.search import Optimizer
        from dspx_lang.optimize.setup import SetupWorker

        base = self.program(client)
        worker = SetupWorker(
            self.ps.space,
            self.objectives,
            storage=self.storage,
            study=self.study,
            sampler=self.sampler,
            seed=self.seed,
            trials=self.trials,
            lease=Lease(),
            cap_usd=self.max_spend,
        )
        async with worker:
            boot = await phases.bootstrap(self, worker, base, say)
            candidates = await phases.proposals(self, worker, base, say)
            baseline = (
                await phases.baseline(self, worker, base, say) if self.options.baseline else None
            )
        pool = {
            step: [Demo(d["inputs"], d["outputs"]) for d in demos]
            for step, demos in boot.pool.items()
        }
        texts = candidates

        async def evaluate(config: Mapping[str, ConfigValue], info: TrialInfo) -> TrialOutcome:
            program = base.with_config(self.runtime_config(config, texts)).with_demos(pool)
            result = await self.evaluate(program, info.guard)
            return phases.outcome_of(result)

        optimizer = Optimizer(
            self.ps.space,
            objectives=self.objectives,
            budgets=self.budgets,
            evaluate=evaluate,
            forecast=lambda config: len(self.dev) * (self.ps.cost_per_call(config) or 0.0),
            storage=self.storage,
            study=self.study,
            sampler=self.sampler,
            trials=self.trials,
            seed=self.seed,
            concurrency=self.concurrency,
            max_spend=self.max_spend,
            live=live,
            callbacks=callbacks,
        )
        result = await optimizer.run()
        artifact = self.artifact(result, texts, pool)
        save_artifact(artifact, self.artifact_path)
        return RunOutcome(result, artifact, self.artifact_path, baseline, boot, texts)

    async def evaluate(self, program: Program, guard: SpendGuard) -> EvaluationResult:
        from dspx_lang.runtime.evaluate import aevaluate_program

        return await aevaluate_program(
            program, self.dev, concurrency=self.options.eval_concurrency, spend=GuardHook(guard)
        )

    def phase_forecast(self, name: str) -> float:
        phase = next(p for p in self.forecast.phases if p.name == name)
        return phase.usd or 0.0

    # ------------------------------------------------------------ results

    def runtime_config(
        self, config: Mapping[str, ConfigValue], texts: Mapping[str, Sequence[str]]
    ) -> dict[str, Any]:
        from dspx_lang.optimize.artifact import _runtime_value

        full = {
            v.name: (
                self.package.signatures[v.domain.signature].instructions,
                *texts.get(v.name, ()),
            )
            for v in self.decl.variables
            if isinstance(v.domain, ir.InstructionsDomain)
        }
        return {v.name: _runtime_value(v, config[v.name], full) for v in self.decl.variables}

    def shown(
        self, config: Mapping[str, ConfigValue], texts: Mapping[str, Sequence[str]]
    ) -> dict[str, Any]:
        """A trial's configuration as a reader sees it: names, numbers, and for instructions
        `#k: <the first words of candidate k>` (#0 is the signature's own)."""
        from dspx_lang.space.solve import Candidate, Sym

        out: dict[str, Any] = {}
        for v in self.decl.variables:
            value = config.get(v.name)
            if isinstance(v.domain, ir.InstructionsDomain):
                k = value.index if isinstance(value, Candidate) else 0
                options = [self.package.signatures[v.domain.signature].instructions]
                options += texts.get(v.name, ())
                text = options[k] if k < len(options) else "?"
                out[v.name] = f"#{k}: {phases.clip(text, 40)}"
            else:
                out[v.name] = value.name if isinstance(value, Sym) else value
        return out

    def artifact(
        self,
        result: OptimizeResult,
        texts: Mapping[str, Sequence[str]],
        pool: Mapping[str, Sequence[Demo]],
    ) -> Artifact:
        from dspx_lang.optimize.artifact import Demo as ArtifactDemo

        config = (
            self.runtime_config(result.best.config, texts) if result.best else _defaults(self.decl)
        )
        shown = {}
        for step in self.decl.steps:
            k = step_settings(self.package, self.decl, step, config).demos
            if k and pool.get(step.name):
                shown[step.name] = [
                    ArtifactDemo(inputs=dict(d.inputs), outputs=dict(d.outputs))
                    for d in pool[step.name][:k]
                ]
        return build_artifact(
            result,
            self.package,
            self.decl.name,
            candidates=texts,
            demos=shown,
            prices=self.prices(),
        )

    def prices(self) -> dict[str, Price]:
        out = {}
        for name in self.package.models:
            cost = self.ps.estimator.model_cost(name)
            out[name] = Price(
                model_id=cost.model_id, input_cost=cost.input_cost, output_cost=cost.output_cost
            )
        return out


def _defaults(decl: ir.ProgramDecl) -> dict[str, Any]:
    return {v.name: v.default for v in decl.variables}


def _scale(metric: str, default: Any) -> float:
    value = {"cost": default.cost_usd, "latency": default.latency_s, "tokens": default.tokens}.get(
        metric
    )
    return float(value) if value else 1.0
