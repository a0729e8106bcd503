"""Step plans: everything one step needs to run under one configuration, computed once.

Contract:
- `model_spec(decl, overrides)` builds the `ModelSpec` of a declared model. Its endpoint can
  be pointed elsewhere without editing the file: `DSPX_API_BASE_<NAME>` (the model name in
  upper case, other characters as `_`; e.g. `DSPX_API_BASE_MINI`) and
  `DSPX_MODEL_ID_<NAME>` are read when a program first builds its plans, and explicit
  overrides (`Program.with_model`) win over both.
- `build_plan` resolves settings (`dspx_lang.ir.specs.step_settings`), the prompt spec, the
  coercers of every field the LM writes, the demos to show (the first `demos` of those
  attached), the tools (react only) and the native capabilities from the model map:
  structured output for the `json` adapter, function calling for `react`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dspx_lang.ir import schema as ir
from dspx_lang.ir.specs import StepSettings, prompt_spec, step_settings
from dspx_lang.modelfacts import lookup
from dspx_lang.prompts import Demo, PromptSpec, lm_outputs, output_schema, tool_schemas
from dspx_lang.runtime.coerce import Coercer, coercer_for
from dspx_lang.runtime.errors import DspxConfigError
from dspx_lang.runtime.lm import ModelSpec
from dspx_lang.runtime.parsing import OutputField
from dspx_lang.runtime.tools import ResolvedTool, resolve_tool

__all__ = ["MODEL_OVERRIDES", "StepPlan", "build_plan", "env_name", "model_spec"]

_STRING = ir.TypeRef(kind="string")
MODEL_OVERRIDES = frozenset(f.name for f in dataclasses.fields(ModelSpec)) - {"name"}
_ENV_CHARS = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True, slots=True)
class StepPlan:
    step: ir.StepDecl
    settings: StepSettings
    spec: PromptSpec
    model: ModelSpec
    lm_fields: tuple[OutputField, ...]
    output_fields: tuple[OutputField, ...]
    demos: tuple[Demo, ...]
    tools: Mapping[str, ResolvedTool]
    native_structured: bool
    native_tools: bool
    response_format: Mapping[str, Any] | None
    tool_schemas: tuple[Mapping[str, Any], ...]


def env_name(model: str) -> str:
    return _ENV_CHARS.sub("_", model).upper()


def model_spec(decl: ir.ModelDecl, overrides: Mapping[str, Any]) -> ModelSpec:
    fields: dict[str, Any] = {
        "name": decl.name,
        "model_id": os.environ.get(f"DSPX_MODEL_ID_{env_name(decl.name)}") or decl.model_id,
        "api_base": os.environ.get(f"DSPX_API_BASE_{env_name(decl.name)}") or decl.api_base,
        "api_key_env": decl.api_key_env,
        "input_cost": decl.input_cost,
        "output_cost": decl.output_cost,
        "max_tokens": decl.max_tokens,
        "temperature": decl.temperature,
        "transport": decl.transport,
    }
    for key, value in (
        ("timeout_s", decl.timeout_s),
        ("retries", decl.retries),
        ("concurrency", decl.concurrency),
    ):
        if value is not None:
            fields[key] = value
    unknown = sorted(set(overrides) - MODEL_OVERRIDES)
    if unknown:
        raise DspxConfigError(
            f"model '{decl.name}': unknown override(s) {', '.join(unknown)}; "
            f"use {', '.join(sorted(MODEL_OVERRIDES))}"
        )
    fields.update(overrides)
    return ModelSpec(**fields)


def build_plan(
    package: ir.Package,
    program: ir.ProgramDecl,
    step: ir.StepDecl,
    config: Mapping[str, Any],
    *,
    models: Mapping[str, ModelSpec],
    demos: Sequence[Demo],
    instructions: str | None,
    tools: Mapping[str, ResolvedTool],
) -> StepPlan:
    settings = step_settings(package, program, step, config)
    if instructions is not None:
        settings = dataclasses.replace(settings, instructions=instructions)
    spec = prompt_spec(package, step, settings)
    model = models[settings.model]
    facts = lookup(model.model_id)
    native_structured = (
        settings.adapter == "json" and facts is not None and facts.supports_response_schema
    )
    native_tools = (
        settings.module == "react" and facts is not None and facts.supports_function_calling
    )
    signature = package.signatures[step.signature]
    coercers: dict[str, Coercer] = {
        f.name: coercer_for(package, f.type, f.checks) for f in signature.outputs
    }
    text = coercer_for(package, _STRING)
    coercers.setdefault("reasoning", text)
    coercers.setdefault("code", text)
    lm_fields = tuple((f.name, coercers[f.name]) for f in lm_outputs(spec))
    step_tools = {name: tools[name] for name in settings.tools} if spec.tools else {}
    return StepPlan(
        step=step,
        settings=settings,
        spec=spec,
        model=model,
        lm_fields=lm_fields,
        output_fields=tuple((f.name, coercers[f.name]) for f in signature.outputs),
        demos=tuple(demos[: settings.demos]),
        tools=step_tools,
        native_structured=native_structured,
        native_tools=native_tools,
        response_format=output_schema(lm_outputs(spec)) if native_structured else None,
        tool_schemas=tuple(tool_schemas(spec.tools)) if native_tools else (),
    )


def resolve_tools(package: ir.Package, names: Sequence[str]) -> dict[str, ResolvedTool]:
    return {name: resolve_tool(package, package.tools[name]) for name in names}
