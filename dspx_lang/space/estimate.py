"""Compile-time estimates of tokens, cost and latency (LANGUAGE.md §7).

Contract: `Estimator.estimate(config)` returns, for one configuration of the
variables that shape calls (module, model, adapter, demos, max_iters,
max_tokens), an `Estimate` per step and for the program. Prompts are rendered
with the runtime's own renderer (`dspx_lang.prompts`), filled with the first
trainset rows when the program declares one (else placeholder values sized by
type), and counted with tiktoken; so an estimate is the real prompt's size.
Completions: the declared outputs (gold values from the trainset when mapped,
else sizes by type, `@tokens(n)` hints first), plus REASONING_TOKENS for `cot`,
CODE_TOKENS for `pot` and TURN_TOKENS per `react` turn, capped by `max_tokens`.
Calls: `pot` one expected attempt (at most `max_iters`), `react` half its
turns plus the extraction (at most `max_iters` + 1). Latency per call is the
first-token latency plus completion tokens over the decode speed (declared, else
the provider defaults in PROVIDER_SPEED); the program's latency is the critical
path of its step graph. Prices: declared `input_cost`/`output_cost`, else
litellm's price table; unknown prices make costs unknown (None), never zero.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from itertools import product
from typing import Any, cast

from dspx_lang import modelfacts
from dspx_lang.datasets import DatasetError, read_rows
from dspx_lang.diagnostics import messages as msg
from dspx_lang.ir import schema as ir
from dspx_lang.ir.specs import StepSettings, prompt_spec, step_settings
from dspx_lang.prompts import Demo, render_messages
from dspx_lang.semantics.context import Context
from dspx_lang.semantics.model import (
    BoolDom,
    ChoiceDom,
    Ident,
    InstructionsDom,
    IntDom,
    ProgramInfo,
    SemanticModel,
    StepInfo,
)
from dspx_lang.semantics.types import (
    BOOL,
    FLOAT,
    INT,
    ClassT,
    EnumT,
    ListT,
    LiteralsT,
    MapT,
    OptionalT,
    Type,
)
from dspx_lang.source import Span
from dspx_lang.space.lower import DEFAULT_INSTRUCTIONS
from dspx_lang.space.report import Estimate, Estimates, Forecast, SpaceReport, StepEstimate
from dspx_lang.space.solve import (
    Candidate,
    Choice,
    ConfigValue,
    Predicate,
    SamplingError,
    Space,
    Sym,
    Var,
)
from dspx_lang.space.solve import Value as SolverValue
from dspx_lang.space.tokencount import TokenCounter
from dspx_lang.tokens import message_tokens_bound, text_tokens_bound

REASONING_TOKENS = 120
CODE_TOKENS = 150
TURN_TOKENS = 80
FIELD_OVERHEAD_TOKENS = 6
SAMPLE_ROWS = 3
DEMO_ROWS = 16
MAX_COMBOS = 256
METRICS = ("cost", "latency", "tokens")
ALL_METRICS = (*METRICS, "calls", "prompt_tokens", "completion_tokens")
MEAN_SAMPLES = 64
BOOTSTRAP_PER_DEMO = 4  # teacher runs per demo slot when bootstrapping
PROPOSAL_PROMPT_TOKENS = 1200
PROPOSAL_COMPLETION_TOKENS = 200

# (first-token latency s, decode tokens/s) when a model declares neither.
PROVIDER_SPEED: dict[str, tuple[float, float]] = {
    "openai": (0.45, 70.0),
    "azure": (0.5, 70.0),
    "anthropic": (0.7, 60.0),
    "gemini": (0.5, 90.0),
    "vertex_ai": (0.6, 80.0),
    "groq": (0.2, 300.0),
    "mistral": (0.5, 70.0),
    "local": (0.3, 30.0),  # any model with an api_base: a local or self-hosted server
}
DEFAULT_SPEED = (0.6, 50.0)
SHAPING = ("model", "adapter", "demos", "max_iters", "max_tokens")


@dataclass(frozen=True)
class ModelCost:
    model_id: str
    input_cost: float | None  # USD per 1M tokens
    output_cost: float | None
    first_token_s: float
    tokens_per_s: float
    context_window: int | None
    function_calling: bool | None
    structured_output: bool | None
    max_tokens: int | None


@dataclass(frozen=True)
class CapabilityIssue:
    message: str
    span: Span
    fallback: bool


class Estimator:
    """Estimates for one program, from its IR: the runtime's own settings resolution and
    prompt specs (`dspx_lang.ir.specs`), so an estimate counts the prompt that is sent."""

    def __init__(
        self,
        model: SemanticModel,
        program: ProgramInfo,
        package: ir.Package,
        counter: TokenCounter,
    ) -> None:
        self.model = model
        self.program = program
        self.package = package
        self.decl = package.programs[program.name]
        self.ir_steps = {s.name: s for s in self.decl.steps}
        self.counter = counter
        self.memo: dict[tuple[Any, ...], Estimate] = {}
        self._samples: list[dict[str, ConfigValue]] | None = None
        self._placeholders: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
        self._costs: dict[str, ModelCost] = {}
        # Tokens depend on the step's shape only, not on how many calls a mode assumes.
        self.token_memo: dict[tuple[str, str, str, str, int, bool], tuple[int, int]] = {}
        self.relevant = self._relevant()

    # ------------------------------------------------------------- inputs

    def _relevant(self) -> tuple[str, ...]:
        """Variables that change what is sent: module, model, adapter, demos, limits."""
        names: dict[str, None] = {}
        for step in self.program.steps.values():
            if step.module_is_var:
                names[step.module] = None
            for key in SHAPING:
                setting = step.settings.get(key)
                if setting is not None and setting.var is not None:
                    names[setting.var] = None
        return tuple(names)

    @cached_property
    def rows(self) -> list[dict[str, Any]]:
        """Program fields of the first trainset rows (columns mapped), or none: the first
        SAMPLE_ROWS are typical inputs, the first DEMO_ROWS stand in for demonstrations."""
        optimize = self.program.optimize
        dataset = (
            self.model.datasets.get(optimize.trainset) if optimize and optimize.trainset else None
        )
        if dataset is None:
            return []
        try:
            raw = read_rows(dataset.resolved_path, max(SAMPLE_ROWS, DEMO_ROWS))
        except DatasetError:
            return []
        fields = {**self.program.inputs, **self.program.outputs}
        return [
            {
                name: row[dataset.mapping.get(name, name)]
                for name in fields
                if dataset.mapping.get(name, name) in row
            }
            for row in raw
        ]

    def model_cost(self, name: str) -> ModelCost:
        cost = self._costs.get(name)
        if cost is None:
            cost = self._costs[name] = self._model_cost(name)
        return cost

    def _model_cost(self, name: str) -> ModelCost:
        decl = self.package.models[name]
        facts = modelfacts.lookup(decl.model_id)
        provider = "local" if decl.api_base else decl.model_id.split("/", 1)[0]
        first, speed = PROVIDER_SPEED.get(provider, DEFAULT_SPEED)
        return ModelCost(
            model_id=decl.model_id,
            input_cost=decl.input_cost
            if decl.input_cost is not None
            else (facts.input_cost if facts else None),
            output_cost=decl.output_cost
            if decl.output_cost is not None
            else (facts.output_cost if facts else None),
            first_token_s=decl.first_token_latency_s or first,
            tokens_per_s=decl.tokens_per_second or speed,
            context_window=decl.context_window or (facts.max_input_tokens if facts else None),
            function_calling=facts.supports_function_calling if facts else None,
            structured_output=facts.supports_response_schema if facts else None,
            max_tokens=decl.max_tokens,
        )

    # --------------------------------------------------------- configuration

    def settings(self, step: StepInfo, config: Mapping[str, ConfigValue]) -> StepSettings:
        """The step's settings as the runtime resolves them for this configuration."""
        values: dict[str, Any] = {v.name: v.default for v in self.decl.variables}
        for name, value in config.items():
            if (
                name in values
                and not isinstance(value, Candidate)
                and value != (DEFAULT_INSTRUCTIONS)
            ):
                values[name] = value.name if isinstance(value, Sym) else value
        return step_settings(self.package, self.decl, self.ir_steps[step.name], values)

    # -------------------------------------------------------------- estimates

    def estimate(
        self, config: Mapping[str, ConfigValue], mode: str = "expected", *, bound: bool = False
    ) -> Estimate:
        """`bound`: token counts replaced by upper bounds that need no tokenizer (the UTF-8
        length of each text), so every token figure is at least the exact one."""
        key = (mode, bound, *(_hashable(config.get(n)) for n in self.relevant))
        cached = self.memo.get(key)
        if cached is None:
            cached = self._estimate(config, mode, bound)
            self.memo[key] = cached
        return cached

    def _estimate(self, config: Mapping[str, ConfigValue], mode: str, bound: bool) -> Estimate:
        steps = [
            self.step_estimate(step, config, mode, bound) for step in self.program.steps.values()
        ]
        finish: dict[str, float] = {}
        for step, estimate in zip(self.program.steps.values(), steps, strict=True):
            start = max((finish[d] for d in step.depends_on if d in finish), default=0.0)
            finish[step.name] = start + estimate.latency_s
        return Estimate(tuple(steps), max(finish.values(), default=0.0))

    def step_estimate(
        self, step: StepInfo, config: Mapping[str, ConfigValue], mode: str, bound: bool = False
    ) -> StepEstimate:
        shape = self.settings(step, config)
        cost = self.model_cost(shape.model)
        key = (step.name, cost.model_id, shape.module, shape.adapter, shape.demos, bound)
        if key not in self.token_memo:
            self.token_memo[key] = (
                self.prompt_tokens(step, shape, cost, bound),
                self.completion_tokens(step, shape, cost.model_id, bound),
            )
        prompt, completion = self.token_memo[key]
        limit = shape.max_tokens if shape.max_tokens is not None else cost.max_tokens
        if limit is not None:
            completion = min(completion, limit)
        calls = _calls(shape.module, shape.max_iters, mode)
        if shape.module == "react":
            prompt += TURN_TOKENS * max(0, calls - 1) // 2  # the transcript grows each turn
        price = None
        if cost.input_cost is not None and cost.output_cost is not None:
            price = calls * (prompt * cost.input_cost + completion * cost.output_cost) / 1e6
        latency = calls * (cost.first_token_s + completion / cost.tokens_per_s)
        return StepEstimate(step.name, shape.model, calls, prompt, completion, price, latency)

    def prompt_tokens(
        self, step: StepInfo, shape: StepSettings, cost: ModelCost, bound: bool = False
    ) -> int:
        spec = prompt_spec(self.package, self.ir_steps[step.name], shape)
        examples = self.step_examples(step) or [self.placeholder_example(step)]
        demos = [Demo(inputs, outputs) for inputs, outputs in examples[: shape.demos]]
        demos += [Demo(*self.placeholder_example(step))] * max(0, shape.demos - len(demos))
        native = {
            "native_structured": shape.adapter == "json" and bool(cost.structured_output),
            "native_tools": shape.module == "react" and bool(cost.function_calling),
        }
        rendered = [
            render_messages(spec, inputs, demos, **native) for inputs, _ in examples[:SAMPLE_ROWS]
        ]
        counts = [
            message_tokens_bound(m) if bound else self.counter.messages(m, cost.model_id)
            for m in rendered
        ]
        return round(sum(counts) / len(counts))

    def completion_tokens(
        self, step: StepInfo, shape: StepSettings, model_id: str, bound: bool = False
    ) -> int:
        examples = (self.step_examples(step) or [self.placeholder_example(step)])[:SAMPLE_ROWS]
        total = 0
        for _, outputs in examples:
            text = " ".join(_text(v) for v in outputs.values())
            total += text_tokens_bound(text) if bound else self.counter.text(text, model_id)
        tokens = round(total / len(examples)) + FIELD_OVERHEAD_TOKENS * len(step.signature.outputs)
        for field in step.signature.outputs.values():
            hint = next((c.args[0] for c in field.checks if c.kind == "tokens"), None)
            if isinstance(hint, int):
                tokens += hint
        extra = {"cot": REASONING_TOKENS, "pot": CODE_TOKENS, "react": TURN_TOKENS}
        return tokens + extra.get(shape.module, 0)

    def step_examples(self, step: StepInfo) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(inputs, outputs) of a step from trainset rows, where its values are known."""
        examples = []
        for row in self.rows:
            inputs: dict[str, Any] = {}
            for name, field in step.signature.inputs.items():
                binding = step.bindings.get(name)
                if binding is not None and binding.source == "input" and binding.name in row:
                    inputs[name] = row[binding.name]
                elif binding is not None and binding.source == "literal":
                    inputs[name] = binding.value
                else:
                    inputs[name] = _placeholder(field.type)
            outputs = {
                name: row[name] if name in row else _placeholder(field.type)
                for name, field in step.signature.outputs.items()
            }
            examples.append((inputs, outputs))
        return examples

    def placeholder_example(self, step: StepInfo) -> tuple[dict[str, Any], dict[str, Any]]:
        if step.name not in self._placeholders:
            self._placeholders[step.name] = self._placeholder_example(step)
        return self._placeholders[step.name]

    def _placeholder_example(self, step: StepInfo) -> tuple[dict[str, Any], dict[str, Any]]:
        inputs = {}
        for name, field in step.signature.inputs.items():
            binding = step.bindings.get(name)
            literal = binding.value if binding is not None and binding.source == "literal" else None
            inputs[name] = literal if literal is not None else _placeholder(field.type)
        outputs = {n: _placeholder(f.type) for n, f in step.signature.outputs.items()}
        return inputs, outputs

    # ------------------------------------------------------ over the space

    def combos(self) -> list[dict[str, ConfigValue]]:
        """The shaping variables' values that decide extremes: every choice, the bounds of
        int ranges (estimates are monotone in demos, max_iters and max_tokens)."""
        options: list[list[ConfigValue]] = []
        for name in self.relevant:
            dom = self.program.variables[name].domain
            if isinstance(dom, ChoiceDom):
                options.append([Sym(v.name) if isinstance(v, Ident) else v for v in dom.values])
            elif isinstance(dom, IntDom):
                options.append([dom.low] if dom.low == dom.high else [dom.low, dom.high])
            elif isinstance(dom, BoolDom):
                options.append([False, True])
            else:
                options.append([_default_value(self.program, name)])
        combos = []
        for values in product(*options):
            combos.append(dict(zip(self.relevant, values, strict=True)))
            if len(combos) >= MAX_COMBOS:
                break
        return combos

    def extremes(self, space: Space) -> Estimates:
        """Default, min and max (per metric, per step) over the feasible configurations of
        the shaping variables: exact when there are at most MAX_COMBOS of them, else over
        MEAN_SAMPLES sampled feasible configurations."""
        defaults = {v.name: v.default for v in space.vars}
        default = self.estimate(defaults)
        combos = self.combos()
        if len(combos) <= MAX_COMBOS:
            feasible = [c for c in combos if _exists(space, c)] or [defaults]
        else:
            feasible = [defaults, *self.samples(space)]
        lows = [self.estimate(c, "min") for c in feasible]
        highs = [self.estimate(c, "max") for c in feasible]
        return Estimates(
            default=default,
            minimum={m: _fold(min, [_total_metric(e, m) for e in lows]) for m in ALL_METRICS},
            maximum={m: _fold(max, [_total_metric(e, m) for e in highs]) for m in ALL_METRICS},
            mean=self.mean(space, default),
            steps_min={
                step: {
                    m: _fold(min, [_step_metric(e.steps[i], m) for e in lows]) for m in ALL_METRICS
                }
                for i, step in enumerate(self.program.steps)
            },
            steps_max={
                step: {
                    m: _fold(max, [_step_metric(e.steps[i], m) for e in highs]) for m in ALL_METRICS
                }
                for i, step in enumerate(self.program.steps)
            },
        )

    def samples(self, space: Space) -> list[dict[str, ConfigValue]]:
        """Feasible configurations drawn uniformly (seeded), once per estimator."""
        if self._samples is None:
            try:
                self._samples = space.sample_feasible(random.Random(0), MEAN_SAMPLES)
            except SamplingError:
                self._samples = []
        return self._samples

    def mean(
        self, space: Space, default: Estimate, *, bound: bool = False
    ) -> dict[str, float | None]:
        """Mean over uniformly sampled feasible configurations (what random search pays)."""
        estimates = [self.estimate(s, bound=bound) for s in self.samples(space)] or [default]
        out: dict[str, float | None] = {}
        for metric in METRICS:
            values = [e.metric(metric) for e in estimates]
            out[metric] = None if None in values else sum(v or 0.0 for v in values) / len(values)
        return out

    def budget_predicate(self, pid: int, metric: str, limit: float) -> Predicate:
        def within(config: Mapping[str, ConfigValue]) -> bool:
            # Every metric grows with token counts: an upper bound within the limit settles it.
            for bound in (True, False):
                value = self.estimate(config, "expected", bound=bound).metric(metric)
                if value is None or value <= limit:  # unknown prices never prune
                    return True
            return False

        return Predicate(pid, self.relevant, within)

    # ------------------------------------------------------------ capabilities

    def issues(self, config: Mapping[str, ConfigValue]) -> list[CapabilityIssue]:
        found = []
        # Bounds first: when they fit the context window, no tokenizer is loaded or run.
        bounds = self.estimate(config, "max", bound=True)
        for index, step in enumerate(self.program.steps.values()):
            shape = self.settings(step, config)
            cost = self.model_cost(shape.model)
            span = step.node.span if step.node else self.program.node.name.span
            upper = bounds.steps[index]
            needed = upper.prompt_tokens + upper.completion_tokens
            if cost.context_window is not None and needed > cost.context_window:
                exact = self.estimate(config, "max").steps[index]
                needed = exact.prompt_tokens + exact.completion_tokens
            if cost.context_window is not None and needed > cost.context_window:
                found.append(
                    CapabilityIssue(
                        msg.context_window(step.name, shape.model, needed, cost.context_window),
                        span,
                        False,
                    )
                )
            if shape.module == "react" and cost.function_calling is False:
                found.append(
                    CapabilityIssue(msg.no_function_calling(step.name, shape.model), span, False)
                )
            if shape.adapter == "json" and cost.structured_output is False:
                found.append(CapabilityIssue(msg.json_fallback(step.name, shape.model), span, True))
        return found

    def capability_predicates(self, pid: int) -> list[Predicate]:
        """Configurations whose models lack a needed capability are infeasible."""
        hard = [c for c in self.combos() if any(not i.fallback for i in self.issues(c))]
        if not hard or not self.relevant:
            return []

        def capable(config: Mapping[str, ConfigValue]) -> bool:
            return not any(not i.fallback for i in self.issues(config))

        return [Predicate(pid, self.relevant, capable)]

    def capability_issues(self, defaults: Mapping[str, ConfigValue]) -> list[CapabilityIssue]:
        return self.issues(defaults)

    # -------------------------------------------------------------- prices

    def used_models(self) -> list[str]:
        names: dict[str, None] = {}
        for combo in self.combos():
            for step in self.program.steps.values():
                names[self.settings(step, combo).model] = None
        return [n for n in names if n in self.model.models]

    def report_unpriced(self, ctx: Context) -> None:
        for name in self.used_models():
            cost = self.model_cost(name)
            if cost.input_cost is None or cost.output_cost is None:
                symbol = self.model.models[name].symbol
                ctx.error("W404", msg.unknown_price(name, cost.model_id), symbol.file, symbol.span)

    # ------------------------------------------------------------- forecast

    def forecast(
        self, report: SpaceReport, space: Space, *, bound: bool = False
    ) -> Forecast | None:
        """What `optimize` would spend; `bound`: from token upper bounds (an upper bound on
        tokens and cost, with no tokenizer), as in `estimate`."""
        optimize = self.program.optimize
        if optimize is None:
            return None
        dev_rows = self._dev_rows()
        trials = optimize.trials
        if report.sampler == "grid" and report.budget_size is not None:
            trials = min(trials, report.budget_size)  # a grid tries each configuration once
        default = self.estimate({v.name: v.default for v in space.vars}, bound=bound)
        mean = self.mean(space, default, bound=bound)
        calls_per_example = sum(s.calls for s in default.steps)
        demos = max((self._max_demos(step) for step in self.program.steps.values()), default=0)
        train_rows = self._rows_of(optimize.trainset)
        bootstrap = min(train_rows, BOOTSTRAP_PER_DEMO * demos) if demos else 0
        instruction_vars = [
            n for n, v in self.program.variables.items() if isinstance(v.domain, InstructionsDom)
        ]
        from dspx_lang.space.analysis import INSTRUCTION_CANDIDATES

        proposals = len(instruction_vars) * INSTRUCTION_CANDIDATES
        per_example = mean.get("cost")
        default_cost = default.cost_usd
        cost = None
        fit = None
        if per_example is not None and default_cost is not None:
            overhead = bootstrap * default_cost + proposals * self._proposal_cost()
            cost = trials * dev_rows * per_example + overhead
            if optimize.max_spend is not None and per_example > 0:
                fit = max(0, math.floor((optimize.max_spend - overhead) / (dev_rows * per_example)))
        tokens = round(trials * dev_rows * (mean.get("tokens") or 0))
        return Forecast(
            trials,
            dev_rows,
            trials * dev_rows * calls_per_example + bootstrap * calls_per_example + proposals,
            tokens,
            cost,
            bootstrap,
            proposals,
            fit,
        )

    def check_forecast(self, ctx: Context, report: SpaceReport, space: Space) -> None:
        """W405 when the forecast passes `max_spend`. The bound-based forecast settles most
        programs without a tokenizer (cold `dspxc check`); the exact one decides the rest."""
        optimize = self.program.optimize
        if optimize is None or optimize.max_spend is None:
            return
        upper = self.forecast(report, space, bound=True)
        if upper is None or upper.cost_usd is None or upper.cost_usd <= optimize.max_spend:
            return
        exact = report.forecast
        if exact is None or exact.cost_usd is None or exact.cost_usd <= optimize.max_spend:
            return
        span = next(i.span for i in optimize.node.items if i.key.text == "max_spend")
        ctx.error(
            "W405",
            msg.forecast_over(exact.cost_usd, optimize.max_spend, exact.trials_within_cap or 0),
            self.program.file,
            span,
        )

    def _proposal_cost(self) -> float:
        default_model = self.program.default_model
        cost = self.model_cost(default_model) if default_model else None
        if cost is None or cost.input_cost is None or cost.output_cost is None:
            return 0.0
        return (
            PROPOSAL_PROMPT_TOKENS * cost.input_cost + PROPOSAL_COMPLETION_TOKENS * cost.output_cost
        ) / 1e6

    def _max_demos(self, step: StepInfo) -> int:
        setting = step.settings.get("demos")
        if setting is None:
            return 0
        if setting.var is None:
            return int(setting.literal) if isinstance(setting.literal, int) else 0
        dom = self.program.variables[setting.var].domain
        if isinstance(dom, IntDom):
            return dom.high
        if isinstance(dom, ChoiceDom):
            return max(int(v) for v in dom.values if isinstance(v, int | float))
        return 0

    def _rows_of(self, dataset: str | None) -> int:
        info = self.model.datasets.get(dataset) if dataset else None
        if info is None:
            return 0
        try:
            return len(read_rows(info.resolved_path))
        except DatasetError:
            return 0

    def _dev_rows(self) -> int:
        optimize = self.program.optimize
        assert optimize is not None
        if optimize.devset is not None:
            return self._rows_of(optimize.devset)
        return math.ceil(self._rows_of(optimize.trainset) * (1 - optimize.split))


def _calls(module: str, max_iters: int, mode: str) -> int:
    if module == "pot":
        return {"min": 1, "max": max_iters}.get(mode, 1)
    if module == "react":
        return {"min": 2, "max": max_iters + 1}.get(mode, math.ceil(max_iters / 2) + 1)
    return 1


def _fold(pick: Any, values: list[float | None]) -> float | None:
    """min or max of known values; None when any is unknown (e.g. no price)."""
    return None if not values or None in values else pick(v for v in values if v is not None)


def _step_metric(step: StepEstimate, metric: str) -> float | None:
    if metric == "cost":
        return step.cost_usd
    if metric == "latency":
        return step.latency_s
    if metric in ("calls", "prompt_tokens", "completion_tokens"):
        return float(getattr(step, metric))
    return float(step.calls * (step.prompt_tokens + step.completion_tokens))


def _total_metric(estimate: Estimate, metric: str) -> float | None:
    if metric == "calls":
        return float(sum(s.calls for s in estimate.steps))
    if metric in ("prompt_tokens", "completion_tokens"):
        return float(getattr(estimate, metric))
    return estimate.metric(metric)


def _exists(space: Space, fixed: Mapping[str, ConfigValue]) -> bool:
    """Is there a feasible configuration with these values? (Sound: unknown counts as yes.)"""
    vars = [
        Var(v.name, Choice((cast(SolverValue, fixed[v.name]),)), fixed[v.name])
        if v.name in fixed
        else v
        for v in space.vars
    ]
    return Space(vars, space.constraints, space.limits).analyze().satisfiable is not False


def _default_value(program: ProgramInfo, name: str) -> ConfigValue:
    value = program.variables[name].default
    return Sym(value.name) if isinstance(value, Ident) else value


def _hashable(value: object) -> object:
    return value if not isinstance(value, list | dict) else repr(value)


def _placeholder(t: Type) -> Any:
    """A value of type `t` of typical size, when no data says better."""
    if isinstance(t, OptionalT):
        return _placeholder(t.inner)
    if t == INT:
        return 42
    if t == FLOAT:
        return 3.14
    if t == BOOL:
        return True
    if isinstance(t, EnumT | LiteralsT):
        return t.values[0] if t.values else "value"
    if isinstance(t, ListT):
        return [_placeholder(t.elem) for _ in range(3)]
    if isinstance(t, MapT):
        return {"key": _placeholder(t.value)}
    if isinstance(t, ClassT):
        return {"field": "a short value"}
    return "a typical sentence of about fifteen words that stands in for the real text here"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, ensure_ascii=False)
