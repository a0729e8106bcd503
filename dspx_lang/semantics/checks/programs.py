"""Programs: fields, variables and their domains, steps, and the return.

Contract: after `check_programs`, every program that binds has a `ProgramInfo`
with resolved inputs, outputs, variables (domain, default), steps (module,
signature, bindings, settings, dependencies) and return bindings. Codes:
E101 (duplicate member), E100/E102 (names), E200 (argument types), E201
(unbound input), E202 (unknown argument or setting), E203 (return), E204
(unknown `step.field`), E205 (step order/cycles), E210 (no model), and the
domain codes E300/E301 (see `variables.py`).
"""

from __future__ import annotations

from dspx_lang.diagnostics import Edit, Fix, Label
from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.checks.typing import literal_fits, literal_type, resolve_field
from dspx_lang.semantics.checks.variables import check_variable, domain_str
from dspx_lang.semantics.context import (
    Context,
    first_defined,
    is_literal,
    literal_value,
    suggest,
)
from dspx_lang.semantics.model import (
    Binding,
    ChoiceDom,
    FieldInfo,
    FloatDom,
    Ident,
    InstructionsDom,
    IntDom,
    ProgramInfo,
    SettingValue,
    SignatureInfo,
    StepInfo,
    Symbol,
    SymbolKind,
    Value,
)
from dspx_lang.semantics.types import UNKNOWN, Type, fits
from dspx_lang.source import Span
from dspx_lang.syntax import ast


class ProgramChecker:
    """Checks one program; `members` is the program's own namespace."""

    def __init__(self, ctx: Context, path: str, scope: dict[str, Symbol], decl: ast.ProgramDecl):
        self.ctx = ctx
        self.path = path
        self.scope = scope
        self.decl = decl
        symbol = scope[decl.name.text]
        self.info = ProgramInfo(decl.name.text, symbol, path, decl)
        # Fields, variables and steps are separate namespaces: `out answer` and
        # `step answer` may coexist (LANGUAGE.md §1); where each is read is unambiguous.
        self.fields: dict[str, Symbol] = {}
        self.vars: dict[str, Symbol] = {}
        self.steps: dict[str, Symbol] = {}

    def run(self) -> ProgramInfo:
        for item in self.decl.items:
            if isinstance(item, ast.Field):
                self.field(item)
        for item in self.decl.items:
            if isinstance(item, ast.VarDecl):
                self.variable(item)
        self.info.default_model = _default_model(self.ctx, self.path, self.scope)
        all_steps = {s.name.text: s for s in self.decl.steps()}
        for item in self.decl.items:
            if isinstance(item, ast.StepDecl):
                self.step(item, all_steps)
        self.returns()
        return self.info

    # ------------------------------------------------------------- members

    def declare(self, name: ast.Name, symbol: Symbol, table: dict[str, Symbol]) -> bool:
        first = table.get(name.text)
        if first is not None:
            self.ctx.error(
                "E101",
                msg.duplicate(name.text, first.kind.value),
                self.path,
                name.span,
                related=[first_defined(first)],
            )
            return False
        table[name.text] = symbol
        return True

    def member(self, name: str) -> Symbol | None:
        """What a bare name in a value position means: a field first, then a step or variable."""
        return self.fields.get(name) or self.steps.get(name) or self.vars.get(name)

    def field(self, node: ast.Field) -> None:
        kind = SymbolKind.INPUT if node.direction == "in" else SymbolKind.OUTPUT
        info = resolve_field(self.ctx, self.path, self.scope, node, kind, self.info.symbol)
        if self.declare(node.name, info.symbol, self.fields):
            target = self.info.inputs if node.direction == "in" else self.info.outputs
            target[info.name] = info

    def variable(self, node: ast.VarDecl) -> None:
        var = check_variable(self.ctx, self.path, self.scope, node, self.info.symbol)
        if var is not None and self.declare(node.name, var.symbol, self.vars):
            self.info.variables[var.name] = var

    # --------------------------------------------------------------- steps

    def step(self, node: ast.StepDecl, all_steps: dict[str, ast.StepDecl]) -> None:
        ctx = self.ctx
        symbol = ctx.model.add_symbol(
            Symbol(
                node.name.text,
                SymbolKind.STEP,
                self.path,
                node.name.span,
                node.span,
                doc=node.doc,
                container=self.info.symbol,
            )
        )
        module, module_is_var = self.module(node.module)
        sig_symbol = ctx.resolve(
            self.path, node.signature, self.scope, (SymbolKind.SIGNATURE,), "signature"
        )
        signature = ctx.model.signatures.get(node.signature.text) if sig_symbol else None
        if not self.declare(node.name, symbol, self.steps) or signature is None or module is None:
            return
        step = StepInfo(node.name.text, symbol, module, module_is_var, signature, node=node)
        symbol.detail = f"{module} {signature.name}"
        self.bind_arguments(step, node, all_steps)
        self.settings(step, node)
        if "model" not in step.settings and self.info.default_model is None:
            ctx.error("E210", msg.no_model(), self.path, node.name.span)
        self.info.steps[step.name] = step

    def module(self, name: ast.Name) -> tuple[str | None, bool]:
        if name.text in B.MODULES:
            self.ctx.refer(self.path, name, self.ctx.builtin(name.text, B.MODULES[name.text]))
            return name.text, False
        var = self.info.variables.get(name.text)
        if var is not None:
            self.ctx.refer(self.path, name, var.symbol)
            if isinstance(var.domain, ChoiceDom) and var.domain.kind == "module":
                var.used = True
                return name.text, True
            self.ctx.error(
                "E102", msg.var_not_module(name.text, domain_str(var.domain)), self.path, name.span
            )
            return None, False
        candidates = [
            *B.MODULES,
            *(
                v
                for v, i in self.info.variables.items()
                if isinstance(i.domain, ChoiceDom) and i.domain.kind == "module"
            ),
        ]
        self.ctx.undefined(self.path, name, candidates, "module")
        return None, False

    def step_modules(self, step: StepInfo) -> set[str]:
        if not step.module_is_var:
            return {step.module}
        domain = self.info.variables[step.module].domain
        assert isinstance(domain, ChoiceDom)
        return {v.name for v in domain.values if isinstance(v, Ident)}

    def output_fields(self, step: StepInfo) -> dict[str, FieldInfo | None]:
        fields: dict[str, FieldInfo | None] = dict(step.signature.outputs)
        modules = self.step_modules(step)
        if "cot" in modules or "react" in modules:
            fields["reasoning"] = None
        if "pot" in modules:
            fields["code"] = None
        return fields

    def bind_arguments(
        self, step: StepInfo, node: ast.StepDecl, all_steps: dict[str, ast.StepDecl]
    ) -> None:
        ctx, path = self.ctx, self.path
        inputs = step.signature.inputs
        attempted: set[str] = set()  # bound, or reported already: never also "unbound"
        for arg in node.args:
            if arg.name is None:
                if not isinstance(arg.value, ast.NameRef):
                    ctx.error("E202", msg.positional_not_name(), path, arg.span)
                    continue
                target = arg.value.name
            else:
                target = arg.name
            field = inputs.get(target.text)
            if field is None and arg.name is None and target.text not in self.info.inputs:
                # `S(quesion)`: a misspelt name, not a wrong input (TOOLCHAIN.md's example).
                candidates = [*self.info.inputs, *inputs]
                ctx.undefined(path, target, candidates)
                guess = suggest(target.text, candidates)
                if guess in inputs:
                    attempted.add(guess)
                continue
            if field is None:
                ctx.undefined(
                    path,
                    target,
                    inputs,
                    code="E202",
                    message=msg.no_such_input(step.signature.name, target.text),
                )
                continue
            if arg.name is not None:
                ctx.refer(path, arg.name, field.symbol)
            if target.text in attempted:
                ctx.error("E202", msg.bound_twice(target.text), path, arg.span)
                continue
            attempted.add(target.text)
            resolved = self.binding(arg.value, step.name, all_steps, step)
            if resolved is None:
                continue
            binding, source_type = resolved
            if not (
                literal_fits(arg.value, field.type)
                if binding.source == "literal"
                else fits(source_type, field.type)
            ):
                ctx.error(
                    "E200",
                    msg.argument_type(target.text, str(field.type), str(source_type)),
                    path,
                    arg.value.span,
                )
                continue
            step.bindings[target.text] = binding
        missing = [name for name in inputs if name not in attempted]
        if missing:
            self.report_unbound(step, node, missing)

    def report_unbound(self, step: StepInfo, node: ast.StepDecl, missing: list[str]) -> None:
        text = self.ctx.model.files[self.path].source.text
        close = text.find(")", node.args[-1].span.end if node.args else node.signature.span.end)
        fixes = []
        parts = []
        for name in missing:
            if name in self.info.inputs:
                parts.append(name)
            else:
                found = next(
                    (s for s in self.info.steps.values() if name in s.signature.outputs), None
                )
                if found is not None:
                    parts.append(f"{name}: {found.name}.{name}")
        if close != -1 and len(parts) == len(missing):
            prefix = ", " if node.args else ""
            fixes.append(
                Fix(
                    f"Add {', '.join(missing)}",
                    (Edit(self.path, Span(close, close), prefix + ", ".join(parts)),),
                )
            )
        self.ctx.error(
            "E201",
            msg.unbound(missing, step.signature.name),
            self.path,
            node.signature.span,
            fixes=fixes,
        )

    def binding(
        self,
        value: ast.Expr,
        current: str | None,
        all_steps: dict[str, ast.StepDecl],
        step: StepInfo | None = None,
    ) -> tuple[Binding, Type] | None:
        """Resolve an argument or return value: input, `step.field`, or literal."""
        ctx, path = self.ctx, self.path
        if is_literal(value):
            literal = literal_value(value)
            return Binding("literal", value=literal), literal_type(value)  # type: ignore[arg-type]
        if isinstance(value, ast.NameRef):
            member = self.member(value.name.text)
            if member is None:
                candidates = [*self.info.inputs, *(f"{s}.…" for s in self.info.steps)]
                ctx.undefined(path, value.name, candidates, "input")
                return None
            ctx.refer(path, value.name, member)
            if member.kind is SymbolKind.INPUT:
                return Binding("input", name=value.name.text), self.info.inputs[
                    value.name.text
                ].type
            ctx.error("E102", msg.not_a_value(value.name.text, member.kind.value), path, value.span)
            return None
        if isinstance(value, ast.Member) and isinstance(value.target, ast.NameRef):
            return self.step_field(value, value.target.name, current, all_steps, step)
        ctx.error("E200", msg.bad_binding(), path, value.span)
        return None

    def step_field(
        self,
        value: ast.Member,
        step_name: ast.Name,
        current: str | None,
        all_steps: dict[str, ast.StepDecl],
        step: StepInfo | None,
    ) -> tuple[Binding, Type] | None:
        ctx, path = self.ctx, self.path
        source = self.info.steps.get(step_name.text)
        failed = self.steps.get(step_name.text)
        if source is None and failed is not None and current is None:
            ctx.refer(path, step_name, failed)
            return None  # the step itself has an error, reported there
        if source is None:
            later = all_steps.get(step_name.text)
            if later is not None and current is not None:
                member = self.steps.get(step_name.text)
                if member is not None:
                    ctx.refer(path, step_name, member)
                cycle = current == step_name.text or self.depends(later, current, all_steps)
                message = (
                    msg.step_cycle(current, step_name.text)
                    if cycle
                    else msg.step_later(step_name.text)
                )
                ctx.error(
                    "E205",
                    message,
                    path,
                    step_name.span,
                    related=[Label(path, later.name.span, f"'{step_name.text}' is defined here")],
                )
                return None
            member = self.member(step_name.text)
            if member is not None:
                ctx.refer(path, step_name, member)
                if member.kind is not SymbolKind.STEP:
                    ctx.error(
                        "E102",
                        msg.wrong_kind(step_name.text, member.kind.value, "step"),
                        path,
                        step_name.span,
                    )
                return None
            ctx.undefined(path, step_name, self.info.steps, "step")
            return None
        ctx.refer(path, step_name, source.symbol)
        fields = self.output_fields(source)
        if value.member.text not in fields:
            ctx.undefined(
                path,
                value.member,
                fields,
                code="E204",
                message=msg.no_such_output(source.name, value.member.text),
            )
            return None
        field = fields[value.member.text]
        if field is not None:
            ctx.refer(path, value.member, field.symbol)
        if step is not None and source.name not in step.depends_on:
            step.depends_on.append(source.name)
        from dspx_lang.semantics.types import STRING

        return Binding("step", name=source.name, field=value.member.text), (
            field.type if field is not None else STRING
        )

    def depends(self, node: ast.StepDecl, target: str, all_steps: dict[str, ast.StepDecl]) -> bool:
        """Does step `node` (transitively) read from step `target`?"""
        seen: set[str] = set()
        stack = [node]
        while stack:
            current = stack.pop()
            for arg in current.args:
                value = arg.value
                if isinstance(value, ast.Member) and isinstance(value.target, ast.NameRef):
                    name = value.target.name.text
                    if name == target:
                        return True
                    if name not in seen and name in all_steps:
                        seen.add(name)
                        stack.append(all_steps[name])
        return False

    # ------------------------------------------------------------ settings

    def settings(self, step: StepInfo, node: ast.StepDecl) -> None:
        for setting in node.settings or []:
            key = setting.key.text
            if key not in B.STEP_SETTINGS:
                self.ctx.undefined(
                    self.path, setting.key, B.STEP_SETTINGS, "step setting", code="E202"
                )
                continue
            if key in step.settings:
                self.ctx.error("E202", msg.setting_twice(key), self.path, setting.key.span)
                continue
            value = self.setting_value(key, setting.value, step.signature)
            if value is not None:
                step.settings[key] = value

    def setting_value(
        self, key: str, value: ast.Expr, signature: SignatureInfo
    ) -> SettingValue | None:
        ctx, path = self.ctx, self.path
        if isinstance(value, ast.NameRef) and value.name.text in self.info.variables:
            var = self.info.variables[value.name.text]
            ctx.refer(path, value.name, var.symbol)
            if not _var_fits(key, var.domain, signature.name):
                ctx.error(
                    "E102",
                    msg.var_setting_kind(value.name.text, key, domain_str(var.domain)),
                    path,
                    value.span,
                )
                return None
            var.used = True
            return SettingValue(var=var.name)
        if key in ("model", "adapter"):
            return self.named_setting(key, value)
        if key == "tools":
            return self.tools(value)
        literal = literal_value(value) if is_literal(value) else None
        ok = {
            "temperature": isinstance(literal, int | float) and not isinstance(literal, bool),
            "instructions": isinstance(value, ast.StringLit),
        }.get(key, isinstance(literal, int) and not isinstance(literal, bool))
        if isinstance(value, ast.NameRef) and not ok:
            self.ctx.undefined(path, value.name, self.info.variables, "variable")
            return None
        if not ok or (isinstance(literal, int | float) and literal < 0):
            ctx.error("E200", msg.setting_type(key, _setting_expectation(key)), path, value.span)
            return None
        assert isinstance(literal, int | float | str)
        return SettingValue(literal=literal)

    def named_setting(self, key: str, value: ast.Expr) -> SettingValue | None:
        ctx, path = self.ctx, self.path
        if not isinstance(value, ast.NameRef):
            ctx.error("E200", msg.setting_type(key, _setting_expectation(key)), path, value.span)
            return None
        if key == "adapter":
            if value.name.text in B.ADAPTERS:
                ctx.refer(
                    path, value.name, ctx.builtin(value.name.text, B.ADAPTERS[value.name.text])
                )
                return SettingValue(literal=Ident(value.name.text))
            ctx.undefined(path, value.name, [*B.ADAPTERS, *self.info.variables], "adapter")
            return None
        symbol = ctx.resolve(path, value.name, self.scope, (SymbolKind.MODEL,), "model")
        return SettingValue(literal=Ident(value.name.text)) if symbol else None

    def tools(self, value: ast.Expr) -> SettingValue | None:
        if not isinstance(value, ast.ListLit) or not all(
            isinstance(i, ast.NameRef) for i in value.items
        ):
            self.ctx.error(
                "E200",
                msg.setting_type("tools", _setting_expectation("tools")),
                self.path,
                value.span,
            )
            return None
        names: list[Value] = []
        for item in value.items:
            assert isinstance(item, ast.NameRef)
            if self.ctx.resolve(self.path, item.name, self.scope, (SymbolKind.TOOL,), "tool"):
                names.append(Ident(item.name.text))
        return SettingValue(literal=names)

    # -------------------------------------------------------------- return

    def returns(self) -> None:
        ctx, path, info = self.ctx, self.path, self.info
        returns = self.decl.returns()
        if not returns:
            if info.outputs:
                ctx.error("E203", msg.no_return(info.name), path, self.decl.name.span)
            return
        for extra in returns[1:]:
            ctx.error(
                "E203",
                msg.return_twice(),
                path,
                extra.span,
                related=[Label(path, returns[0].span, "the first return is here")],
            )
        node = returns[0]
        all_steps = {s.name.text: s for s in self.decl.steps()}
        if node.step is not None:
            self.return_step(node.step)
            return
        failed = False
        for setting in node.fields or []:
            output = info.outputs.get(setting.key.text)
            if output is None:
                ctx.undefined(path, setting.key, info.outputs, "program output", code="E203")
                failed = True
                continue
            ctx.refer(path, setting.key, output.symbol)
            if setting.key.text in info.returns:
                ctx.error("E203", msg.returned_twice(setting.key.text), path, setting.key.span)
                continue
            resolved = self.binding(setting.value, None, all_steps)
            if resolved is None:
                failed = True
                continue
            binding, source_type = resolved
            if not (
                literal_fits(setting.value, output.type)
                if binding.source == "literal"
                else fits(source_type, output.type)
            ):
                ctx.error(
                    "E203",
                    msg.return_type(setting.key.text, str(output.type), str(source_type)),
                    path,
                    setting.value.span,
                )
                failed = True
                continue
            info.returns[setting.key.text] = binding
        missing = [name for name in info.outputs if name not in info.returns]
        if missing and not failed:
            ctx.error("E203", msg.not_returned(missing), path, node.span)

    def return_step(self, name: ast.Name) -> None:
        ctx, path, info = self.ctx, self.path, self.info
        step = info.steps.get(name.text)
        if step is None and name.text in self.steps:
            ctx.refer(path, name, self.steps[name.text])
            return  # the step itself has an error, reported there
        if step is None:
            member = self.member(name.text)
            if member is None:
                ctx.undefined(path, name, [s.name.text for s in self.decl.steps()], "step")
            else:
                ctx.refer(path, name, member)
                if member.kind is not SymbolKind.STEP:
                    ctx.error(
                        "E102",
                        msg.wrong_kind(name.text, member.kind.value, "step"),
                        path,
                        name.span,
                    )
            return
        ctx.refer(path, name, step.symbol)
        fields = self.output_fields(step)
        for output in info.outputs.values():
            if output.name not in fields:
                ctx.error("E203", msg.step_lacks_output(step.name, output.name), path, name.span)
                continue
            field = fields[output.name]
            field_type = field.type if field is not None else UNKNOWN
            if not fits(field_type, output.type):
                ctx.error(
                    "E203",
                    msg.return_type(output.name, str(output.type), str(field_type)),
                    path,
                    name.span,
                )
                continue
            info.returns[output.name] = Binding("step", name=step.name, field=output.name)


def _var_fits(key: str, domain: object, signature: str) -> bool:
    if key == "model":
        return isinstance(domain, ChoiceDom) and domain.kind == "model"
    if key == "adapter":
        return isinstance(domain, ChoiceDom) and domain.kind == "adapter"
    if key == "instructions":
        if isinstance(domain, ChoiceDom):
            return domain.kind == "string"  # a choice among instruction texts
        return isinstance(domain, InstructionsDom) and domain.signature == signature
    if key == "temperature":
        return isinstance(domain, FloatDom | IntDom) or (
            isinstance(domain, ChoiceDom) and domain.kind in ("int", "float")
        )
    if key in ("max_tokens", "demos", "max_iters"):
        return isinstance(domain, IntDom) or (
            isinstance(domain, ChoiceDom) and domain.kind == "int"
        )
    return False


def _setting_expectation(key: str) -> str:
    return {
        "model": "a model name or a variable over models",
        "adapter": "chat, json, markdown or a variable over adapters",
        "temperature": "a non-negative number or a numeric variable",
        "instructions": "a string, a variable over strings, or an instructions(...) variable "
        "of the step's signature",
        "tools": "a list of tool names such as [search, calculator]",
    }.get(key, "a non-negative integer or an int variable")


def _default_model(ctx: Context, path: str, scope: dict[str, Symbol]) -> str | None:
    """The model steps use when they set none: the first model the file can see."""
    models = [s for s in scope.values() if s.kind is SymbolKind.MODEL]
    own = [s for s in models if s.file == path]
    ordered = sorted(own, key=lambda s: s.span.start) or models
    return ordered[0].name if ordered else None


def check_programs(ctx: Context) -> None:
    for path, unit in ctx.model.files.items():
        for decl in unit.module.decls:
            if not isinstance(decl, ast.ProgramDecl):
                continue
            symbol = unit.scope.get(decl.name.text)
            if symbol is None or symbol.span != decl.name.span:
                continue
            info = ProgramChecker(ctx, path, unit.scope, decl).run()
            ctx.model.programs.setdefault(info.name, info)
