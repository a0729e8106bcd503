"""The abstract syntax tree of a `.dspx` file.

Invariants: every node carries the exact `span` of the text it came from
(keywords and braces included); spans never take part in equality, so two
trees parsed from differently formatted text compare equal when they mean the
same thing. Nodes are plain data: no lark objects, no back references. A tree
may be partial after syntax errors (missing items are simply absent), and every
later pass must accept that.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Literal

from dspx_lang.source import Span

NO_SPAN = Span(0, 0)


@dataclass(kw_only=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


def children(node: Node) -> Iterator[Node]:
    """The direct child nodes of a node, in source order of declaration fields."""
    for f in fields(node):
        value = getattr(node, f.name)
        if isinstance(value, Node):
            yield value
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Node):
                    yield item


def walk(node: Node) -> Iterator[Node]:
    """Every node under `node` (inclusive), pre-order, without recursion."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(list(children(current))))


@dataclass(kw_only=True)
class Name(Node):
    text: str


# ---------------------------------------------------------------- expressions


@dataclass(kw_only=True)
class Expr(Node):
    # Nesting depth, so passes can refuse pathological input before recursing.
    depth: int = field(default=1, compare=False, repr=False)


@dataclass(kw_only=True)
class StringLit(Expr):
    value: str
    block: bool = False
    raw: str = field(default="", compare=False, repr=False)


@dataclass(kw_only=True)
class NumberLit(Expr):
    value: int | float
    raw: str = field(default="", compare=False, repr=False)


@dataclass(kw_only=True)
class MoneyLit(Expr):
    """US dollars, kept as written (`$0.002`) and as a float."""

    value: float
    raw: str = field(default="", compare=False, repr=False)


@dataclass(kw_only=True)
class DurationLit(Expr):
    seconds: float
    raw: str = field(default="", compare=False, repr=False)


@dataclass(kw_only=True)
class BoolLit(Expr):
    value: bool


@dataclass(kw_only=True)
class NameRef(Expr):
    name: Name


@dataclass(kw_only=True)
class ListLit(Expr):
    items: list[Expr]


@dataclass(kw_only=True)
class Member(Expr):
    target: Expr
    member: Name


@dataclass(kw_only=True)
class Argument(Node):
    """`name: value` or a bare `value` (a bare name `x` means `x: x` in steps)."""

    name: Name | None
    value: Expr


@dataclass(kw_only=True)
class Call(Expr):
    func: Name
    args: list[Argument]


UnaryOp = Literal["-", "not"]
BinaryOp = Literal["=>", "or", "and", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"]


@dataclass(kw_only=True)
class Unary(Expr):
    op: UnaryOp
    operand: Expr


@dataclass(kw_only=True)
class Binary(Expr):
    op: BinaryOp
    left: Expr
    right: Expr


@dataclass(kw_only=True)
class InList(Expr):
    target: Expr
    options: ListLit
    negated: bool = False


@dataclass(kw_only=True)
class Paren(Expr):
    inner: Expr


@dataclass(kw_only=True)
class ErrorExpr(Expr):
    """Stands in for an expression the parser had to drop (e.g. nested too deeply)."""


# ---------------------------------------------------------------------- types


@dataclass(kw_only=True)
class TypeExpr(Node):
    depth: int = field(default=1, compare=False, repr=False)


@dataclass(kw_only=True)
class NamedType(TypeExpr):
    """`string`, `Topic`, or a generic such as `list<string>` (args non-empty)."""

    name: Name
    args: list[TypeExpr] = field(default_factory=list)


@dataclass(kw_only=True)
class OptionalType(TypeExpr):
    inner: TypeExpr


@dataclass(kw_only=True)
class UnionType(TypeExpr):
    options: list[StringLit]


# --------------------------------------------------------------- declarations


@dataclass(kw_only=True)
class Check(Node):
    """A field check such as `@range(0, 1)`."""

    name: Name
    args: list[Expr]


@dataclass(kw_only=True)
class Setting(Node):
    key: Name
    value: Expr


@dataclass(kw_only=True)
class Field(Node):
    """A class field (direction None) or an `in`/`out` field of a signature or program."""

    direction: Literal["in", "out"] | None
    name: Name
    type: TypeExpr
    description: StringLit | None = None
    checks: list[Check] = field(default_factory=list)
    doc: str | None = None


@dataclass(kw_only=True)
class Decl(Node):
    name: Name
    doc: str | None = None


@dataclass(kw_only=True)
class Import(Node):
    path: StringLit


@dataclass(kw_only=True)
class ModelDecl(Decl):
    model_id: StringLit
    settings: list[Setting] | None = None


@dataclass(kw_only=True)
class EnumValue(Node):
    name: Name
    description: StringLit | None = None
    doc: str | None = None


@dataclass(kw_only=True)
class EnumDecl(Decl):
    values: list[EnumValue]


@dataclass(kw_only=True)
class ClassDecl(Decl):
    fields: list[Field]


@dataclass(kw_only=True)
class SignatureDecl(Decl):
    instructions: StringLit | None
    fields: list[Field]


@dataclass(kw_only=True)
class Param(Node):
    name: Name
    type: TypeExpr
    default: Expr | None = None


@dataclass(kw_only=True)
class ToolDecl(Decl):
    params: list[Param]
    returns: TypeExpr
    target: StringLit


@dataclass(kw_only=True)
class DatasetDecl(Decl):
    path: StringLit
    mapping: list[Setting] | None = None


# ------------------------------------------------------------------- programs


@dataclass(kw_only=True)
class Domain(Node):
    pass


@dataclass(kw_only=True)
class ChoiceDomain(Domain):
    options: list[Expr]


@dataclass(kw_only=True)
class RangeDomain(Domain):
    """`int in LO..HI` or `float in LO..HI [log] [step S]`."""

    kind: Name
    low: NumberLit
    high: NumberLit
    log: bool = False
    step: NumberLit | None = None


@dataclass(kw_only=True)
class NamedDomain(Domain):
    """`bool` (any other name is reported by the checker)."""

    name: Name


@dataclass(kw_only=True)
class CallDomain(Domain):
    """`instructions(SIGNATURE)`."""

    func: Name
    arg: Name


@dataclass(kw_only=True)
class VarDecl(Node):
    name: Name
    domain: Domain
    default: Expr | None = None
    doc: str | None = None


@dataclass(kw_only=True)
class StepDecl(Node):
    name: Name
    module: Name
    signature: Name
    args: list[Argument]
    settings: list[Setting] | None = None
    doc: str | None = None


@dataclass(kw_only=True)
class ReturnDecl(Node):
    """`return { field: expr, ... }` (fields set) or `return STEP` (step set)."""

    fields: list[Setting] | None = None
    step: Name | None = None


@dataclass(kw_only=True)
class ConstraintDecl(Node):
    label: StringLit | None
    expr: Expr


@dataclass(kw_only=True)
class ObjectiveDecl(Node):
    direction: Literal["maximize", "minimize"]
    metric: Name
    args: list[Expr] | None = None
    weight: NumberLit | None = None


@dataclass(kw_only=True)
class BudgetDecl(Node):
    metric: Name
    limit: Expr


@dataclass(kw_only=True)
class OptimizeItem(Node):
    key: Name
    value: Expr
    condition: Expr | None = None


@dataclass(kw_only=True)
class OptimizeDecl(Node):
    items: list[OptimizeItem]


ProgramItem = (
    Field
    | VarDecl
    | StepDecl
    | ReturnDecl
    | ConstraintDecl
    | ObjectiveDecl
    | BudgetDecl
    | OptimizeDecl
)


@dataclass(kw_only=True)
class ProgramDecl(Decl):
    items: list[ProgramItem]

    def inputs(self) -> list[Field]:
        return [i for i in self.items if isinstance(i, Field) and i.direction == "in"]

    def outputs(self) -> list[Field]:
        return [i for i in self.items if isinstance(i, Field) and i.direction == "out"]

    def variables(self) -> list[VarDecl]:
        return [i for i in self.items if isinstance(i, VarDecl)]

    def steps(self) -> list[StepDecl]:
        return [i for i in self.items if isinstance(i, StepDecl)]

    def constraints(self) -> list[ConstraintDecl]:
        return [i for i in self.items if isinstance(i, ConstraintDecl)]

    def objectives(self) -> list[ObjectiveDecl]:
        return [i for i in self.items if isinstance(i, ObjectiveDecl)]

    def budgets(self) -> list[BudgetDecl]:
        return [i for i in self.items if isinstance(i, BudgetDecl)]

    def returns(self) -> list[ReturnDecl]:
        return [i for i in self.items if isinstance(i, ReturnDecl)]

    def optimize_blocks(self) -> list[OptimizeDecl]:
        return [i for i in self.items if isinstance(i, OptimizeDecl)]


@dataclass(kw_only=True)
class TestInput(Node):
    settings: list[Setting]


@dataclass(kw_only=True)
class TestExpect(Node):
    expr: Expr


@dataclass(kw_only=True)
class TestDecl(Decl):
    program: Name
    items: list[TestInput | TestExpect]

    def inputs(self) -> list[Setting]:
        return [s for i in self.items if isinstance(i, TestInput) for s in i.settings]

    def expects(self) -> list[TestExpect]:
        return [i for i in self.items if isinstance(i, TestExpect)]


TopLevel = (
    Import
    | ModelDecl
    | EnumDecl
    | ClassDecl
    | SignatureDecl
    | ToolDecl
    | DatasetDecl
    | ProgramDecl
    | TestDecl
)


@dataclass(kw_only=True)
class Comment(Node):
    text: str

    @property
    def is_doc(self) -> bool:
        return self.text.startswith("///") and not self.text.startswith("////")


@dataclass(kw_only=True)
class Module(Node):
    decls: list[TopLevel]
    comments: list[Comment] = field(default_factory=list, compare=False, repr=False)
