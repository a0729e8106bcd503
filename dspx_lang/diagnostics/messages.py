"""Every diagnostic message text, in one place (house style: lower case, no full stop,
names in single quotes, and where it helps, what to do next)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def _names(names: Iterable[str], limit: int = 8) -> str:
    items = [f"'{n}'" for n in names]
    if not items:
        return "none"
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


# ---------------------------------------------------------------- names (E1xx)


def undefined(what: str, name: str) -> str:
    return f"undefined {what} '{name}'" if what != "name" else f"undefined name '{name}'"


def wrong_kind(name: str, found: str, expected: str) -> str:
    return f"'{name}' is a {found}, but a {expected} is expected here"


def duplicate(name: str, kind: str) -> str:
    return f"duplicate definition of {kind} '{name}'"


def duplicate_imported(name: str, other: str) -> str:
    return f"'{name}' is defined here and in imported file '{other}'"


def duplicate_imports(name: str, first: str, second: str) -> str:
    return f"imports bring two definitions of '{name}' (from '{first}' and '{second}')"


def duplicate_literal(values: Sequence[str]) -> str:
    return "a union of string literals lists the same value twice"


def import_missing(path: str, error: BaseException) -> str:
    reason = getattr(error, "strerror", None) or str(error)
    return f"cannot import '{path}': {reason}"


def import_cycle(cycle: str) -> str:
    return f"import cycle: {cycle}; move the shared declarations into a file both can import"


def not_generic(name: str) -> str:
    return f"'{name}' takes no type arguments"


def generic_arity(name: str, expected: int, found: int) -> str:
    form = "list<T>" if name == "list" else "map<string, T>"
    plural = "s" if expected > 1 else ""
    return f"'{name}' takes {expected} type argument{plural} ({form}), got {found}"


def map_key() -> str:
    return "map keys must be string: write map<string, T>"


# ----------------------------------------------------------- steps (E2xx)


def argument_type(name: str, expected: str, found: str) -> str:
    return f"argument '{name}' expects {expected}, got {found}"


def type_mismatch(what: str, expected: str, found: str) -> str:
    return f"{what} expects {expected}, got {found}"


def expected_literal(what: str, expected: str) -> str:
    return f"{what} must be a literal of type {expected}"


def unbound(missing: Sequence[str], signature: str) -> str:
    plural = "inputs" if len(missing) > 1 else "input"
    return f"signature '{signature}' {plural} {_names(missing)} not bound by this step"


def no_such_input(signature: str, name: str) -> str:
    return f"signature '{signature}' has no input '{name}'"


def no_such_output(step: str, name: str) -> str:
    return f"step '{step}' has no output '{name}'"


def positional_not_name() -> str:
    return "a positional argument must be a name (x means x: x); write name: value"


def bound_twice(name: str) -> str:
    return f"input '{name}' is bound twice"


def setting_twice(key: str) -> str:
    return f"'{key}' is set twice"


def setting_type(key: str, expected: str) -> str:
    return f"'{key}' expects {expected}"


def setting_negative(key: str) -> str:
    return f"'{key}' must not be negative"


def setting_choice(key: str, choices: Sequence[str]) -> str:
    return f"'{key}' must be one of {', '.join(repr(c) for c in choices)}"


def model_id(model_id: str) -> str:
    return (
        f"model id '{model_id}' has no provider: write \"provider/model\", "
        'e.g. "openai/gpt-4o-mini"'
    )


def var_not_module(name: str, domain: str) -> str:
    return f"variable '{name}' ranges over {domain}, not over module kinds"


def var_setting_kind(name: str, key: str, domain: str) -> str:
    return f"variable '{name}' ({domain}) cannot be used for '{key}'"


def not_a_value(name: str, kind: str) -> str:
    hint = "; use step.field" if kind == "step" else ""
    return f"'{name}' is a {kind}; expected a program input, step.field or a literal{hint}"


def bad_binding() -> str:
    return "expected a program input, step.field or a literal"


def step_later(name: str) -> str:
    return f"step '{name}' is used before it is defined; move it above this step"


def step_cycle(current: str, other: str) -> str:
    if current == other:
        return f"step '{current}' reads its own output"
    return f"step cycle: '{current}' reads '{other}', which reads '{current}'"


def no_model() -> str:
    return 'this step has no model and the file declares none: add `model NAME = "provider/id"`'


def no_return(program: str) -> str:
    return f"program '{program}' declares outputs but has no return"


def return_twice() -> str:
    return "a program has one return"


def returned_twice(name: str) -> str:
    return f"output '{name}' is returned twice"


def return_type(name: str, expected: str, found: str) -> str:
    return f"output '{name}' is {expected}, but the returned value is {found}"


def not_returned(missing: Sequence[str]) -> str:
    return f"return does not produce {_names(missing)}"


def step_lacks_output(step: str, output: str) -> str:
    return f"step '{step}' has no output '{output}' for the program output of that name"


def check_args(name: str, expected: str) -> str:
    return f"@{name} takes {expected}"


def check_type(name: str, applies_to: str, found: str) -> str:
    return f"@{name} applies to {applies_to}, not to {found}"


def check_bounds(name: str, low: float, high: float) -> str:
    return f"@{name} bounds are reversed: {low} > {high}"


def bad_regex(error: BaseException) -> str:
    return f"invalid regular expression: {error}"


def reserved_output(name: str, module: str) -> str:
    return f"'{name}' is a reserved output name (the '{module}' module adds it); rename the field"


def no_outputs(name: str) -> str:
    return f"signature '{name}' has no outputs; add at least one `out` field"


def bad_target(target: str) -> str:
    return f"'{target}' is not a Python reference: write \"package.module:function\""


def mapping_value(field: str) -> str:
    return f"mapping for '{field}' must be a column name string"


# ------------------------------------------------------- variables (E3xx)


def default_outside(domain: str) -> str:
    return f"default is outside the domain {domain}"


def empty_choice() -> str:
    return "empty choice: list at least one member"


def mixed_choice() -> str:
    return (
        "choice members must be all literals of one type or all identifiers of one kind "
        "(module kinds, adapters, models, or values of one enum)"
    )


def duplicate_member(name: str) -> str:
    return f"choice lists {name if name == 'a value' else repr(name)} twice"


def bad_member() -> str:
    return "choice members must be literals or names"


def int_bounds() -> str:
    return "int range bounds must be integers"


def range_order(low: float, high: float) -> str:
    return f"empty range: lower bound {low} is above upper bound {high}"


def log_bounds() -> str:
    return "a log scale needs a positive lower bound"


def int_step() -> str:
    return "`step` applies to float ranges; an int range already has step 1"


def bad_step(step: float) -> str:
    return f"step {step} must be positive and no larger than the range"


def log_and_step() -> str:
    return "a range cannot have both `log` and `step`"


def not_boolean(found: str) -> str:
    return f"expected a boolean condition, found {found}"


def operand_type(op: str, expected: str, found: str) -> str:
    noun = {"bool": "booleans", "num": "numbers"}.get(expected, expected)
    return f"'{op}' needs {noun}, found {found}"


def incomparable(left: str, right: str) -> str:
    return f"cannot compare {left} with {right}"


def not_in_domain(value: str, members: Sequence[str]) -> str:
    return f"'{value}' is not in the domain [{', '.join(members)}]"


def division_by_zero() -> str:
    return "division by zero"


def unsupported_expression() -> str:
    return "this expression is not allowed here"


def no_functions(allowed: Sequence[str]) -> str:
    if not allowed:
        return "function calls are not allowed here"
    return f"unknown function; available: {', '.join(allowed)}"


def no_members(found: str) -> str:
    return f"{found} has no fields"


def call_arity(name: str, count: int) -> str:
    return f"{name}() takes {count} argument{'s' if count > 1 else ''}"


def call_type(name: str, found: str) -> str:
    return f"{name}() cannot take {found}"


# -------------------------------------------------- objectives, optimize (E4xx)


def weights(total: float) -> str:
    return f"objective weights sum to {total:g}, not 1; they are normalised"


def weight_positive() -> str:
    return "an objective weight must be positive"


def measured_args(metric: str) -> str:
    return f"'{metric}' is measured per call and takes no arguments"


def custom_metric_args() -> str:
    return 'metric takes one string: metric("package.module:function")'


def metric_args(metric: str) -> str:
    return f"{metric} takes one program output: {metric}(FIELD)"


def budget_type(metric: str, expected: str) -> str:
    return f"a {metric} budget takes {expected}"


def optimize_twice() -> str:
    return "a program has at most one optimize block"


def when_only_sampler() -> str:
    return "only `sampler` takes a `when` condition"


def grid_infinite(continuous: Sequence[str]) -> str:
    return (
        f"grid sampler over an infinite space (continuous: {_names(continuous)}); add "
        "`step S` to the range, guard it with `when space_size <= N`, or use tpe/random"
    )


# --------------------------------------------------- data and tests (E5xx)


def dataset_unreadable(detail: str) -> str:
    return f"dataset cannot be used: {detail}"


def no_trainset() -> str:
    return "optimize needs a trainset: add `trainset DATASET`"


def missing_column(dataset: str, column: str, field: str, columns: Sequence[str]) -> str:
    via = "" if column == field else f" (mapped from '{field}')"
    return (
        f"dataset '{dataset}' has no column '{column}'{via}; columns: {_names(columns)}; "
        f'map it with {{ {field}: "COLUMN" }}'
    )


def column_type(dataset: str, column: str, row: int, expected: str, found: str) -> str:
    return f"dataset '{dataset}' column '{column}' row {row}: expected {expected}, found {found}"


def mapping_unknown_field(field: str, program: str) -> str:
    return f"the dataset maps '{field}', which is not a field of program '{program}'"


def test_input_type(name: str, expected: str, found: str) -> str:
    return f"test input '{name}' expects a literal {expected}, got {found}"


def test_missing_inputs(missing: Sequence[str]) -> str:
    return f"test does not give program input{'s' if len(missing) > 1 else ''} {_names(missing)}"


# ------------------------------------------------ variable space (E303-W407)


def unsatisfiable(names: str) -> str:
    return f"no configuration satisfies every constraint: {names} conflict"


def default_violates(name: str, defaults: str) -> str:
    return f"the default configuration ({defaults}) violates {name}"


def dead_value(value: str, killers: str) -> str:
    return f"{value} can never be chosen: ruled out by {killers}"


def dead_by_capability(value: str) -> str:
    return f"{value} can never be chosen: it needs a capability its model lacks"


def redundant(name: str) -> str:
    return f"{name} always holds, so it rules nothing out"


def undefined_constraint(name: str, where: str) -> str:
    return f"{name} is undefined (division by zero or incomparable values) when {where}"


def not_checked(name: str) -> str:
    return f"{name} was not checked statically; it is still enforced when optimizing"


def unused_variable(name: str) -> str:
    return f"variable '{name}' is used by no step, so tuning it changes nothing"


def no_capable_configuration() -> str:
    return "every configuration allowed by the constraints needs a capability its model lacks"


def unreachable_budget(metric: str, limit: float, cheapest: float | None) -> str:
    shown = _amount(metric, limit)
    best = ""
    if cheapest is not None:
        best = f" (the cheapest is {_amount(metric, cheapest)})"
    return f"no feasible configuration's estimated {metric} is within {shown}{best}"


def _amount(metric: str, value: float) -> str:
    if metric == "cost":
        return "$" + (f"{value:.8f}".rstrip("0").rstrip(".") if value < 1 else f"{value:.2f}")
    if metric == "latency":
        return f"{value:.2f}s"
    return f"{value:.0f} tokens"


def context_window(step: str, model: str, needed: int, window: int) -> str:
    return (
        f"step '{step}' needs about {needed} tokens but model '{model}' has a "
        f"{window}-token context window"
    )


def no_function_calling(step: str, model: str) -> str:
    return f"step '{step}' uses react tools, but model '{model}' has no function calling"


def json_fallback(step: str, model: str) -> str:
    return (
        f"step '{step}' uses the json adapter, but model '{model}' has no structured "
        "output: the runtime falls back to JSON requested in the prompt"
    )


def unknown_price(name: str, model_id: str) -> str:
    return (
        f"no price known for model '{name}' ({model_id}): cost estimates and cost budgets "
        "are unavailable; declare input_cost and output_cost (USD per 1M tokens)"
    )


def forecast_over(cost: float, cap: float, fit: int) -> str:
    return (
        f"the optimization is forecast to cost ${cost:.2f}, over max_spend ${cap:.2f}; "
        f"about {fit} trial{'s' if fit != 1 else ''} fit"
    )
