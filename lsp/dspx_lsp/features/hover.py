"""Hover: what a name is - its declaration, type, doc and the facts the compiler knows.

Contract: `hover_markdown(here)` returns Markdown for the name (or settings
key, or model id string) under the offset, or None. It reads only the
compilation: fields show type, description, checks and `///` doc; models their
id, settings and litellm's facts (provider, prices, context window);
variables their domain, default and the dead values the space analysis found
(W305 diagnostics inside the declaration); steps their module, signature,
model and outputs; built-ins and settings keys their one-line documentation.
Steps and programs also show their cost/latency/token estimates when the
space analysis has made them (`estimates`).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang import modelfacts
from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.checks.variables import domain_str, value_str
from dspx_lang.semantics.imports import resolve_import
from dspx_lang.semantics.model import SemanticModel, Symbol, SymbolKind
from dspx_lang.source import Span
from dspx_lang.syntax import ast
from dspx_lsp import estimates
from dspx_lsp.convert import span_range
from dspx_lsp.guard import guarded
from dspx_lsp.query import (
    Here,
    at,
    field_info,
    node_path,
    program_of,
    step_info,
    step_model,
    step_outputs,
)

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer


def register(server: DspxServer) -> None:
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    @guarded(lambda: None)
    def on_hover(params: types.HoverParams) -> types.Hover | None:
        here = at(server, params.text_document.uri, params.position)
        found = hover_markdown(here)
        if found is None:
            return None
        text, span = found
        return types.Hover(
            contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
            range=span_range(here.source, span) if span else None,
        )


def hover_markdown(here: Here) -> tuple[str, Span | None] | None:
    """Markdown for what is under the cursor, and the span it describes."""
    model = here.model
    occurrence = model.occurrence_at(here.path, here.offset)
    if occurrence is not None and occurrence[0] is not None:
        symbol = occurrence[0]
        span: Span | None = occurrence[1].span if occurrence[1] is not None else symbol.span
        if occurrence[1] is None and symbol.file != here.path:
            span = None
        return describe(model, symbol, here), span
    return _syntax_hover(here)


def describe(model: SemanticModel, symbol: Symbol, here: Here | None = None) -> str:
    parts = [_header(model, symbol)]
    if symbol.doc:
        parts.append(symbol.doc)
    parts.extend(_details(model, symbol, here))
    return "\n\n".join(p for p in parts if p)


def _code(text: str) -> str:
    return f"```dspx\n{text}\n```"


def _header(model: SemanticModel, symbol: Symbol) -> str:
    kind = symbol.kind
    if kind is SymbolKind.BUILTIN:
        return f"**{symbol.name}** (built-in)"
    if kind is SymbolKind.MODEL and symbol.name in model.models:
        return _code(f'model {symbol.name} = "{model.models[symbol.name].model_id}"')
    if kind in (SymbolKind.FIELD, SymbolKind.INPUT, SymbolKind.OUTPUT):
        header = _field_header(model, symbol)
        if header:
            return header
    if kind is SymbolKind.VARIABLE:
        program = program_of(model, symbol)
        var = program.variables.get(symbol.name) if program else None
        if var is not None:
            return _code(f"var {var.name}: {domain_str(var.domain)} = {value_str(var.default)}")
        return _code(f"var {symbol.name}: {symbol.detail}")
    if kind is SymbolKind.STEP and symbol.detail:
        return _code(f"step {symbol.name} = {symbol.detail}(…)")
    if kind is SymbolKind.ENUM_VALUE and symbol.container is not None:
        text = f"{symbol.container.name}.{symbol.name}"
        return _code(text + (f' "{symbol.detail}"' if symbol.detail else ""))
    if kind is SymbolKind.PARAM and symbol.type is not None:
        owner = f" of tool `{symbol.container.name}`" if symbol.container else ""
        return _code(f"{symbol.name}: {symbol.type}") + f"\n\nparameter{owner}"
    text = f"{kind.value} {symbol.qualified}"
    if symbol.type is not None:
        text += f": {symbol.type}"
    return _code(text)


def _field_header(model: SemanticModel, symbol: Symbol) -> str | None:
    field = field_info(model, symbol)
    owner = symbol.container
    if field is None or owner is None:
        return None
    direction = {SymbolKind.INPUT: "in ", SymbolKind.OUTPUT: "out "}.get(symbol.kind, "")
    if owner.kind is SymbolKind.SIGNATURE and owner.name in model.signatures:
        direction = "in " if symbol.name in model.signatures[owner.name].inputs else "out "
    line = f"{direction}{field.name}: {field.type}"
    if field.description:
        line += f' "{field.description}"'
    line += "".join(f" @{c.kind}({', '.join(map(str, c.args))})" for c in field.checks)
    return _code(line) + f"\n\nfield of `{owner.name}`"


def _details(model: SemanticModel, symbol: Symbol, here: Here | None) -> list[str]:
    kind = symbol.kind
    if kind is SymbolKind.MODEL and symbol.name in model.models:
        return _model_details(model, symbol.name)
    if kind is SymbolKind.ENUM and symbol.name in model.enums:
        enum = model.enums[symbol.name]
        return [
            "\n".join(
                f"- `{name}`"
                + (f": {enum.descriptions[name]}" if name in enum.descriptions else "")
                for name in enum.values
            )
        ]
    if kind is SymbolKind.CLASS and symbol.name in model.classes:
        fields = model.classes[symbol.name].fields.values()
        return ["\n".join(f"- `{f.name}: {f.type}`" for f in fields)]
    if kind is SymbolKind.SIGNATURE and symbol.name in model.signatures:
        sig = model.signatures[symbol.name]
        lines = [f"- in `{f.name}: {f.type}`" for f in sig.inputs.values()]
        lines += [f"- out `{f.name}: {f.type}`" for f in sig.outputs.values()]
        return [f"*{sig.instructions}*" if sig.instructions else "", "\n".join(lines)]
    if kind is SymbolKind.TOOL and symbol.name in model.tools:
        tool = model.tools[symbol.name]
        params = ", ".join(f"{p.name}: {p.type}" for p in tool.params)
        return [_code(f'tool {tool.name}({params}) -> {tool.returns} = "{tool.target}"')]
    if kind is SymbolKind.DATASET and symbol.name in model.datasets:
        dataset = model.datasets[symbol.name]
        mapping = ", ".join(f"`{k}` ← `{v}`" for k, v in dataset.mapping.items())
        return [f"file `{dataset.path}`" + (f"; columns {mapping}" if mapping else "")]
    if kind is SymbolKind.PROGRAM:
        return _program_details(model, symbol, here)
    if kind is SymbolKind.VARIABLE:
        return _dead_values(model, symbol, here)
    if kind is SymbolKind.STEP:
        return _step_details(model, symbol, here)
    if kind is SymbolKind.TEST and symbol.name in model.tests:
        return [f"test of program `{model.tests[symbol.name].program}`"]
    return []


def _setting_text(key: str, value: object) -> str:
    """A model setting as a person reads it: units on durations, prices and speeds."""
    spec = B.MODEL_SETTINGS.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if spec is not None and spec.kind == "duration":
            return f"{value:g}s"
        if key in ("input_cost", "output_cost"):
            return f"${value:g} per 1M tokens"
        if key == "tokens_per_second":
            return f"{value:g} tokens/s"
    return str(value)


def _model_details(model: SemanticModel, name: str) -> list[str]:
    info = model.models[name]
    lines = [f"- `{key}`: {_setting_text(key, value)}" for key, value in info.settings.items()]
    facts = modelfacts.lookup(info.model_id)
    if facts is None:
        lines.append(
            "- not in litellm's price map: declare `input_cost`/`output_cost` for estimates"
        )
    else:
        lines.append(f"- provider: {facts.provider}")
        if facts.input_cost is not None and "input_cost" not in info.settings:
            lines.append(f"- input: ${facts.input_cost:g} per 1M tokens")
        if facts.output_cost is not None and "output_cost" not in info.settings:
            lines.append(f"- output: ${facts.output_cost:g} per 1M tokens")
        if facts.max_input_tokens:
            lines.append(f"- context window: {facts.max_input_tokens:,} tokens")
        if facts.max_output_tokens:
            lines.append(f"- max output: {facts.max_output_tokens:,} tokens")
        abilities = [
            label
            for label, ok in (
                ("function calling", facts.supports_function_calling),
                ("structured output", facts.supports_response_schema),
            )
            if ok
        ]
        if abilities:
            lines.append("- supports " + " and ".join(abilities))
    return ["\n".join(lines)]


def _program_details(model: SemanticModel, symbol: Symbol, here: Here | None) -> list[str]:
    program = program_of(model, symbol)
    if program is None:
        return []
    lines = [f"- in `{f.name}: {f.type}`" for f in program.inputs.values()]
    lines += [f"- out `{f.name}: {f.type}`" for f in program.outputs.values()]
    lines.append(
        f"- {len(program.steps)} step(s), {len(program.variables)} variable(s), "
        f"{len(program.constraints)} constraint(s)"
    )
    parts = ["\n".join(lines)]
    if here is not None:
        parts.extend(estimates.describe_program(here.reports, program))
    return parts


def _step_details(model: SemanticModel, symbol: Symbol, here: Here | None) -> list[str]:
    step = step_info(model, symbol)
    program = program_of(model, symbol)
    if step is None or program is None:
        return []
    module = step.module
    if step.module_is_var and step.module in program.variables:
        var = program.variables[step.module]
        module = f"{step.module} ∈ {domain_str(var.domain)}"
    lines = [f"- module: `{module}`", f"- signature: `{step.signature.name}`"]
    model_name = step_model(program, step)
    if model_name:
        lines.append(f"- model: `{model_name}`")
    for key, setting in step.settings.items():
        if key != "model":
            shown = setting.var if setting.var else value_str(setting.literal)
            lines.append(f"- {key}: `{shown}`")
    outputs = ", ".join(f"`{name}: {t}`" for name, t in step_outputs(program, step).items())
    lines.append(f"- outputs: {outputs}")
    parts = ["\n".join(lines)]
    if here is not None:
        parts.extend(estimates.describe_step(here.reports, program, step))
    return parts


def _dead_values(model: SemanticModel, symbol: Symbol, here: Here | None) -> list[str]:
    if here is None:
        return []
    dead = [
        d.message
        for d in here.diagnostics
        if d.code == "W305"
        and d.file == symbol.file
        and symbol.decl_span.start <= d.span.start <= symbol.decl_span.end
    ]
    return ["**Never chosen:** " + "; ".join(dead)] if dead else []


# ------------------------------------------------- keys and strings (no symbol)

_SETTINGS_OF: dict[type[ast.Node], dict[str, B.SettingSpec]] = {
    ast.ModelDecl: B.MODEL_SETTINGS,
    ast.StepDecl: B.STEP_SETTINGS,
}


def _syntax_hover(here: Here) -> tuple[str, Span | None] | None:
    path = node_path(here.module, here.offset)
    for parent, node in itertools.pairwise(path):
        if isinstance(node, ast.Setting) and node.key.span.contains(here.offset):
            table = _SETTINGS_OF.get(type(parent))
            spec = table.get(node.key.text) if table else None
            if spec is not None:
                return f"**{node.key.text}** ({spec.kind})\n\n{spec.doc}", node.key.span
        if isinstance(node, ast.OptimizeItem) and node.key.span.contains(here.offset):
            spec = B.OPTIMIZE_KEYS.get(node.key.text)
            if spec is not None:
                return f"**{node.key.text}**\n\n{spec.doc}", node.key.span
        if isinstance(parent, ast.Import) and node is parent.path:
            return _import_hover(here, parent), node.span
        if (
            isinstance(parent, ast.ModelDecl)
            and node is parent.model_id
            and parent.name.text in here.model.models
        ):
            symbol = here.model.models[parent.name.text].symbol
            return describe(here.model, symbol, here), node.span
    return None


def _import_hover(here: Here, node: ast.Import) -> str:
    target = resolve_import(here.path, node.path.value)
    unit = here.model.files.get(target)
    if unit is None:
        return f"`{target}` (not loaded)"
    names = [d.name.text for d in unit.module.decls if isinstance(d, ast.Decl)]
    shown = ", ".join(f"`{n}`" for n in names[:12]) + (" …" if len(names) > 12 else "")
    return f"`{target}`\n\ndeclares {shown or 'nothing'}"
