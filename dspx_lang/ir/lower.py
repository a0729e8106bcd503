"""Lowering: the semantic model of a checked file -> the IR `Package`.

Contract: `lower(compilation)` runs only on a compilation without errors (else it raises
`LoweringError`, a bug in the caller); it reads the resolved *Info objects, never the AST
except for source positions and texts. The package holds every model, type, signature, tool
and dataset the root file can see, and the programs and tests declared in the root file
itself (an imported file's programs belong to that file's own package). Paths become
absolute; lines are 1-based.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dspx_lang import __version__
from dspx_lang.ir import schema as ir
from dspx_lang.semantics import model as sem
from dspx_lang.semantics import types as T
from dspx_lang.source import Span

if TYPE_CHECKING:  # lowering reads a compilation; it never runs the driver
    from dspx_lang.driver import Compilation

__all__ = ["LoweringError", "lower"]


class LoweringError(Exception):
    """`lower` was asked to lower a compilation that has errors."""


def lower(
    compilation: Compilation, *, estimates: Mapping[str, ir.ProgramEstimate] | None = None
) -> ir.Package:
    """The IR of `compilation`; `estimates` (program name -> estimate) fill `estimate`."""
    if compilation.has_errors:
        raise LoweringError(f"{compilation.root}: cannot lower a file with errors")
    return _Lowerer(compilation, estimates or {}).package()


class _Lowerer:
    def __init__(self, compilation: Compilation, estimates: Mapping[str, ir.ProgramEstimate]):
        self.c = compilation
        self.m = compilation.model
        self.estimates = estimates
        self.root = os.path.normpath(compilation.root)

    # ---------------------------------------------------------------- helpers

    def line(self, file: str, span: Span) -> int:
        unit = self.m.files.get(file)
        return unit.source.line_of(span.start) + 1 if unit is not None else 0

    def text(self, file: str, span: Span) -> str:
        unit = self.m.files.get(file)
        return unit.source.text[span.start : span.end] if unit is not None else ""

    def sym_line(self, symbol: sem.Symbol) -> int:
        return self.line(symbol.file, symbol.decl_span)

    # ---------------------------------------------------------------- package

    def package(self) -> ir.Package:
        m = self.m
        types: dict[str, ir.EnumDecl | ir.ClassDecl] = {}
        for name, enum in m.enums.items():
            types[name] = self.enum(enum)
        for name, cls in m.classes.items():
            types[name] = ir.ClassDecl(
                name=name,
                fields=tuple(self.field(f) for f in cls.fields.values()),
                doc=cls.symbol.doc,
                file=_abs(cls.symbol.file),
                line=self.sym_line(cls.symbol),
            )
        return ir.Package(
            compiler_version=__version__,
            source=self.source_info(),
            models={name: self.model(info) for name, info in m.models.items()},
            types=types,
            signatures={name: self.signature(info) for name, info in m.signatures.items()},
            tools={name: self.tool(info) for name, info in m.tools.items()},
            datasets={name: self.dataset(info) for name, info in m.datasets.items()},
            programs={
                name: self.program(info)
                for name, info in m.programs.items()
                if os.path.normpath(info.file) == self.root
            },
            tests={
                info.name: self.test(info)
                for info in m.tests.values()
                if os.path.normpath(info.symbol.file) == self.root
            },
        )

    def source_info(self) -> ir.SourceInfo:
        files = {
            _abs(path): hashlib.sha256(unit.source.text.encode("utf-8")).hexdigest()
            for path, unit in self.m.files.items()
        }
        digest = hashlib.sha256()
        for path in sorted(files):
            digest.update(f"{path}\0{files[path]}\n".encode())
        return ir.SourceInfo(root=_abs(self.root), hash=digest.hexdigest(), files=files)

    # ----------------------------------------------------------- declarations

    def enum(self, enum: sem.EnumInfo) -> ir.EnumDecl:
        return ir.EnumDecl(
            name=enum.name,
            values=tuple(
                ir.EnumValue(name=v, description=enum.descriptions.get(v), doc=symbol.doc)
                for v, symbol in enum.values.items()
            ),
            doc=enum.symbol.doc,
            file=_abs(enum.symbol.file),
            line=self.sym_line(enum.symbol),
        )

    def model(self, info: sem.ModelInfo) -> ir.ModelDecl:
        s = info.settings
        return ir.ModelDecl(
            name=info.name,
            model_id=info.model_id,
            api_base=_opt_str(s.get("api_base")),
            api_key_env=_opt_str(s.get("api_key_env")),
            input_cost=_opt_float(s.get("input_cost")),
            output_cost=_opt_float(s.get("output_cost")),
            tokens_per_second=_opt_float(s.get("tokens_per_second")),
            first_token_latency_s=_opt_float(s.get("first_token_latency")),
            max_tokens=_opt_int(s.get("max_tokens")),
            temperature=_opt_float(s.get("temperature")),
            context_window=_opt_int(s.get("context_window")),
            timeout_s=_opt_float(s.get("timeout")),
            retries=_opt_int(s.get("retries")),
            concurrency=_opt_int(s.get("concurrency")),
            transport=s.get("transport", "auto"),  # type: ignore[arg-type]
            doc=info.symbol.doc,
            file=_abs(info.symbol.file),
            line=self.sym_line(info.symbol),
        )

    def field(self, info: sem.FieldInfo) -> ir.FieldDecl:
        return ir.FieldDecl(
            name=info.name,
            type=type_ref(info.type),
            description=info.description,
            checks=tuple(ir.Check(kind=c.kind, args=c.args) for c in info.checks),  # type: ignore[arg-type]
            doc=info.doc or info.symbol.doc,
            line=self.sym_line(info.symbol),
        )

    def signature(self, info: sem.SignatureInfo) -> ir.SignatureDecl:
        return ir.SignatureDecl(
            name=info.name,
            instructions=info.instructions,
            inputs=tuple(self.field(f) for f in info.inputs.values()),
            outputs=tuple(self.field(f) for f in info.outputs.values()),
            doc=info.symbol.doc,
            file=_abs(info.symbol.file),
            line=self.sym_line(info.symbol),
        )

    def tool(self, info: sem.ToolInfo) -> ir.ToolDecl:
        return ir.ToolDecl(
            name=info.name,
            params=tuple(
                ir.ParamDecl(
                    name=p.name,
                    type=type_ref(p.type),
                    default=_value(p.default),
                    has_default=p.default is not None,
                )
                for p in info.params
            ),
            returns=type_ref(info.returns),
            target=info.target,
            doc=info.symbol.doc,
            file=_abs(info.symbol.file),
            line=self.sym_line(info.symbol),
        )

    def dataset(self, info: sem.DatasetInfo) -> ir.DatasetDecl:
        return ir.DatasetDecl(
            name=info.name,
            path=info.path,
            resolved_path=_abs(info.resolved_path),
            mapping=dict(info.mapping),
            file=_abs(info.symbol.file),
            line=self.sym_line(info.symbol),
        )

    # --------------------------------------------------------------- programs

    def program(self, info: sem.ProgramInfo) -> ir.ProgramDecl:
        file = info.file
        optimize = None
        if info.optimize is not None:
            o = info.optimize
            optimize = ir.OptimizeDecl(
                trainset=o.trainset,
                devset=o.devset,
                split=o.split,
                samplers=tuple(
                    ir.SamplerRule(
                        sampler=r.sampler,
                        condition=expr(r.condition) if r.condition is not None else None,
                    )
                    for r in o.samplers
                ),
                trials=o.trials,
                max_spend=o.max_spend,
                concurrency=o.concurrency,
                seed=o.seed,
                line=self.line(file, o.node.span),
            )
        return ir.ProgramDecl(
            name=info.name,
            file=_abs(file),
            line=self.sym_line(info.symbol),
            doc=info.symbol.doc,
            inputs=tuple(self.field(f) for f in info.inputs.values()),
            outputs=tuple(self.field(f) for f in info.outputs.values()),
            variables=tuple(self.variable(file, v) for v in info.variables.values()),
            steps=tuple(self.step(file, s) for s in info.steps.values()),
            returns={name: binding(b) for name, b in info.returns.items()},
            constraints=tuple(
                ir.ConstraintDecl(
                    label=c.label,
                    expr=expr(c.expr),
                    text=self.text(file, c.node.expr.span),
                    line=self.line(file, c.node.span),
                )
                for c in info.constraints
            ),
            objectives=tuple(
                ir.ObjectiveDecl(
                    direction=o.direction,
                    metric=o.metric,
                    field=o.field,
                    target=o.target,
                    weight=o.weight,
                    line=self.line(file, o.node.span),
                )
                for o in info.objectives
            ),
            budgets=tuple(
                ir.BudgetDecl(metric=b.metric, limit=b.limit, line=self.line(file, b.node.span))
                for b in info.budgets
            ),
            optimize=optimize,
            default_model=info.default_model,
            estimate=self.estimates.get(info.name),
        )

    def variable(self, file: str, var: sem.VarInfo) -> ir.VariableDecl:
        return ir.VariableDecl(
            name=var.name,
            domain=domain(var.domain),
            default=_scalar(var.default),
            doc=var.symbol.doc,
            line=self.line(file, var.node.span),
        )

    def step(self, file: str, step: sem.StepInfo) -> ir.StepDecl:
        return ir.StepDecl(
            name=step.name,
            module=step.module,
            module_var=step.module_is_var,
            signature=step.signature.name,
            bindings={name: binding(b) for name, b in step.bindings.items()},
            settings={
                key: ir.Setting(value=_value(s.literal), var=s.var)
                for key, s in step.settings.items()
            },
            depends_on=tuple(step.depends_on),
            doc=step.symbol.doc,
            line=self.sym_line(step.symbol),
        )

    def test(self, info: sem.TestInfo) -> ir.TestDecl:
        file = info.symbol.file
        return ir.TestDecl(
            name=info.name,
            program=info.program,
            inputs={k: _value(v) for k, v in info.inputs.items()},
            expects=tuple(
                ir.Expect(
                    expr=expr(e),
                    text=self.text(file, node.expr.span),
                    line=self.line(file, node.span),
                )
                for e, node in info.expects
            ),
            file=_abs(file),
            line=self.sym_line(info.symbol),
        )


# ------------------------------------------------------------------ conversions


def type_ref(t: T.Type) -> ir.TypeRef:
    """The IR form of a resolved type (UNKNOWN never reaches here: no errors)."""
    if isinstance(t, T.Prim):
        return ir.TypeRef(kind=t.name)  # type: ignore[arg-type]
    if isinstance(t, T.ListT):
        return ir.TypeRef(kind="list", elem=type_ref(t.elem))
    if isinstance(t, T.MapT):
        return ir.TypeRef(kind="map", value=type_ref(t.value))
    if isinstance(t, T.OptionalT):
        return ir.TypeRef(kind="optional", inner=type_ref(t.inner))
    if isinstance(t, T.EnumT):
        return ir.TypeRef(kind="enum", name=t.name)
    if isinstance(t, T.ClassT):
        return ir.TypeRef(kind="class", name=t.name)
    if isinstance(t, T.LiteralsT):
        return ir.TypeRef(kind="literals", values=t.values)
    raise LoweringError(f"unresolved type {t!r} in a checked program")


def domain(dom: sem.Dom) -> ir.Domain:
    if isinstance(dom, sem.ChoiceDom):
        return ir.ChoiceDomain(
            of=dom.kind, values=tuple(_scalar(v) for v in dom.values), enum=dom.enum
        )
    if isinstance(dom, sem.IntDom):
        return ir.IntDomain(low=dom.low, high=dom.high, log=dom.log)
    if isinstance(dom, sem.FloatDom):
        return ir.FloatDomain(low=dom.low, high=dom.high, log=dom.log, step=dom.step)
    if isinstance(dom, sem.BoolDom):
        return ir.BoolDomain()
    return ir.InstructionsDomain(signature=dom.signature)


def binding(b: sem.Binding) -> ir.Binding:
    return ir.Binding(source=b.source, name=b.name, field=b.field, value=_value(b.value))


def expr(e: sem.RExpr) -> ir.Expr:
    if isinstance(e, sem.RConst):
        if isinstance(e.value, sem.Ident):
            return ir.ExprConst(value=e.value.name, ident=True)
        return ir.ExprConst(value=e.value)
    if isinstance(e, sem.RVar):
        return ir.ExprVar(name=e.name)
    if isinstance(e, sem.RUnary):
        return ir.ExprUnary(op=e.op, operand=expr(e.operand))  # type: ignore[arg-type]
    if isinstance(e, sem.RBinary):
        return ir.ExprBinary(op=e.op, left=expr(e.left), right=expr(e.right))  # type: ignore[arg-type]
    if isinstance(e, sem.RIn):
        return ir.ExprIn(
            target=expr(e.target), options=tuple(_value(o) for o in e.options), negated=e.negated
        )
    return ir.ExprCall(func=e.func, args=tuple(expr(a) for a in e.args))


def _value(v: sem.Value | list[sem.Value] | None) -> Any:
    if isinstance(v, sem.Ident):
        return v.name
    if isinstance(v, list):
        return [_value(i) for i in v]
    return v


def _scalar(v: sem.Value) -> ir.Scalar:
    return v.name if isinstance(v, sem.Ident) else v


def _abs(path: str) -> str:
    return os.path.abspath(path)


def _opt_str(v: object) -> str | None:
    return v if isinstance(v, str) else None


def _opt_float(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def _opt_int(v: object) -> int | None:
    return int(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
