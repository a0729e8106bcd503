"""Names the language knows without declarations, and the tables of settings.

Contract: everything the checker, completion and hover need to know about
built-in names lives here (one place), each with a one-line description.
"""

from __future__ import annotations

from dataclasses import dataclass

MODULES: dict[str, str] = {
    "predict": "one LM call: the adapter formats signature, demos and inputs; outputs are parsed",
    "cot": "chain of thought: adds an output `reasoning: string` before the others",
    "pot": "program of thought: the LM writes Python that computes the outputs, run sandboxed",
    "react": "reason-act loop over the step's `tools`, at most `max_iters` turns",
}
ADAPTERS: dict[str, str] = {
    "chat": "field-delimited sections",
    "json": "a JSON object; the provider's structured output when it has one",
    "markdown": "`## field` sections",
}
SAMPLERS: dict[str, str] = {
    "grid": "every feasible configuration in turn (finite spaces only)",
    "random": "uniformly random feasible configurations",
    "tpe": "optuna's Tree-structured Parzen Estimator",
    "nsga2": "optuna's NSGA-II, a multi-objective genetic algorithm",
    "cmaes": "optuna's CMA-ES for continuous variables",
}
FIELD_METRICS: dict[str, str] = {
    "exact_match": "1 when the output equals the gold value (case and surrounding space ignored)",
    "f1": "token-level F1 between the output and the gold value",
    "contains": "1 when the output contains the gold value",
    "numeric_match": "1 when the last number in the output equals the last number in the gold",
}
MEASURED: dict[str, str] = {
    "cost": "measured USD per call",
    "latency": "measured seconds per call",
    "tokens": "measured tokens per call",
}
CUSTOM_METRIC = "metric"
SPACE_FACTS: dict[str, str] = {
    "space_size": "number of feasible configurations (infinite when a domain is continuous)",
    "variable_count": "number of variables",
    "continuous_count": "number of continuous (non-stepped float) variables",
}
CHECKS: dict[str, str] = {
    "range": "@range(lo, hi): numbers between lo and hi inclusive",
    "len": "@len(lo, hi): strings or lists whose length is between lo and hi",
    "pattern": '@pattern("regex"): strings that match the regular expression',
    "tokens": "@tokens(n): a size hint (tokens) for the cost estimator",
}
TEST_FUNCTIONS: dict[str, str] = {
    "contains": "contains(text, part): part occurs in text (lists: part is an element)",
    "len": "len(x): length of a string or list",
    "lower": "lower(text): text in lower case",
}
RESERVED_OUTPUTS = {"reasoning": "cot", "code": "pot"}
TYPE_NAMES = ("string", "int", "float", "bool", "list", "map")


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """A setting key, the kind of value it takes, and what it means."""

    kind: str  # string | number | int | duration | name (resolved per key)
    doc: str


MODEL_SETTINGS: dict[str, SettingSpec] = {
    "api_base": SettingSpec("string", "base URL of an OpenAI-compatible endpoint"),
    "api_key_env": SettingSpec("string", "name of the environment variable holding the API key"),
    "input_cost": SettingSpec("number", "USD per million input tokens (overrides the price table)"),
    "output_cost": SettingSpec("number", "USD per million output tokens"),
    "tokens_per_second": SettingSpec("number", "decode speed, for latency estimates"),
    "first_token_latency": SettingSpec("duration", "time to the first token, for estimates"),
    "max_tokens": SettingSpec("int", "completion token limit sent with every call"),
    "temperature": SettingSpec("number", "default sampling temperature"),
    "context_window": SettingSpec("int", "prompt + completion token limit of the model"),
    "timeout": SettingSpec("duration", "per-request timeout"),
    "retries": SettingSpec("int", "retries on rate limits, 5xx and timeouts"),
    "concurrency": SettingSpec("int", "at most this many requests in flight to this model"),
    "transport": SettingSpec(
        "string",
        '"native" (OpenAI-compatible HTTP) or "litellm"; default: native when '
        "the endpoint is OpenAI-compatible",
    ),
}
STEP_SETTINGS: dict[str, SettingSpec] = {
    "model": SettingSpec("name", "the model: a model name or a variable over models"),
    "temperature": SettingSpec("number", "sampling temperature, or a numeric variable"),
    "max_tokens": SettingSpec("int", "completion token limit, or an int variable"),
    "demos": SettingSpec("int", "number of demonstrations, or an int variable"),
    "adapter": SettingSpec("name", "chat, json or markdown, or a variable over adapters"),
    "instructions": SettingSpec("name", "instruction text, or an instructions(SIGNATURE) variable"),
    "max_iters": SettingSpec("int", "attempts for pot, turns for react"),
    "tools": SettingSpec("name", "the tools react may call: a list of tool names"),
}
OPTIMIZE_KEYS: dict[str, SettingSpec] = {
    "trainset": SettingSpec("name", "dataset for demos and instruction proposals"),
    "devset": SettingSpec("name", "dataset the trials are scored on (else split of trainset)"),
    "split": SettingSpec("number", "fraction of the trainset used for training when no devset"),
    "sampler": SettingSpec("name", "grid random tpe nsga2 cmaes, optionally `when CONDITION`"),
    "trials": SettingSpec("int", "number of configurations to evaluate"),
    "max_spend": SettingSpec("money", "hard cap on the whole run's spend, across workers"),
    "concurrency": SettingSpec("int", "trials evaluated at once"),
    "seed": SettingSpec("int", "seed for samplers and splits"),
}
