"""The semantic model: symbols, references, resolved declarations and programs.

Contract: after `analyze()`, every name occurrence the checks visited is a
`Reference` (resolved to a `Symbol`, or unresolved with an E100 reported), and
every declaration that checked is described by a resolved *Info* object that
later passes (space analysis, IR lowering) and the language server read
instead of the AST. Queries (`symbol_at`, `definition_at`, `references_to`)
work per file on character offsets. Nothing here knows about lark.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from dspx_lang.semantics.types import Type
from dspx_lang.source import SourceFile, Span
from dspx_lang.syntax import ast


class SymbolKind(StrEnum):
    MODEL = "model"
    ENUM = "enum"
    ENUM_VALUE = "enum value"
    CLASS = "class"
    FIELD = "field"
    SIGNATURE = "signature"
    TOOL = "tool"
    PARAM = "parameter"
    DATASET = "dataset"
    PROGRAM = "program"
    INPUT = "program input"
    OUTPUT = "program output"
    VARIABLE = "variable"
    STEP = "step"
    TEST = "test"
    BUILTIN = "built-in"


@dataclass(eq=False)
class Symbol:
    """A declared (or built-in) name. `span` is the name, `decl_span` the whole declaration."""

    name: str
    kind: SymbolKind
    file: str
    span: Span
    decl_span: Span
    doc: str | None = None
    container: Symbol | None = None
    type: Type | None = None
    detail: str = ""

    @property
    def qualified(self) -> str:
        return f"{self.container.name}.{self.name}" if self.container else self.name


@dataclass
class Reference:
    file: str
    span: Span
    name: str
    symbol: Symbol | None


@dataclass(frozen=True)
class Ident:
    """An identifier value: a module kind, adapter, model name or enum value."""

    name: str


Value = bool | int | float | str | Ident

DomainKind = Literal["module", "adapter", "model", "enum", "int", "float", "string", "bool"]


@dataclass(frozen=True)
class ChoiceDom:
    kind: DomainKind
    values: tuple[Value, ...]
    enum: str | None = None  # the enum's name when kind == "enum"


@dataclass(frozen=True)
class IntDom:
    low: int
    high: int
    log: bool = False


@dataclass(frozen=True)
class FloatDom:
    low: float
    high: float
    log: bool = False
    step: float | None = None


@dataclass(frozen=True)
class BoolDom:
    pass


@dataclass(frozen=True)
class InstructionsDom:
    signature: str


Dom = ChoiceDom | IntDom | FloatDom | BoolDom | InstructionsDom


# ------------------------------------------------------- resolved expressions


@dataclass(frozen=True)
class RConst:
    value: Value


@dataclass(frozen=True)
class RVar:
    """A program variable (constraints), an output or input field (tests), or a space fact."""

    name: str


@dataclass(frozen=True)
class RUnary:
    op: str
    operand: RExpr


@dataclass(frozen=True)
class RBinary:
    op: str
    left: RExpr
    right: RExpr


@dataclass(frozen=True)
class RIn:
    target: RExpr
    options: tuple[Value, ...]
    negated: bool


@dataclass(frozen=True)
class RCall:
    func: str
    args: tuple[RExpr, ...]


RExpr = RConst | RVar | RUnary | RBinary | RIn | RCall


# ----------------------------------------------------------- resolved decls


@dataclass(frozen=True)
class CheckInfo:
    kind: str  # range | len | pattern | tokens
    args: tuple[float | int | str, ...]


@dataclass
class FieldInfo:
    name: str
    type: Type
    symbol: Symbol
    description: str | None = None
    checks: tuple[CheckInfo, ...] = ()
    doc: str | None = None


@dataclass
class ModelInfo:
    name: str
    model_id: str
    symbol: Symbol
    settings: dict[str, str | float | int] = field(default_factory=dict)


@dataclass
class EnumInfo:
    name: str
    symbol: Symbol
    values: dict[str, Symbol] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)


@dataclass
class ClassInfo:
    name: str
    symbol: Symbol
    fields: dict[str, FieldInfo] = field(default_factory=dict)


@dataclass
class SignatureInfo:
    name: str
    symbol: Symbol
    instructions: str
    inputs: dict[str, FieldInfo] = field(default_factory=dict)
    outputs: dict[str, FieldInfo] = field(default_factory=dict)


@dataclass
class ParamInfo:
    name: str
    type: Type
    default: Value | list[Value] | None


@dataclass
class ToolInfo:
    name: str
    symbol: Symbol
    params: list[ParamInfo]
    returns: Type
    target: str


@dataclass
class DatasetInfo:
    name: str
    symbol: Symbol
    path: str  # as written, relative to the declaring file
    resolved_path: str
    mapping: dict[str, str] = field(default_factory=dict)  # field -> column


@dataclass
class VarInfo:
    name: str
    symbol: Symbol
    domain: Dom
    default: Value
    node: ast.VarDecl
    used: bool = False


@dataclass(frozen=True)
class Binding:
    """Where a value comes from: a program input, a step output, or a literal."""

    source: Literal["input", "step", "literal"]
    name: str = ""  # input name, or step name
    field: str = ""  # step output field
    value: Value | list[Value] | None = None


@dataclass(frozen=True)
class SettingValue:
    """A step setting: a literal, a variable, or a list of tool names."""

    literal: Value | list[Value] | None = None
    var: str | None = None


@dataclass
class StepInfo:
    name: str
    symbol: Symbol
    module: str  # a module kind, or the name of a variable over module kinds
    module_is_var: bool
    signature: SignatureInfo
    bindings: dict[str, Binding] = field(default_factory=dict)
    settings: dict[str, SettingValue] = field(default_factory=dict)
    depends_on: list[str] = field(default_factory=list)
    node: ast.StepDecl | None = None

    def outputs(self) -> dict[str, Type]:
        """The step's output fields, including what its module may add."""
        from dspx_lang.semantics.types import STRING

        fields = {name: f.type for name, f in self.signature.outputs.items()}
        fields.setdefault("reasoning", STRING)
        fields.setdefault("code", STRING)
        return fields


@dataclass
class ConstraintInfo:
    label: str | None
    expr: RExpr
    node: ast.ConstraintDecl
    index: int


@dataclass
class ObjectiveInfo:
    direction: Literal["maximize", "minimize"]
    metric: str  # a field metric, "metric", or a measured quantity
    field: str | None
    target: str | None  # "module:function" for metric(...)
    weight: float
    node: ast.ObjectiveDecl


@dataclass
class BudgetInfo:
    metric: Literal["cost", "latency", "tokens"]
    limit: float
    node: ast.BudgetDecl


@dataclass
class SamplerRule:
    sampler: str
    condition: RExpr | None
    node: ast.OptimizeItem


@dataclass
class OptimizeInfo:
    node: ast.OptimizeDecl
    trainset: str | None = None
    devset: str | None = None
    split: float = 0.8
    samplers: list[SamplerRule] = field(default_factory=list)
    trials: int = 20
    max_spend: float | None = None
    concurrency: int = 8
    seed: int = 0


@dataclass
class ProgramInfo:
    name: str
    symbol: Symbol
    file: str
    node: ast.ProgramDecl
    inputs: dict[str, FieldInfo] = field(default_factory=dict)
    outputs: dict[str, FieldInfo] = field(default_factory=dict)
    variables: dict[str, VarInfo] = field(default_factory=dict)
    steps: dict[str, StepInfo] = field(default_factory=dict)
    returns: dict[str, Binding] = field(default_factory=dict)
    constraints: list[ConstraintInfo] = field(default_factory=list)
    objectives: list[ObjectiveInfo] = field(default_factory=list)
    budgets: list[BudgetInfo] = field(default_factory=list)
    optimize: OptimizeInfo | None = None
    default_model: str | None = None


@dataclass
class TestInfo:
    name: str
    symbol: Symbol
    program: str
    inputs: dict[str, Value | list[Value] | None] = field(default_factory=dict)
    expects: list[tuple[RExpr, ast.TestExpect]] = field(default_factory=list)


# ------------------------------------------------------------------ the model


@dataclass
class FileUnit:
    """One parsed file and what it can see."""

    source: SourceFile
    module: ast.Module
    imports: list[str] = field(default_factory=list)  # resolved paths, in order
    scope: dict[str, Symbol] = field(default_factory=dict)  # its declarations + imports


@dataclass
class SemanticModel:
    root: str
    files: dict[str, FileUnit] = field(default_factory=dict)
    symbols: list[Symbol] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    models: dict[str, ModelInfo] = field(default_factory=dict)
    enums: dict[str, EnumInfo] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    signatures: dict[str, SignatureInfo] = field(default_factory=dict)
    tools: dict[str, ToolInfo] = field(default_factory=dict)
    datasets: dict[str, DatasetInfo] = field(default_factory=dict)
    programs: dict[str, ProgramInfo] = field(default_factory=dict)
    tests: dict[str, TestInfo] = field(default_factory=dict)
    builtins: dict[str, Symbol] = field(default_factory=dict)
    _index: dict[str, tuple[list[int], list[tuple[Span, Symbol | None, Reference | None]]]] = field(
        default_factory=dict, repr=False
    )

    def add_symbol(self, symbol: Symbol) -> Symbol:
        self.symbols.append(symbol)
        self._index.clear()
        return symbol

    def add_reference(self, file: str, span: Span, name: str, symbol: Symbol | None) -> None:
        self.references.append(Reference(file, span, name, symbol))
        self._index.clear()

    def programs_in(self, file: str) -> list[ProgramInfo]:
        return [p for p in self.programs.values() if p.file == file]

    # ---------------------------------------------------------------- queries

    def _entries(
        self, file: str
    ) -> tuple[list[int], list[tuple[Span, Symbol | None, Reference | None]]]:
        if file not in self._index:
            entries: list[tuple[Span, Symbol | None, Reference | None]] = [
                (s.span, s, None) for s in self.symbols if s.file == file
            ]
            entries.extend((r.span, r.symbol, r) for r in self.references if r.file == file)
            entries.sort(key=lambda e: (e[0].start, e[0].end))
            self._index[file] = ([e[0].start for e in entries], entries)
        return self._index[file]

    def occurrence_at(
        self, file: str, offset: int
    ) -> tuple[Symbol | None, Reference | None] | None:
        """The definition or reference whose name covers `offset` (end inclusive)."""
        starts, entries = self._entries(file)
        index = bisect.bisect_right(starts, offset) - 1
        while index >= 0 and entries[index][0].start <= offset:
            span, symbol, reference = entries[index]
            if span.start <= offset <= span.end:
                return symbol, reference
            if offset - span.start > 512:
                break
            index -= 1
        return None

    def symbol_at(self, file: str, offset: int) -> Symbol | None:
        """The symbol named at `offset`, whether at its definition or at a use."""
        found = self.occurrence_at(file, offset)
        return found[0] if found else None

    def definition_at(self, file: str, offset: int) -> Symbol | None:
        symbol = self.symbol_at(file, offset)
        return symbol if symbol is not None and symbol.kind is not SymbolKind.BUILTIN else None

    def references_to(
        self, symbol: Symbol, include_definition: bool = True
    ) -> list[tuple[str, Span]]:
        sites = [(r.file, r.span) for r in self.references if r.symbol is symbol]
        if include_definition and symbol.kind is not SymbolKind.BUILTIN:
            sites.insert(0, (symbol.file, symbol.span))
        return sites

    def symbols_in(self, file: str) -> list[Symbol]:
        return [s for s in self.symbols if s.file == file]
