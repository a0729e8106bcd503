"""`Program`: one program of an IR package, configured and ready to run.

Contract:
- A `Program` is immutable from the outside: `configure`, `with_config`, `with_demos`,
  `with_instructions`, `with_model` and `with_client` return a new program and leave this one
  unchanged. Derived programs share the LM client (and so its cache, connection pool and
  concurrency limits), never their configuration or history.
- No global mutable state: the client lives on the program (created on the first call when
  none was given), the history is per program (the last `HISTORY_SIZE` calls).
- A run validates the inputs (unknown, missing or ill-typed inputs are `DspxConfigError`s),
  runs the steps as a dependency graph (steps whose inputs are ready run concurrently, on one
  event loop), and validates the outputs against the program's declared types and checks.
  Errors are `DspxError`s that name the program, the step and the field.
- `__call__`/`run` are synchronous (safe from any thread; inside a running event loop they
  run on a helper thread); `acall`/`arun` are the asyncio twins.
- The API key is never stored: the client reads it from the environment for each request.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import os
import threading
import time
from collections import deque
from collections.abc import Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from dspx_lang.ir import schema as ir
from dspx_lang.ir.specs import step_settings
from dspx_lang.prompts import Demo, render_messages
from dspx_lang.runtime.coerce import Coercer, CoercionError, coercer_for
from dspx_lang.runtime.config import default_config, resolve_config
from dspx_lang.runtime.errors import DspxConfigError, DspxOutputError
from dspx_lang.runtime.lm import LMClient, ModelSpec
from dspx_lang.runtime.loop import run as run_loop
from dspx_lang.runtime.modules import run_step
from dspx_lang.runtime.plan import StepPlan, build_plan, model_spec, resolve_tools
from dspx_lang.runtime.results import CallRecord, Prediction, StepTrace

if TYPE_CHECKING:
    from dspx_lang.runtime.eval_results import EvaluationResult
    from dspx_lang.runtime.evaluate import OnResult
    from dspx_lang.runtime.metering import SpendHook

__all__ = ["HISTORY_SIZE", "Program"]

HISTORY_SIZE = 100
T = TypeVar("T")


class _Shared:
    """What a program and the programs derived from it share: the client. Sync calls run on
    the client's loop for the calling thread (`LMClient.run`: reused, and the program's LM
    calls run on it directly)."""

    def __init__(self, client: LMClient | None, owned: bool) -> None:
        self.client = client
        self.owned = owned
        self._lock = threading.Lock()

    def get(self) -> LMClient:
        with self._lock:
            if self.client is None:
                self.client = LMClient()
            return self.client

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run `coro` to completion on this thread's loop of the client; on a helper thread
        when an event loop already runs here (a sync call from async code or a notebook)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return self.get().run(coro)
        with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="dspx-run") as pool:
            return pool.submit(run_loop, coro).result()

    def close(self) -> None:
        if self.owned and self.client is not None:
            self.client.close()
            self.client = None


class Program:
    """A program of `package`; see the module docstring for the guarantees."""

    def __init__(self, package: ir.Package, name: str, *, client: LMClient | None = None) -> None:
        decl = package.programs.get(name)
        if decl is None:
            known = ", ".join(package.programs) or "none"
            raise DspxConfigError(f"no program '{name}' in this package (its programs: {known})")
        self._package = package
        self._decl = decl
        self._shared = _Shared(client, owned=client is None)
        self._config: dict[str, Any] = default_config(decl)
        self._demos: dict[str, tuple[Demo, ...]] = {}
        self._instructions: dict[str, str] = {}
        self._overrides: dict[str, dict[str, Any]] = {}
        self._plans: dict[str, StepPlan] | None = None
        self._history: deque[CallRecord] = deque(maxlen=HISTORY_SIZE)
        self._inputs = {
            f.name: (coercer_for(package, f.type, f.checks), f.type.kind == "optional")
            for f in decl.inputs
        }
        self._outputs: dict[str, Coercer] = {
            f.name: coercer_for(package, f.type, f.checks) for f in decl.outputs
        }

    # ------------------------------------------------------------------ reading

    @property
    def name(self) -> str:
        return self._decl.name

    @property
    def package(self) -> ir.Package:
        return self._package

    @property
    def decl(self) -> ir.ProgramDecl:
        return self._decl

    @property
    def config(self) -> dict[str, Any]:
        """The configuration: every variable's value."""
        return dict(self._config)

    @property
    def demos(self) -> dict[str, tuple[Demo, ...]]:
        return dict(self._demos)

    @property
    def history(self) -> list[CallRecord]:
        """The last calls (oldest first): exact messages and raw answers."""
        return list(self._history)

    @property
    def client(self) -> LMClient:
        return self._shared.get()

    def __repr__(self) -> str:
        config = ", ".join(f"{k}={v!r}" for k, v in self._config.items() if len(repr(v)) < 40)
        return f"<dspx Program {self.name} ({config})>"

    def estimate(self) -> ir.ProgramEstimate | None:
        """The compile-time estimates (default configuration, min and max over the space)."""
        return self._decl.estimate

    def models(self) -> dict[str, ModelSpec]:
        """The model specs calls use, with overrides and `DSPX_API_BASE_<NAME>` applied."""
        return {
            name: model_spec(decl, self._overrides.get(name, {}))
            for name, decl in self._package.models.items()
        }

    # ----------------------------------------------------------------- deriving

    def _derive(self, **fields: Any) -> Program:
        other = copy.copy(self)
        for key, value in fields.items():
            setattr(other, key, value)
        other._plans = None
        other._history = deque(maxlen=HISTORY_SIZE)
        return other

    def configure(self, /, **values: Any) -> Program:
        """A program with these variables changed; checked against domains and constraints."""
        return self._derive(_config=resolve_config(self._decl, self._config, values))

    def with_config(self, config: Mapping[str, Any]) -> Program:
        """A program with this whole configuration (missing variables take their defaults)."""
        return self._derive(_config=resolve_config(self._decl, default_config(self._decl), config))

    def with_demos(self, demos: Mapping[str, Sequence[Demo]]) -> Program:
        """A program whose steps (by name) show these demos; `demos` settings pick how many."""
        self._check_steps(demos)
        return self._derive(_demos={**self._demos, **{k: tuple(v) for k, v in demos.items()}})

    def with_instructions(self, instructions: Mapping[str, str]) -> Program:
        """A program whose steps (by name) use these instructions, whatever the config says."""
        self._check_steps(instructions)
        return self._derive(_instructions={**self._instructions, **instructions})

    def with_model(self, name: str, /, **overrides: Any) -> Program:
        """A program whose model `name` uses these `ModelSpec` fields (e.g. `api_base`)."""
        if name not in self._package.models:
            known = ", ".join(self._package.models)
            raise DspxConfigError(f"no model '{name}' (the models: {known})", program=self.name)
        merged = {**self._overrides.get(name, {}), **overrides}
        model_spec(self._package.models[name], merged)  # validate now, not at the first call
        return self._derive(_overrides={**self._overrides, name: merged})

    def with_client(self, client: LMClient) -> Program:
        return self._derive(_shared=_Shared(client, owned=False))

    def _check_steps(self, per_step: Mapping[str, Any]) -> None:
        steps = {s.name for s in self._decl.steps}
        unknown = sorted(set(per_step) - steps)
        if unknown:
            raise DspxConfigError(
                f"no step(s) {', '.join(unknown)} (the steps: {', '.join(sorted(steps))})",
                program=self.name,
            )

    def evaluate(
        self,
        data: str | os.PathLike[str] | Sequence[Mapping[str, Any]],
        /,
        *,
        concurrency: int = 16,
        limit: int | None = None,
        mapping: Mapping[str, str] | None = None,
        objectives: Sequence[ir.ObjectiveDecl] | None = None,
        on_result: OnResult | None = None,
        spend: SpendHook | None = None,
        out: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> EvaluationResult:
        """Run on every example of `data` and score the objectives (see `aevaluate`)."""
        return self._shared.run(
            self.aevaluate(
                data,
                concurrency=concurrency,
                limit=limit,
                mapping=mapping,
                objectives=objectives,
                on_result=on_result,
                spend=spend,
                out=out,
                resume=resume,
            )
        )

    async def aevaluate(
        self,
        data: str | os.PathLike[str] | Sequence[Mapping[str, Any]],
        /,
        *,
        concurrency: int = 16,
        limit: int | None = None,
        mapping: Mapping[str, str] | None = None,
        objectives: Sequence[ir.ObjectiveDecl] | None = None,
        on_result: OnResult | None = None,
        spend: SpendHook | None = None,
        out: str | os.PathLike[str] | None = None,
        resume: bool = False,
    ) -> EvaluationResult:
        """`data`: a dataset file, a declared dataset's name, rows or `Example`s (the first
        `limit`; fields from same-named columns unless `mapping` says `{field: column}`).
        See `dspx_lang.runtime.evaluate` for concurrency, error accounting and the results
        file `out`, and docs/evaluate.md."""
        from dspx_lang.runtime.evaluate import aevaluate_program
        from dspx_lang.runtime.examples import load_examples

        examples = load_examples(self._package, self._decl, data, mapping=mapping, limit=limit)
        return await aevaluate_program(
            self,
            examples,
            concurrency=concurrency,
            objectives=objectives,
            on_result=on_result,
            spend=spend,
            out=out,
            resume=resume,
        )

    def load_optimized(self, path: str | os.PathLike[str]) -> Program:
        """A program with an optimizer artifact (`dspxc optimize`) applied: its chosen
        configuration, demos and instructions. The artifact is checked against this program
        first: one that no longer fits (variables, domains, constraints, steps or signature
        fields changed) is a `DspxConfigError` naming every difference."""
        from dspx_lang.optimize.artifact import ArtifactError, load_artifact

        try:
            artifact = load_artifact(os.fspath(path), self._package, self.name)
        except ArtifactError as exc:
            raise DspxConfigError(str(exc), program=self.name) from None
        demos = {
            step: [Demo(d.inputs, d.outputs) for d in shown]
            for step, shown in artifact.demos.items()
        }
        return self.with_config(artifact.config).with_demos(demos)

    def close(self) -> None:
        """Close the LM client if this program created it, and its event loops."""
        self._shared.close()

    # ------------------------------------------------------------------ running

    def __call__(self, /, **inputs: Any) -> Prediction:
        return self.run(inputs)

    async def acall(self, /, **inputs: Any) -> Prediction:
        return await self.arun(inputs)

    def run(self, inputs: Mapping[str, Any]) -> Prediction:
        return self._shared.run(self.arun(inputs))

    async def arun(self, inputs: Mapping[str, Any]) -> Prediction:
        started = time.perf_counter()
        values = self._check_inputs(inputs)
        plans = self._ensure_plans()
        client = self._shared.get()
        results: dict[str, dict[str, Any]] = {}
        traces: dict[str, StepTrace] = {}

        async def run_one(plan: StepPlan) -> None:
            step_inputs = {
                name: self._bound(binding, values, results)
                for name, binding in plan.step.bindings.items()
            }
            outputs, calls = await run_step(
                plan, step_inputs, client=client, program=self.name, on_call=self._history.append
            )
            results[plan.step.name] = outputs
            traces[plan.step.name] = StepTrace(
                step=plan.step.name,
                module=plan.settings.module,
                model=plan.model.name,
                inputs=step_inputs,
                outputs=outputs,
                calls=tuple(calls),
            )

        steps = self._decl.steps
        if len(steps) == 1:
            await run_one(plans[steps[0].name])
        else:
            await _run_graph(steps, plans, run_one)
        outputs = self._check_outputs(
            {name: self._bound(b, values, results) for name, b in self._decl.returns.items()}
        )
        return Prediction(
            outputs=outputs,
            steps=tuple(traces[s.name] for s in steps if s.name in traces),
            config=dict(self._config),
            latency_s=time.perf_counter() - started,
        )

    def render(
        self, inputs: Mapping[str, Any] | None = None, *, step: str | None = None
    ) -> dict[str, list[dict[str, str]]]:
        """The first call's messages of each step (or of `step`), without calling anything.

        Inputs that are missing (and step inputs bound to other steps' outputs) are shown as
        `{placeholders}`."""
        if step is not None:
            self._check_steps({step: None})
        plans = self._ensure_plans()
        given = dict(inputs or {})
        shown: dict[str, list[dict[str, str]]] = {}
        for decl in self._decl.steps:
            if step is not None and decl.name != step:
                continue
            plan = plans[decl.name]
            values = {
                name: self._placeholder(binding, name, given)
                for name, binding in decl.bindings.items()
            }
            shown[decl.name] = render_messages(
                plan.spec,
                values,
                plan.demos,
                native_structured=plan.native_structured,
                native_tools=plan.native_tools,
            )
        return shown

    def describe_step(self, step: str) -> str:
        """One line on how `step` runs under this configuration (module, model, adapter...)."""
        self._check_steps({step: None})
        plan = self._ensure_plans()[step]
        s = plan.settings
        parts = [
            f"{s.module} {plan.step.signature}",
            f"model {s.model} ({plan.model.model_id}, {plan.model.resolved_transport()})",
            f"adapter {s.adapter}" + (" (structured output)" if plan.native_structured else ""),
        ]
        if s.temperature is not None:
            parts.append(f"temperature {s.temperature:g}")
        if s.demos:
            parts.append(f"demos {len(plan.demos)} of {s.demos}")
        if s.module in ("pot", "react"):
            parts.append(f"max_iters {s.max_iters}")
        if plan.tools:
            calling = "function calling" if plan.native_tools else "text protocol"
            parts.append(f"tools {', '.join(plan.tools)} ({calling})")
        return ", ".join(parts)

    # ---------------------------------------------------------------- internals

    def _ensure_plans(self) -> dict[str, StepPlan]:
        plans = self._plans
        if plans is not None:
            return plans
        package, decl = self._package, self._decl
        models = self.models()
        needed: set[str] = set()
        settings = {s.name: step_settings(package, decl, s, self._config) for s in decl.steps}
        for resolved in settings.values():
            if resolved.module == "react":
                needed.update(resolved.tools)
        tools = resolve_tools(package, sorted(needed))
        plans = {
            s.name: build_plan(
                package,
                decl,
                s,
                self._config,
                models=models,
                demos=self._demos.get(s.name, ()),
                instructions=self._instructions.get(s.name),
                tools=tools,
            )
            for s in decl.steps
        }
        self._plans = plans
        return plans

    def _check_inputs(self, inputs: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(inputs) - set(self._inputs))
        if unknown:
            raise DspxConfigError(
                f"unknown input(s) {', '.join(unknown)}; the inputs are "
                f"{', '.join(self._inputs) or 'none'}",
                program=self.name,
                field=unknown[0],
            )
        values: dict[str, Any] = {}
        for name, (coerce, optional) in self._inputs.items():
            if name not in inputs or inputs[name] is None:
                if not optional:
                    raise DspxConfigError(f"missing input '{name}'", program=self.name, field=name)
                values[name] = None
                continue
            try:
                values[name] = coerce(_plain(inputs[name]), False, name)
            except CoercionError as exc:
                raise DspxConfigError(
                    f"input {exc} (declared {coerce.type_text})", program=self.name, field=name
                ) from None
        return values

    def _check_outputs(self, outputs: dict[str, Any]) -> dict[str, Any]:
        checked = {}
        for name, value in outputs.items():
            try:
                checked[name] = self._outputs[name](value, False, name)
            except CoercionError as exc:
                raise DspxOutputError(
                    f"output {exc} (declared {self._outputs[name].type_text})",
                    raw=str(value),
                    program=self.name,
                    field=name,
                ) from None
        return checked

    @staticmethod
    def _bound(
        binding: ir.Binding, inputs: Mapping[str, Any], results: Mapping[str, Mapping[str, Any]]
    ) -> Any:
        if binding.source == "input":
            return inputs.get(binding.name)
        if binding.source == "step":
            return results[binding.name].get(binding.field)
        return binding.value

    @staticmethod
    def _placeholder(binding: ir.Binding, name: str, given: Mapping[str, Any]) -> Any:
        if binding.source == "literal":
            return binding.value
        if binding.source == "input" and binding.name in given:
            return given[binding.name]
        source = binding.name if binding.source == "input" else f"{binding.name}.{binding.field}"
        return f"{{{source}}}"


async def _run_graph(
    steps: Sequence[ir.StepDecl], plans: Mapping[str, StepPlan], run_one: Any
) -> None:
    """Each step as a task that waits for the steps it reads; the first failure cancels the
    rest and is raised."""
    tasks: dict[str, asyncio.Task[None]] = {}

    async def after(step: ir.StepDecl) -> None:
        if step.depends_on:
            await asyncio.gather(*(tasks[d] for d in step.depends_on))
        await run_one(plans[step.name])

    for step in steps:
        tasks[step.name] = asyncio.ensure_future(after(step))
    try:
        await asyncio.gather(*tasks.values())
    except BaseException:
        for task in tasks.values():
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        raise


def _plain(value: Any) -> Any:
    """Pydantic models (generated classes) as JSON data; everything else as it is."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", by_alias=True)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
