"""From the IR to what one LM call needs: resolved step settings and the `PromptSpec`.

Contract:
- Pure functions over `dspx_lang.ir.schema` objects and `dspx_lang.prompts`; no compiler
  imports, so the runtime (real calls) and the estimator (token counts) share them and
  render identical prompts for the same configuration.
- `step_settings(program, step, config)` resolves every setting of a step for a complete
  configuration (variable name -> value): a setting that names a variable takes its value,
  an unset one its default (module from the step, model `program.default_model`, adapter
  `chat`, `max_iters` 3, `demos` 0, instructions the signature's own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from dspx_lang.ir import schema as ir
from dspx_lang.prompts import Adapter, FieldSpec, Module, PromptSpec, ToolSpec

__all__ = [
    "DEFAULT_MAX_ITERS",
    "StepSettings",
    "field_spec",
    "json_schema",
    "prompt_spec",
    "step_settings",
    "tool_spec",
]

DEFAULT_MAX_ITERS = 3


@dataclass(frozen=True, slots=True)
class StepSettings:
    """A step's settings under one configuration. `temperature`/`max_tokens` None: the
    model's own defaults apply."""

    module: Module
    model: str
    adapter: Adapter
    temperature: float | None
    max_tokens: int | None
    demos: int
    instructions: str
    max_iters: int
    tools: tuple[str, ...]


def step_settings(
    package: ir.Package, program: ir.ProgramDecl, step: ir.StepDecl, config: Mapping[str, Any]
) -> StepSettings:
    def value(key: str) -> Any:
        setting = step.settings.get(key)
        if setting is None:
            return None
        return config[setting.var] if setting.var is not None else setting.value

    module = config[step.module] if step.module_var else step.module
    model = value("model") or program.default_model
    if model is None:
        raise ValueError(f"step '{step.name}' has no model and the program has no default")
    temperature = value("temperature")
    max_tokens = value("max_tokens")
    demos = value("demos")
    max_iters = value("max_iters")
    instructions = value("instructions")
    return StepSettings(
        module=cast(Module, module),
        model=str(model),
        adapter=cast(Adapter, value("adapter") or "chat"),
        temperature=float(temperature) if temperature is not None else None,
        max_tokens=int(max_tokens) if max_tokens is not None else None,
        demos=int(demos) if demos is not None else 0,
        instructions=str(instructions)
        if instructions is not None
        else package.signatures[step.signature].instructions,
        max_iters=int(max_iters) if max_iters is not None else DEFAULT_MAX_ITERS,
        tools=tuple(value("tools") or ()),
    )


def prompt_spec(package: ir.Package, step: ir.StepDecl, settings: StepSettings) -> PromptSpec:
    signature = package.signatures[step.signature]
    return PromptSpec(
        instructions=settings.instructions,
        inputs=tuple(field_spec(package, f) for f in signature.inputs),
        outputs=tuple(field_spec(package, f) for f in signature.outputs),
        module=settings.module,
        adapter=settings.adapter,
        tools=tuple(tool_spec(package, package.tools[t]) for t in settings.tools)
        if settings.module == "react"
        else (),
    )


def field_spec(package: ir.Package, decl: ir.FieldDecl) -> FieldSpec:
    base = decl.type.inner if decl.type.kind == "optional" and decl.type.inner else decl.type
    choices: tuple[str, ...] = ()
    described: tuple[str, ...] = ()
    if base.kind == "literals":
        choices = base.values
    elif base.kind == "enum" and base.name is not None:
        enum = package.types[base.name]
        assert isinstance(enum, ir.EnumDecl)
        choices = tuple(v.name for v in enum.values)
        described = tuple(v.description or "" for v in enum.values)
    return FieldSpec(
        name=decl.name,
        type=ir.type_text(decl.type),
        description=decl.description,
        choices=choices,
        choice_descriptions=described if any(described) else (),
        json_schema=json_schema(package, decl.type, decl.checks),
        hints=tuple(h for h in (_hint(c, base) for c in decl.checks) if h),
    )


def tool_spec(package: ir.Package, tool: ir.ToolDecl) -> ToolSpec:
    properties = {p.name: json_schema(package, p.type) for p in tool.params}
    return ToolSpec(
        name=tool.name,
        description=tool.doc or f"the Python function {tool.target}",
        parameters_schema={
            "type": "object",
            "properties": properties,
            "required": [p.name for p in tool.params if not p.has_default],
        },
    )


def json_schema(
    package: ir.Package, t: ir.TypeRef, checks: tuple[ir.Check, ...] = ()
) -> dict[str, Any]:
    """The JSON schema of a value of type `t` (classes inlined; a recursive class, where it
    recurs, is `{"type": "object"}`)."""
    return _schema(package, t, checks, ())


def _schema(
    package: ir.Package, t: ir.TypeRef, checks: tuple[ir.Check, ...], seen: tuple[str, ...]
) -> dict[str, Any]:
    if t.kind == "optional" and t.inner is not None:
        return {"anyOf": [_schema(package, t.inner, checks, seen), {"type": "null"}]}
    schema: dict[str, Any]
    if t.kind in _SCALARS:
        schema = {"type": _SCALARS[t.kind]}
    elif t.kind == "list" and t.elem is not None:
        schema = {"type": "array", "items": _schema(package, t.elem, (), seen)}
    elif t.kind == "map" and t.value is not None:
        schema = {"type": "object", "additionalProperties": _schema(package, t.value, (), seen)}
    elif t.kind == "literals":
        schema = {"type": "string", "enum": list(t.values)}
    elif t.kind == "enum" and t.name is not None:
        decl = package.types[t.name]
        assert isinstance(decl, ir.EnumDecl)
        schema = {"type": "string", "enum": [v.name for v in decl.values]}
    elif t.kind == "class" and t.name is not None and t.name not in seen:
        cls = package.types[t.name]
        assert isinstance(cls, ir.ClassDecl)
        properties = {}
        for f in cls.fields:
            prop = _schema(package, f.type, f.checks, (*seen, t.name))
            if f.description:
                prop["description"] = f.description
            properties[f.name] = prop
        schema = {
            "type": "object",
            "properties": properties,
            "required": [f.name for f in cls.fields if f.type.kind != "optional"],
            "additionalProperties": False,
        }
    else:
        schema = {"type": "object"}
    for check in checks:
        schema.update(_schema_check(check, schema.get("type")))
    return schema


_SCALARS = {"string": "string", "int": "integer", "float": "number", "bool": "boolean"}


def _schema_check(check: ir.Check, kind: object) -> dict[str, Any]:
    if check.kind == "range":
        return {"minimum": check.args[0], "maximum": check.args[1]}
    if check.kind == "len":
        if kind == "array":
            return {"minItems": check.args[0], "maxItems": check.args[1]}
        return {"minLength": check.args[0], "maxLength": check.args[1]}
    if check.kind == "pattern":
        return {"pattern": check.args[0]}
    return {}


def _hint(check: ir.Check, base: ir.TypeRef) -> str | None:
    if check.kind == "range":
        return f"between {_num(check.args[0])} and {_num(check.args[1])}"
    if check.kind == "len":
        unit = "items" if base.kind == "list" else "characters"
        return f"{_num(check.args[0])} to {_num(check.args[1])} {unit}"
    if check.kind == "pattern":
        return f"matching the regular expression {check.args[0]}"
    return None


def _num(value: float | int | str) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)
