"""Completion: keywords the grammar accepts here, and the names that fit the place.

Contract: `completions(here)` reads the current text up to the cursor with
the parser (`dspx_lang.syntax.complete`) and the compilation of that text:
  * keywords: exactly the ones the LALR parser accepts at the cursor;
  * after `NAME.`: the outputs of that step (with `reasoning`/`code` where its
    module adds them) or the values of that enum;
  * names of the kind the place needs (`trail.classify`): module kinds,
    signatures, models, tools, datasets, programs, types, variables,
    inputs/outputs, settings keys not yet written and their values, metrics,
    samplers, the members of a variable's domain after `var ==` / `var in [`;
  * inside `model x = "...`: model ids from litellm's price map (at most
    `MAX_MODEL_IDS`, filtered by what is typed; the list is then incomplete);
  * inside `import "...`: the workspace's other `.dspx` files, relative paths.
Each item replaces the identifier typed so far (or the string's content).
Nothing is offered inside comments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang import modelfacts
from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.checks.variables import value_str
from dspx_lang.semantics.model import (
    BoolDom,
    ChoiceDom,
    Dom,
    FloatDom,
    IntDom,
    ProgramInfo,
    Symbol,
    SymbolKind,
)
from dspx_lang.syntax.complete import Expected, expected_at
from dspx_lsp.convert import position
from dspx_lsp.features.trail import Place, classify, enclosing_program
from dspx_lsp.guard import guarded
from dspx_lsp.query import Here, at, step_outputs, symbols_in_scope

if TYPE_CHECKING:
    from dspx_lsp.documents import Documents
    from dspx_lsp.server import DspxServer

CK = types.CompletionItemKind
MAX_MODEL_IDS = 200
_MEMBER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)?$")
_KIND: dict[SymbolKind, types.CompletionItemKind] = {
    SymbolKind.MODEL: CK.Constant,
    SymbolKind.ENUM: CK.Enum,
    SymbolKind.ENUM_VALUE: CK.EnumMember,
    SymbolKind.CLASS: CK.Class,
    SymbolKind.FIELD: CK.Field,
    SymbolKind.SIGNATURE: CK.Interface,
    SymbolKind.TOOL: CK.Function,
    SymbolKind.PARAM: CK.Variable,
    SymbolKind.DATASET: CK.File,
    SymbolKind.PROGRAM: CK.Module,
    SymbolKind.INPUT: CK.Variable,
    SymbolKind.OUTPUT: CK.Field,
    SymbolKind.VARIABLE: CK.Variable,
    SymbolKind.STEP: CK.Method,
    SymbolKind.TEST: CK.Event,
    SymbolKind.BUILTIN: CK.Value,
}


@dataclass(frozen=True, slots=True)
class Item:
    label: str
    kind: types.CompletionItemKind
    detail: str = ""
    doc: str = ""
    insert: str | None = None  # text to insert when it differs from the label


@dataclass(frozen=True, slots=True)
class Completions:
    items: list[Item]
    start: int  # the replaced text runs from here to `end`
    end: int
    incomplete: bool = False


def register(server: DspxServer) -> None:
    documents = server.documents

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[".", '"', ":", "/"]),
    )
    @guarded(lambda: None)
    def on_completion(params: types.CompletionParams) -> types.CompletionList | None:
        here = at(server, params.text_document.uri, params.position)
        found = completions(here, documents)
        rng = types.Range(
            start=position(here.source, found.start), end=position(here.source, found.end)
        )
        return types.CompletionList(
            is_incomplete=found.incomplete,
            items=[_lsp_item(item, rng, index) for index, item in enumerate(found.items)],
        )


def _lsp_item(item: Item, rng: types.Range, index: int) -> types.CompletionItem:
    return types.CompletionItem(
        label=item.label,
        kind=item.kind,
        detail=item.detail or None,
        documentation=types.MarkupContent(kind=types.MarkupKind.Markdown, value=item.doc)
        if item.doc
        else None,
        text_edit=types.TextEdit(range=rng, new_text=item.insert or item.label),
        sort_text=f"{index:05d}",
    )


def completions(here: Here, documents: Documents | None = None) -> Completions:
    text = here.source.text
    expected = expected_at(text, here.offset)
    if expected.in_comment:
        return Completions([], here.offset, here.offset)
    if expected.in_string:
        return _string_completions(here, expected, documents)
    member = _MEMBER.search(text, max(0, here.offset - 200), here.offset)
    if member is not None and member.end() == here.offset:
        items = list(_members(here, expected, member.group(1)))
        if items:
            return Completions(
                items, member.start(2) if member.group(2) else here.offset, here.offset
            )
    place = classify(expected)
    items = list(_names(here, place))
    seen = {i.label for i in items}
    items += [Item(k, CK.Keyword) for k in sorted(expected.keywords) if k not in seen]
    return Completions(items, expected.prefix_start, here.offset)


# ------------------------------------------------------------------ strings


def _string_completions(here: Here, expected: Expected, documents: Documents | None) -> Completions:
    start = expected.prefix_start + 1  # after the opening quote
    end = here.offset
    typed = here.source.text[start:end]
    place = classify(expected)
    line_end = here.source.text.find("\n", end)
    closing = here.source.text.find('"', end, None if line_end == -1 else line_end)
    if closing != -1:
        end = closing
    if place.what == "model_id":
        wanted = typed.lower()
        ids = sorted(
            (i for i in modelfacts.known_model_ids() if wanted in i.lower()),
            key=lambda i: (not i.lower().partition("/")[2].startswith(wanted), len(i), i),
        )
        items = [Item(i, CK.Value, "litellm model id") for i in ids[:MAX_MODEL_IDS]]
        return Completions(items, start, end, incomplete=len(ids) > MAX_MODEL_IDS)
    if place.what == "import" and documents is not None:
        base = os.path.dirname(here.path)
        paths = [
            os.path.relpath(p, base).replace(os.sep, "/")
            for p in documents.workspace_files()
            if p != here.path
        ]
        return Completions([Item(p, CK.File) for p in paths], start, end)
    return Completions([], here.offset, here.offset)


# ------------------------------------------------------------- NAME.member


def _members(here: Here, expected: Expected, target: str) -> Iterator[Item]:
    model = here.model
    program = model.programs.get(enclosing_program(expected.trail) or "")
    if program is not None and target in program.steps:
        step = program.steps[target]
        for name, kind in step_outputs(program, step).items():
            field = step.signature.outputs.get(name)
            yield Item(name, CK.Field, kind, field.description or "" if field else "")
        return
    scope = model.files[here.path].scope if here.path in model.files else {}
    enum_symbol = scope.get(target)
    if enum_symbol is not None and enum_symbol.kind is SymbolKind.ENUM and target in model.enums:
        enum = model.enums[target]
        for name in enum.values:
            yield Item(name, CK.EnumMember, f"{target}.{name}", enum.descriptions.get(name, ""))


# -------------------------------------------------------------------- names


def _names(here: Here, place: Place) -> Iterator[Item]:
    model = here.model
    program = model.programs.get(place.program or "") if place.program else None
    what = place.what
    if what == "module":
        yield from _table(B.MODULES, CK.Function, "module")
        if program:
            yield from _vars(program, lambda d: isinstance(d, ChoiceDom) and d.kind == "module")
    elif what == "signature":
        yield from _scoped(here, SymbolKind.SIGNATURE)
    elif what == "argument" and program:
        yield from _arguments(here, program, place)
    elif what == "binding" and program:
        yield from _sources(program)
    elif what == "step_key":
        yield from _settings(B.STEP_SETTINGS, place.present, ": ")
    elif what == "step_value":
        yield from _setting_values(here, program, place)
    elif what == "model_key":
        yield from _settings(B.MODEL_SETTINGS, place.present, ": ")
    elif what == "domain":
        yield Item("bool", CK.Keyword, "true or false")
        yield Item("int in", CK.Keyword, "integers LO..HI", insert="int in ")
        yield Item("float in", CK.Keyword, "reals LO..HI [log] [step S]", insert="float in ")
        yield Item(
            "instructions", CK.Function, "instruction texts for a signature", insert="instructions("
        )
    elif what == "choice":
        yield from _choice_members(here, place)
    elif what == "default":
        yield from _default_values(place)
    elif what == "constraint" and program:
        yield from _vars(program, lambda d: True)
    elif what == "members" and program:
        yield from _domain_members(program, place.var or "")
    elif what == "metric":
        yield from _table(B.FIELD_METRICS, CK.Function, "field metric", suffix="(")
        yield Item(B.CUSTOM_METRIC, CK.Function, 'metric("module:function")', insert="metric(")
        yield from _table(B.MEASURED, CK.Value, "measured")
    elif what == "metric_field" and program:
        yield from (Item(n, CK.Field, str(f.type)) for n, f in program.outputs.items())
    elif what == "measured":
        yield from _table(B.MEASURED, CK.Value, "budget")
    elif what == "optimize_key":
        present = place.present - {"sampler"}
        yield from _settings(B.OPTIMIZE_KEYS, present, " ")
    elif what == "optimize_value":
        if place.key in ("trainset", "devset"):
            yield from _scoped(here, SymbolKind.DATASET)
        elif place.key == "sampler":
            yield from _table(B.SAMPLERS, CK.Value, "sampler")
    elif what == "space_fact":
        yield from _table(B.SPACE_FACTS, CK.Value, "compile-time fact")
    elif what == "return" and program:
        yield from (Item(n, CK.Method, "step") for n in program.steps)
    elif what == "return_key" and program:
        yield from (
            Item(n, CK.Field, str(f.type), insert=f"{n}: ")
            for n, f in program.outputs.items()
            if n not in place.present
        )
    elif what == "test_program":
        yield from _scoped(here, SymbolKind.PROGRAM)
    elif what == "test_input" and program:
        yield from (
            Item(n, CK.Variable, str(f.type), insert=f"{n}: ")
            for n, f in program.inputs.items()
            if n not in place.present
        )
    elif what == "expect" and program:
        yield from (Item(n, CK.Field, str(f.type)) for n, f in program.outputs.items())
        yield from _table(B.TEST_FUNCTIONS, CK.Function, "test function", suffix="(")
    elif what == "type":
        yield from (Item(t, CK.TypeParameter, "built-in type") for t in B.TYPE_NAMES)
        yield from _scoped(here, SymbolKind.ENUM, SymbolKind.CLASS)
    elif what == "check":
        yield from _table(B.CHECKS, CK.Function, "field check", suffix="(")


def _table(
    table: dict[str, str], kind: types.CompletionItemKind, detail: str, suffix: str = ""
) -> Iterator[Item]:
    for name, doc in table.items():
        yield Item(name, kind, detail, doc, insert=name + suffix if suffix else None)


def _settings(table: dict[str, B.SettingSpec], present: Iterable[str], sep: str) -> Iterator[Item]:
    skip = set(present)
    for name, spec in table.items():
        if name not in skip:
            yield Item(name, CK.Property, spec.kind, spec.doc, insert=name + sep)


def _scoped(here: Here, *kinds: SymbolKind) -> Iterator[Item]:
    symbols = sorted(symbols_in_scope(here.model, here.path, *kinds), key=lambda s: s.name)
    for symbol in symbols:
        yield _symbol_item(symbol)


def _symbol_item(symbol: Symbol, insert: str | None = None) -> Item:
    detail = symbol.kind.value + (f" · {symbol.detail}" if symbol.detail else "")
    return Item(symbol.name, _KIND[symbol.kind], detail, symbol.doc or "", insert)


def _vars(program: ProgramInfo, wanted: Callable[[Dom], bool]) -> Iterator[Item]:
    for var in program.variables.values():
        if wanted(var.domain):
            yield _symbol_item(var.symbol)


def _arguments(here: Here, program: ProgramInfo, place: Place) -> Iterator[Item]:
    signature = here.model.signatures.get(place.signature or "")
    if signature is not None:
        for name, field in signature.inputs.items():
            if name not in place.present:
                yield Item(
                    f"{name}:",
                    CK.Field,
                    f"{field.type} · input of {signature.name}",
                    field.description or "",
                    insert=f"{name}: ",
                )
    yield from _sources(program)


def _sources(program: ProgramInfo) -> Iterator[Item]:
    """What may bind an input: program inputs and earlier steps (`step.field`)."""
    for name, field in program.inputs.items():
        yield Item(name, CK.Variable, f"{field.type} · program input")
    for name, step in program.steps.items():
        yield Item(name, CK.Method, f"step · {step.signature.name}", insert=f"{name}.")


def _setting_values(here: Here, program: ProgramInfo | None, place: Place) -> Iterator[Item]:
    key = place.key
    if key == "model":
        yield from _scoped(here, SymbolKind.MODEL)
        if program:
            yield from _vars(program, lambda d: isinstance(d, ChoiceDom) and d.kind == "model")
    elif key == "adapter":
        yield from _table(B.ADAPTERS, CK.Value, "adapter")
        if program:
            yield from _vars(program, lambda d: isinstance(d, ChoiceDom) and d.kind == "adapter")
    elif key == "tools":
        yield from _scoped(here, SymbolKind.TOOL)
    elif key == "instructions" and program:
        yield from _vars(program, lambda d: getattr(d, "signature", None) == place.signature)
    elif key in ("temperature", "max_tokens", "demos", "max_iters") and program:
        numeric = key == "temperature"
        yield from _vars(
            program,
            lambda d: (
                isinstance(d, IntDom)
                or (numeric and isinstance(d, FloatDom))
                or (
                    isinstance(d, ChoiceDom)
                    and d.kind in (("int", "float") if numeric else ("int",))
                )
            ),
        )


def _choice_members(here: Here, place: Place) -> Iterator[Item]:
    first = place.members[0] if place.members else None
    models = list(symbols_in_scope(here.model, here.path, SymbolKind.MODEL))
    enums = [
        e
        for e in here.model.enums.values()
        if e.symbol in symbols_in_scope(here.model, here.path, SymbolKind.ENUM)
    ]
    kinds = {"module", "adapter", "model", "enum"}
    if first is not None:
        kinds = {
            k
            for k, names in (
                ("module", B.MODULES),
                ("adapter", B.ADAPTERS),
                ("model", {m.name for m in models}),
                ("enum", {v for e in enums for v in e.values} | {e.name for e in enums}),
            )
            if first.split(".")[0] in names
        } or kinds
    taken = set(place.members)
    if "module" in kinds:
        yield from (i for i in _table(B.MODULES, CK.Function, "module") if i.label not in taken)
    if "adapter" in kinds:
        yield from (i for i in _table(B.ADAPTERS, CK.Value, "adapter") if i.label not in taken)
    if "model" in kinds:
        yield from (
            _symbol_item(m) for m in sorted(models, key=lambda s: s.name) if m.name not in taken
        )
    if "enum" in kinds:
        for enum in enums:
            for value in enum.values:
                if value not in taken:
                    yield Item(
                        value,
                        CK.EnumMember,
                        f"{enum.name}.{value}",
                        enum.descriptions.get(value, ""),
                    )


def _default_values(place: Place) -> Iterator[Item]:
    if place.key == "bool":
        yield from (Item(v, CK.Keyword) for v in ("true", "false"))
    for member in place.members:
        yield Item(member, CK.Value, f"member of {place.var}'s domain")


def _domain_members(program: ProgramInfo, name: str) -> Iterator[Item]:
    var = program.variables.get(name)
    if var is None:
        return
    domain = var.domain
    if isinstance(domain, ChoiceDom):
        for value in domain.values:
            text = value_str(value)
            yield Item(
                text, CK.EnumMember if domain.kind == "enum" else CK.Value, f"member of {name}"
            )
    elif isinstance(domain, BoolDom):
        yield from (Item(v, CK.Keyword, f"value of {name}") for v in ("true", "false"))
