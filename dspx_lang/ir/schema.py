"""The IR: the whole program graph of one compiled `.dspx` file, as pydantic models.

Contract:
- `Package` is what `dspxc compile` writes to `<stem>.ir.json` and what the runtime executes;
  `Package.model_validate_json(pkg.model_dump_json()) == pkg` (JSON round-trip is exact).
- `ir_version` is 1; a reader refuses any other version with a clear error (`read_package`).
- This module imports nothing from the compiler (only pydantic and the standard library), so
  the runtime may load the IR without the parser. Models are frozen and reject unknown keys;
  their validators are built on first use (`defer_build`), which keeps importing cheap.
- Values are JSON scalars or lists of them. An identifier value (a module kind, adapter,
  model name or enum value) is a string; expression constants mark it with `ident=True`.
- Source positions are 1-based line numbers; paths are absolute.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "IR_VERSION",
    "Binding",
    "BoolDomain",
    "BudgetDecl",
    "CallEstimate",
    "Check",
    "ChoiceDomain",
    "ClassDecl",
    "ConfigEstimate",
    "ConstraintDecl",
    "DatasetDecl",
    "Domain",
    "EnumDecl",
    "EnumValue",
    "Expect",
    "Expr",
    "ExprBinary",
    "ExprCall",
    "ExprConst",
    "ExprIn",
    "ExprUnary",
    "ExprVar",
    "FieldDecl",
    "FloatDomain",
    "InstructionsDomain",
    "IntDomain",
    "ModelDecl",
    "ObjectiveDecl",
    "OptimizeDecl",
    "Package",
    "ParamDecl",
    "ProgramDecl",
    "ProgramEstimate",
    "SamplerRule",
    "Setting",
    "SignatureDecl",
    "SourceInfo",
    "StepDecl",
    "TestDecl",
    "ToolDecl",
    "Type",
    "TypeDecl",
    "TypeRef",
    "Value",
    "VariableDecl",
    "type_text",
]

IR_VERSION = 1

Scalar = bool | int | float | str
Value = Scalar | list[Any] | None


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


# ---------------------------------------------------------------------------- types


class TypeRef(_Node):
    """A field type. `kind`: string int float bool | list (elem) | map (value, string keys) |
    optional (inner) | enum / class (name) | literals (values: a union of string literals)."""

    kind: Literal[
        "string", "int", "float", "bool", "list", "map", "optional", "enum", "class", "literals"
    ]
    elem: TypeRef | None = None
    value: TypeRef | None = None
    inner: TypeRef | None = None
    name: str | None = None
    values: tuple[str, ...] = ()


Type = TypeRef


def type_text(t: TypeRef) -> str:
    """The type as written in `.dspx` (`list<string>`, `Intent?`, `"yes" | "no"`)."""
    if t.kind == "list" and t.elem is not None:
        return f"list<{type_text(t.elem)}>"
    if t.kind == "map" and t.value is not None:
        return f"map<string, {type_text(t.value)}>"
    if t.kind == "optional" and t.inner is not None:
        return f"{type_text(t.inner)}?"
    if t.kind in ("enum", "class") and t.name is not None:
        return t.name
    if t.kind == "literals":
        return " | ".join(f'"{v}"' for v in t.values)
    return t.kind


class Check(_Node):
    """A field check: `range` (lo, hi), `len` (lo, hi), `pattern` (regex), `tokens` (n)."""

    kind: Literal["range", "len", "pattern", "tokens"]
    args: tuple[float | int | str, ...]


class FieldDecl(_Node):
    name: str
    type: TypeRef
    description: str | None = None
    checks: tuple[Check, ...] = ()
    doc: str | None = None
    line: int = 0


class EnumValue(_Node):
    name: str
    description: str | None = None
    doc: str | None = None


class EnumDecl(_Node):
    kind: Literal["enum"] = "enum"
    name: str
    values: tuple[EnumValue, ...]
    doc: str | None = None
    file: str = ""
    line: int = 0


class ClassDecl(_Node):
    kind: Literal["class"] = "class"
    name: str
    fields: tuple[FieldDecl, ...]
    doc: str | None = None
    file: str = ""
    line: int = 0


TypeDecl = Annotated[EnumDecl | ClassDecl, Field(discriminator="kind")]


# ------------------------------------------------------------------- declarations


class ModelDecl(_Node):
    """A declared model; costs are USD per 1M tokens, durations in seconds."""

    name: str
    model_id: str
    api_base: str | None = None
    api_key_env: str | None = None
    input_cost: float | None = None
    output_cost: float | None = None
    tokens_per_second: float | None = None
    first_token_latency_s: float | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    context_window: int | None = None
    timeout_s: float | None = None
    retries: int | None = None
    concurrency: int | None = None
    transport: Literal["auto", "native", "litellm"] = "auto"
    doc: str | None = None
    file: str = ""
    line: int = 0


class SignatureDecl(_Node):
    name: str
    instructions: str
    inputs: tuple[FieldDecl, ...]
    outputs: tuple[FieldDecl, ...]
    doc: str | None = None
    file: str = ""
    line: int = 0


class ParamDecl(_Node):
    name: str
    type: TypeRef
    default: Value = None
    has_default: bool = False


class ToolDecl(_Node):
    """A Python tool: `target` is "module:function", looked up next to `file` first."""

    name: str
    params: tuple[ParamDecl, ...]
    returns: TypeRef
    target: str
    doc: str | None = None
    file: str = ""
    line: int = 0


class DatasetDecl(_Node):
    name: str
    path: str
    resolved_path: str
    mapping: dict[str, str] = Field(default_factory=dict)
    file: str = ""
    line: int = 0


# -------------------------------------------------------------------- expressions


class ExprConst(_Node):
    node: Literal["const"] = "const"
    value: Value
    ident: bool = False


class ExprVar(_Node):
    node: Literal["var"] = "var"
    name: str


class ExprUnary(_Node):
    node: Literal["unary"] = "unary"
    op: Literal["not", "-"]
    operand: Expr


class ExprBinary(_Node):
    node: Literal["binary"] = "binary"
    op: Literal["==", "!=", "<", "<=", ">", ">=", "and", "or", "=>", "+", "-", "*", "/"]
    left: Expr
    right: Expr


class ExprIn(_Node):
    node: Literal["in"] = "in"
    target: Expr
    options: tuple[Value, ...]
    negated: bool = False


class ExprCall(_Node):
    node: Literal["call"] = "call"
    func: str
    args: tuple[Expr, ...]


Expr = Annotated[
    ExprConst | ExprVar | ExprUnary | ExprBinary | ExprIn | ExprCall,
    Field(discriminator="node"),
]


# ----------------------------------------------------------------------- programs


class ChoiceDomain(_Node):
    kind: Literal["choice"] = "choice"
    of: Literal["module", "adapter", "model", "enum", "int", "float", "string", "bool"]
    values: tuple[Scalar, ...]
    enum: str | None = None


class IntDomain(_Node):
    kind: Literal["int"] = "int"
    low: int
    high: int
    log: bool = False


class FloatDomain(_Node):
    kind: Literal["float"] = "float"
    low: float
    high: float
    log: bool = False
    step: float | None = None


class BoolDomain(_Node):
    kind: Literal["bool"] = "bool"


class InstructionsDomain(_Node):
    """Instruction texts for `signature`; the default is the signature's own instructions."""

    kind: Literal["instructions"] = "instructions"
    signature: str


Domain = Annotated[
    ChoiceDomain | IntDomain | FloatDomain | BoolDomain | InstructionsDomain,
    Field(discriminator="kind"),
]


class VariableDecl(_Node):
    name: str
    domain: Domain
    default: Scalar
    doc: str | None = None
    line: int = 0


class Binding(_Node):
    """Where a step input or program output comes from."""

    source: Literal["input", "step", "literal"]
    name: str = ""
    field: str = ""
    value: Value = None


class Setting(_Node):
    """A step setting: a literal (`value`) or a program variable (`var`)."""

    value: Value = None
    var: str | None = None


class StepDecl(_Node):
    """`module` is a module kind, or the name of a variable over module kinds
    (`module_var`)."""

    name: str
    module: str
    module_var: bool = False
    signature: str
    bindings: dict[str, Binding]
    settings: dict[str, Setting] = Field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    doc: str | None = None
    line: int = 0


class ConstraintDecl(_Node):
    label: str | None = None
    expr: Expr
    text: str
    line: int = 0


class ObjectiveDecl(_Node):
    direction: Literal["maximize", "minimize"]
    metric: str
    field: str | None = None
    target: str | None = None
    weight: float
    line: int = 0


class BudgetDecl(_Node):
    metric: Literal["cost", "latency", "tokens"]
    limit: float
    line: int = 0


class SamplerRule(_Node):
    sampler: str
    condition: Expr | None = None


class OptimizeDecl(_Node):
    trainset: str | None = None
    devset: str | None = None
    split: float = 0.8
    samplers: tuple[SamplerRule, ...] = ()
    trials: int = 20
    max_spend: float | None = None
    concurrency: int = 8
    seed: int = 0
    line: int = 0


class CallEstimate(_Node):
    """Estimated LM work of one step or of the whole program, per program call.

    `calls` counts LM calls (pot and react up to `max_iters`); `cost_usd` is None when a
    model's price is unknown; `latency_s` is first-token latency plus completion tokens over
    decode speed (steps that run concurrently overlap in the total)."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None = None
    latency_s: float


class ConfigEstimate(_Node):
    """Per-step estimates and the program total, for one configuration or one bound."""

    steps: dict[str, CallEstimate]
    total: CallEstimate


class ProgramEstimate(_Node):
    """LANGUAGE.md §7: the default configuration, and the minimum and maximum over the
    feasible space (each step's and the total's bounds taken separately)."""

    default: ConfigEstimate
    min: ConfigEstimate
    max: ConfigEstimate


class ProgramDecl(_Node):
    name: str
    file: str
    line: int = 0
    doc: str | None = None
    inputs: tuple[FieldDecl, ...]
    outputs: tuple[FieldDecl, ...]
    variables: tuple[VariableDecl, ...] = ()
    steps: tuple[StepDecl, ...]
    returns: dict[str, Binding]
    constraints: tuple[ConstraintDecl, ...] = ()
    objectives: tuple[ObjectiveDecl, ...] = ()
    budgets: tuple[BudgetDecl, ...] = ()
    optimize: OptimizeDecl | None = None
    default_model: str | None = None
    estimate: ProgramEstimate | None = None


class Expect(_Node):
    expr: Expr
    text: str
    line: int = 0


class TestDecl(_Node):
    __test__: ClassVar[bool] = False  # not a pytest test class

    name: str
    program: str
    inputs: dict[str, Value]
    expects: tuple[Expect, ...]
    file: str = ""
    line: int = 0


class SourceInfo(_Node):
    """The root file and every file it imports, each with its sha256; `hash` covers them all."""

    root: str
    hash: str
    files: dict[str, str]


class Package(_Node):
    ir_version: Literal[1] = 1
    compiler_version: str
    source: SourceInfo
    models: dict[str, ModelDecl]
    types: dict[str, TypeDecl] = Field(default_factory=dict)
    signatures: dict[str, SignatureDecl] = Field(default_factory=dict)
    tools: dict[str, ToolDecl] = Field(default_factory=dict)
    datasets: dict[str, DatasetDecl] = Field(default_factory=dict)
    programs: dict[str, ProgramDecl] = Field(default_factory=dict)
    tests: dict[str, TestDecl] = Field(default_factory=dict)
