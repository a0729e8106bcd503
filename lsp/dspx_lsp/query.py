"""Questions several features ask of a compilation, answered in one place.

Contract: pure functions over the compiler's `SemanticModel` and AST, on
character offsets; none of them speaks LSP. `at()` is the one entry point
features use to turn a request's URI and position into a path, the current
compilation of that file and an offset into its current text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lsprotocol import types

from dspx_lang.diagnostics import Diagnostic
from dspx_lang.driver import Compilation
from dspx_lang.semantics.model import (
    ChoiceDom,
    FieldInfo,
    Ident,
    ProgramInfo,
    SemanticModel,
    StepInfo,
    Symbol,
    SymbolKind,
)
from dspx_lang.source import SourceFile
from dspx_lang.space.report import SpaceReport
from dspx_lang.syntax import ast
from dspx_lsp.convert import offset, uri_to_path

if TYPE_CHECKING:
    from dspx_lsp.server import DspxServer


@dataclass(frozen=True, slots=True)
class Here:
    path: str
    compilation: Compilation
    source: SourceFile
    offset: int
    reports: dict[str, SpaceReport] = field(default_factory=dict)  # see `estimates`
    carried: tuple[Diagnostic, ...] = ()  # the later passes' diagnostics (`Documents.carried`)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        """What is published for this text: the compilation's, and the carried ones."""
        return sorted([*self.compilation.diagnostics, *self.carried], key=Diagnostic.sort_key)

    @property
    def model(self) -> SemanticModel:
        return self.compilation.model

    @property
    def module(self) -> ast.Module:
        return self.model.files[self.path].module


def compiled(server: DspxServer, uri: str) -> tuple[str, Compilation, SourceFile]:
    path = uri_to_path(uri)
    compilation = server.documents.compile(path)
    return path, compilation, compilation.model.files[path].source


def at(server: DspxServer, uri: str, pos: types.Position) -> Here:
    path, compilation, source = compiled(server, uri)
    documents = server.documents
    return Here(
        path,
        compilation,
        source,
        offset(source, pos),
        documents.reports(path),
        tuple(documents.carried(path)),
    )


def node_path(module: ast.Module, at_offset: int) -> list[ast.Node]:
    """The nodes whose span contains `at_offset`, outermost first (end inclusive)."""
    found: list[ast.Node] = []
    children: list[ast.Node] = list(module.decls)
    while children:
        inner = next((c for c in children if c.span.start <= at_offset <= c.span.end), None)
        if inner is None:
            break
        found.append(inner)
        children = list(ast.children(inner))
    return found


def decl_at(module: ast.Module, at_offset: int) -> ast.TopLevel | None:
    return next((d for d in module.decls if d.span.start <= at_offset <= d.span.end), None)


def field_info(model: SemanticModel, symbol: Symbol) -> FieldInfo | None:
    """The resolved field behind a class, signature or program field symbol."""
    container = symbol.container
    if container is None:
        return None
    tables: list[dict[str, FieldInfo]] = []
    if container.kind is SymbolKind.SIGNATURE and container.name in model.signatures:
        signature = model.signatures[container.name]
        tables = [signature.inputs, signature.outputs]
    elif container.kind is SymbolKind.CLASS and container.name in model.classes:
        tables = [model.classes[container.name].fields]
    elif container.kind is SymbolKind.PROGRAM and container.name in model.programs:
        program = model.programs[container.name]
        tables = [program.inputs, program.outputs]
    for table in tables:
        info = table.get(symbol.name)
        if info is not None and info.symbol is symbol:
            return info
    return None


def program_of(model: SemanticModel, symbol: Symbol) -> ProgramInfo | None:
    """The program a variable, step or program field belongs to (or the program itself)."""
    owner = symbol if symbol.kind is SymbolKind.PROGRAM else symbol.container
    if owner is None or owner.kind is not SymbolKind.PROGRAM:
        return None
    program = model.programs.get(owner.name)
    return program if program is not None and program.symbol is owner else None


def step_info(model: SemanticModel, symbol: Symbol) -> StepInfo | None:
    program = program_of(model, symbol)
    step = program.steps.get(symbol.name) if program else None
    return step if step is not None and step.symbol is symbol else None


def step_model(program: ProgramInfo, step: StepInfo) -> str | None:
    """The model a step calls in the default configuration."""
    setting = step.settings.get("model")
    if setting is None:
        return program.default_model
    if setting.var is not None:
        var = program.variables.get(setting.var)
        return str(getattr(var.default, "name", var.default)) if var else None
    return str(getattr(setting.literal, "name", setting.literal))


def step_modules(program: ProgramInfo, step: StepInfo) -> set[str]:
    """The module kinds a step may run: its module, or every member of its module variable."""
    if not step.module_is_var:
        return {step.module}
    var = program.variables.get(step.module)
    if var is None or not isinstance(var.domain, ChoiceDom):
        return set()
    return {v.name for v in var.domain.values if isinstance(v, Ident)}


def step_outputs(program: ProgramInfo, step: StepInfo) -> dict[str, str]:
    """Output field -> type of a step, with what its module(s) add (as the checker sees it)."""
    modules = step_modules(program, step)
    fields: dict[str, str] = {}
    if modules & {"cot", "react"}:
        fields["reasoning"] = "string"
    if "pot" in modules:
        fields["code"] = "string"
    fields.update((name, str(f.type)) for name, f in step.signature.outputs.items())
    return fields


def symbols_in_scope(model: SemanticModel, path: str, *kinds: SymbolKind) -> Iterator[Symbol]:
    unit = model.files.get(path)
    if unit is None:
        return
    for symbol in unit.scope.values():
        if not kinds or symbol.kind in kinds:
            yield symbol


def same_symbol(a: Symbol, b: Symbol) -> bool:
    """The same declaration seen from two compilations (symbols are per compilation)."""
    return (a.file, a.span, a.name, a.kind) == (b.file, b.span, b.name, b.kind)
