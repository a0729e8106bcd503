"""format(): the canonical layout of a `.dspx` file.

Contract: `format_module(source, module)` prints a syntactically valid module
(callers refuse files with E001) so that parsing the output yields an equal
AST (spans aside) and formatting the output again changes nothing. Every
comment is kept: a comment that ended a line of code stays at the end of that
line; any other comment is printed on its own line, at the indentation of the
code that follows it. Layout: two-space indents, one construct per line,
blank lines between items kept (at most one), short `{ ... }` groups
(returns, test inputs, dataset mappings) inline when they fit in WIDTH
columns and hold no comments.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dspx_lang.source import SourceFile
from dspx_lang.syntax import ast

WIDTH = 100
INDENT = "  "


class _Printer:
    def __init__(self, source: SourceFile, module: ast.Module) -> None:
        self.source = source
        self.comments = list(module.comments)
        self.next_comment = 0
        self.lines: list[str] = []
        self.line_ends: list[int | None] = []  # source line each output line ended on
        self.depth = 0

    # ------------------------------------------------------------ plumbing

    def emit(self, text: str, source_end: int | None) -> None:
        self.lines.append(INDENT * self.depth + text if text else "")
        self.line_ends.append(self.source.line_of(source_end) if source_end is not None else None)
        self.trailing()

    def trailing(self) -> None:
        """Attach comments that sit on the source line the last output line ended on."""
        end_line = self.line_ends[-1] if self.line_ends else None
        while self.next_comment < len(self.comments) and end_line is not None:
            comment = self.comments[self.next_comment]
            line = self.source.line_of(comment.span.start)
            if line != end_line or not self._after_code(comment):
                return
            self.lines[-1] += "  " + "\n".join(part.rstrip() for part in comment.text.split("\n"))
            self.line_ends[-1] = self.source.line_of(comment.span.end)
            end_line = self.line_ends[-1]
            self.next_comment += 1

    def _after_code(self, comment: ast.Comment) -> bool:
        line_start = self.source.line_start(self.source.line_of(comment.span.start))
        return bool(self.source.text[line_start : comment.span.start].strip())

    def leading(self, before: int, blank_before: bool = False) -> None:
        """Print the comments that start before offset `before`, each on its own line."""
        first = True
        while self.next_comment < len(self.comments):
            comment = self.comments[self.next_comment]
            if comment.span.start >= before:
                break
            if first and blank_before and self.lines and self.lines[-1] != "":
                self.blank()
            first = False
            self.next_comment += 1
            for part in comment.text.split("\n"):
                self.lines.append(INDENT * self.depth + part.rstrip() if part.strip() else "")
                self.line_ends.append(None)
            self.line_ends[-1] = self.source.line_of(comment.span.end)
            following = (
                self.comments[self.next_comment] if self.next_comment < len(self.comments) else None
            )
            upto = following.span.start if following and following.span.start < before else before
            if _has_blank_line(self.source.text[comment.span.end : upto]):
                self.blank()  # keep the gap: a `///` right above a declaration is its doc

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")
            self.line_ends.append(None)

    def has_comment_within(self, node: ast.Node) -> bool:
        for comment in self.comments[self.next_comment :]:
            if comment.span.start >= node.span.end:
                return False
            if comment.span.start > node.span.start:
                return True
        return False

    def gap_before(self, previous: ast.Node | None, node: ast.Node) -> bool:
        """Was there a blank line between `previous` and `node` (or its leading comments)?"""
        if previous is None:
            return False
        start = node.span.start
        for comment in self.comments[self.next_comment :]:
            if comment.span.start >= start:
                break
            if comment.span.start > previous.span.end:
                start = comment.span.start
                break
        return _has_blank_line(self.source.text[previous.span.end : start])

    def sequence(self, items: Sequence[ast.Node], printer: Callable[[ast.Node], None]) -> None:
        previous: ast.Node | None = None
        for item in items:
            gap = self.gap_before(previous, item)
            if gap:
                self.blank()
            self.leading(item.span.start, blank_before=False)
            printer(item)
            previous = item

    def block(
        self,
        header: str,
        node: ast.Node,
        items: Sequence[ast.Node],
        printer: Callable[[ast.Node], None],
        head_end: int | None = None,
    ) -> None:
        self.leading(node.span.start)
        if not items and not self.has_comment_within(node):
            self.emit(header + " {}", node.span.end)
            return
        self.emit(header + " {", head_end if head_end is not None else node.span.start)
        self.depth += 1
        self.sequence(items, printer)
        self.leading(node.span.end - 1)
        self.depth -= 1
        self.emit("}", node.span.end)

    def group(
        self, header: str, node: ast.Node, entries: Sequence[ast.Setting], inline_ok: bool = True
    ) -> None:
        """`header { a: x, b: y }` inline when short and comment-free, else one per line."""
        parts = [f"{s.key.text}: {expr(s.value)}" for s in entries]
        inline = f"{header} {{ {', '.join(parts)} }}" if parts else f"{header} {{}}"
        if (
            inline_ok
            and not self.has_comment_within(node)
            and (len(INDENT * self.depth + inline) <= WIDTH)
        ):
            self.leading(node.span.start)
            self.emit(inline, node.span.end)
            return
        self.block(header, node, entries, self.setting)

    def setting(self, node: ast.Node) -> None:
        assert isinstance(node, ast.Setting)
        self.emit(f"{node.key.text}: {expr(node.value)}", node.span.end)

    # -------------------------------------------------------- declarations

    def module(self, module: ast.Module) -> str:
        self.sequence(module.decls, self.decl)
        self.leading(len(self.source.text) + 1, blank_before=True)
        while self.lines and self.lines[-1] == "":
            self.lines.pop()
        return "\n".join(self.lines) + "\n" if self.lines else ""

    def decl(self, node: ast.Node) -> None:
        if isinstance(node, ast.Import):
            self.emit(f"import {node.path.raw}", node.span.end)
        elif isinstance(node, ast.ModelDecl):
            header = f"model {node.name.text} = {node.model_id.raw}"
            if node.settings is None:
                self.emit(header, node.span.end)
            else:
                self.block(header, node, node.settings, self.setting, node.model_id.span.end)
        elif isinstance(node, ast.EnumDecl):
            self.block(
                f"enum {node.name.text}", node, node.values, self.enum_value, node.name.span.end
            )
        elif isinstance(node, ast.ClassDecl):
            self.block(f"class {node.name.text}", node, node.fields, self.field, node.name.span.end)
        elif isinstance(node, ast.SignatureDecl):
            self.signature(node)
        elif isinstance(node, ast.ToolDecl):
            params = ", ".join(
                f"{p.name.text}: {type_str(p.type)}"
                + (f" = {expr(p.default)}" if p.default else "")
                for p in node.params
            )
            self.emit(
                f"tool {node.name.text}({params}) -> {type_str(node.returns)} = {node.target.raw}",
                node.span.end,
            )
        elif isinstance(node, ast.DatasetDecl):
            header = f"dataset {node.name.text} = {node.path.raw}"
            if node.mapping is None:
                self.emit(header, node.span.end)
            else:
                self.group(header, node, node.mapping)
        elif isinstance(node, ast.ProgramDecl):
            self.block(
                f"program {node.name.text}", node, node.items, self.program_item, node.name.span.end
            )
        elif isinstance(node, ast.TestDecl):
            self.block(
                f"test {node.name.text} for {node.program.text}",
                node,
                node.items,
                self.test_item,
                node.program.span.end,
            )

    def enum_value(self, node: ast.Node) -> None:
        assert isinstance(node, ast.EnumValue)
        text = node.name.text + (f" {node.description.raw}" if node.description else "")
        self.emit(text, node.span.end)

    def field(self, node: ast.Node) -> None:
        assert isinstance(node, ast.Field)
        text = f"{node.name.text}: {type_str(node.type)}"
        if node.direction:
            text = f"{node.direction} {text}"
        if node.description is not None:
            text += f" {node.description.raw}"
        for check in node.checks:
            text += f" @{check.name.text}({', '.join(expr(a) for a in check.args)})"
        self.emit(text, node.span.end)

    def signature(self, node: ast.SignatureDecl) -> None:
        self.leading(node.span.start)
        if not node.fields and node.instructions is None and not self.has_comment_within(node):
            self.emit(f"signature {node.name.text} {{}}", node.span.end)
            return
        self.emit(f"signature {node.name.text} {{", node.name.span.end)
        self.depth += 1
        previous: ast.Node | None = None
        if node.instructions is not None:
            self.leading(node.instructions.span.start)
            self.emit(node.instructions.raw, node.instructions.span.end)
            previous = node.instructions
        for item in node.fields:
            if self.gap_before(previous, item):
                self.blank()
            self.leading(item.span.start)
            self.field(item)
            previous = item
        self.leading(node.span.end - 1)
        self.depth -= 1
        self.emit("}", node.span.end)

    # ------------------------------------------------------------ programs

    def program_item(self, node: ast.Node) -> None:
        if isinstance(node, ast.Field):
            self.field(node)
        elif isinstance(node, ast.VarDecl):
            text = f"var {node.name.text}: {domain_str(node.domain)}"
            if node.default is not None:
                text += f" = {expr(node.default)}"
            self.emit(text, node.span.end)
        elif isinstance(node, ast.StepDecl):
            self.step(node)
        elif isinstance(node, ast.ReturnDecl):
            if node.step is not None:
                self.emit(f"return {node.step.text}", node.span.end)
            else:
                self.group("return", node, node.fields or [])
        elif isinstance(node, ast.ConstraintDecl):
            label = f"{node.label.raw}: " if node.label else ""
            self.emit(f"constraint {label}{expr(node.expr)}", node.span.end)
        elif isinstance(node, ast.ObjectiveDecl):
            text = f"objective {node.direction} {node.metric.text}"
            if node.args is not None:
                text += f"({', '.join(expr(a) for a in node.args)})"
            if node.weight is not None:
                text += f" weight {node.weight.raw}"
            self.emit(text, node.span.end)
        elif isinstance(node, ast.BudgetDecl):
            self.emit(f"budget {node.metric.text} <= {expr(node.limit)}", node.span.end)
        elif isinstance(node, ast.OptimizeDecl):
            self.block("optimize", node, node.items, self.optimize_item, node.span.start + 8)

    def step(self, node: ast.StepDecl) -> None:
        args = ", ".join(argument(a) for a in node.args)
        header = f"step {node.name.text} = {node.module.text} {node.signature.text}({args})"
        if node.settings is None:
            self.emit(header, node.span.end)
            return
        self.block(
            header,
            node,
            node.settings,
            self.setting,
            node.args[-1].span.end if node.args else node.signature.span.end,
        )

    def optimize_item(self, node: ast.Node) -> None:
        assert isinstance(node, ast.OptimizeItem)
        text = f"{node.key.text} {expr(node.value)}"
        if node.condition is not None:
            text += f" when {expr(node.condition)}"
        self.emit(text, node.span.end)

    def test_item(self, node: ast.Node) -> None:
        if isinstance(node, ast.TestInput):
            self.group("input", node, node.settings)
        elif isinstance(node, ast.TestExpect):
            self.emit(f"expect {expr(node.expr)}", node.span.end)


def _has_blank_line(between: str) -> bool:
    lines = between.split("\n")
    return len(lines) > 2 and any(not line.strip() for line in lines[1:-1])


def argument(node: ast.Argument) -> str:
    return f"{node.name.text}: {expr(node.value)}" if node.name else expr(node.value)


def expr(node: ast.Expr) -> str:
    if isinstance(node, ast.StringLit | ast.NumberLit | ast.MoneyLit | ast.DurationLit):
        return node.raw
    if isinstance(node, ast.BoolLit):
        return "true" if node.value else "false"
    if isinstance(node, ast.NameRef):
        return node.name.text
    if isinstance(node, ast.ListLit):
        return "[" + ", ".join(expr(i) for i in node.items) + "]"
    if isinstance(node, ast.Member):
        return f"{expr(node.target)}.{node.member.text}"
    if isinstance(node, ast.Call):
        return f"{node.func.text}(" + ", ".join(argument(a) for a in node.args) + ")"
    if isinstance(node, ast.Unary):
        return f"not {expr(node.operand)}" if node.op == "not" else f"-{expr(node.operand)}"
    if isinstance(node, ast.Binary):
        return f"{expr(node.left)} {node.op} {expr(node.right)}"
    if isinstance(node, ast.InList):
        op = "not in" if node.negated else "in"
        return f"{expr(node.target)} {op} {expr(node.options)}"
    if isinstance(node, ast.Paren):
        return f"({expr(node.inner)})"
    raise ValueError("cannot format an expression the parser dropped")


def type_str(node: ast.TypeExpr) -> str:
    if isinstance(node, ast.OptionalType):
        return type_str(node.inner) + "?"
    if isinstance(node, ast.UnionType):
        return " | ".join(o.raw for o in node.options)
    assert isinstance(node, ast.NamedType)
    if node.args:
        return f"{node.name.text}<{', '.join(type_str(a) for a in node.args)}>"
    return node.name.text


def domain_str(node: ast.Domain) -> str:
    if isinstance(node, ast.ChoiceDomain):
        return "[" + ", ".join(expr(o) for o in node.options) + "]"
    if isinstance(node, ast.RangeDomain):
        text = f"{node.kind.text} in {node.low.raw}..{node.high.raw}"
        if node.log:
            text += " log"
        if node.step is not None:
            text += f" step {node.step.raw}"
        return text
    if isinstance(node, ast.NamedDomain):
        return node.name.text
    assert isinstance(node, ast.CallDomain)
    return f"{node.func.text}({node.arg.text})"


def format_module(source: SourceFile, module: ast.Module) -> str:
    return _Printer(source, module).module(module)
