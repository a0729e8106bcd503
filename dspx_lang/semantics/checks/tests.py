"""Test blocks: inputs and expectations match the program (E501).

Contract: after `check_tests`, each test that checks has a `TestInfo` with its
input values and resolved expectations over the program's fields.
"""

from __future__ import annotations

from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.checks.constraints import IdentLookup
from dspx_lang.semantics.checks.expressions import Resolver, sort_of_type
from dspx_lang.semantics.checks.typing import literal_fits, literal_type
from dspx_lang.semantics.context import Context, is_literal, literal_value
from dspx_lang.semantics.model import SymbolKind, TestInfo
from dspx_lang.semantics.types import OptionalT
from dspx_lang.syntax import ast


def check_tests(ctx: Context) -> None:
    for path, unit in ctx.model.files.items():
        for decl in unit.module.decls:
            if isinstance(decl, ast.TestDecl):
                _test(ctx, path, decl)


def _test(ctx: Context, path: str, decl: ast.TestDecl) -> None:
    scope = ctx.model.files[path].scope
    test_symbol = next(
        (s for s in ctx.model.symbols if s.file == path and s.span == decl.name.span), None
    )
    symbol = ctx.resolve(path, decl.program, scope, (SymbolKind.PROGRAM,), "program")
    program = ctx.model.programs.get(decl.program.text) if symbol else None
    if program is None or test_symbol is None:
        return
    info = TestInfo(decl.name.text, test_symbol, program.name)
    failed = False  # a wrong input is reported once, not again as a missing one
    for setting in decl.inputs():
        field = program.inputs.get(setting.key.text)
        if field is None:
            ctx.undefined(path, setting.key, program.inputs, "program input", code="E501")
            failed = True
            continue
        ctx.refer(path, setting.key, field.symbol)
        if setting.key.text in info.inputs:
            ctx.error("E501", msg.setting_twice(setting.key.text), path, setting.key.span)
            continue
        if not is_literal(setting.value) or not literal_fits(setting.value, field.type):
            ctx.error(
                "E501",
                msg.test_input_type(
                    setting.key.text, str(field.type), str(literal_type(setting.value))
                ),
                path,
                setting.value.span,
            )
            failed = True
            continue
        info.inputs[setting.key.text] = literal_value(setting.value)  # type: ignore[assignment]
    missing = [
        n
        for n, f in program.inputs.items()
        if n not in info.inputs and not isinstance(f.type, OptionalT)
    ]
    if missing and not failed:
        ctx.error("E501", msg.test_missing_inputs(missing), path, decl.name.span)
    env = {
        n: (f.symbol, sort_of_type(f.type))
        for n, f in {**program.inputs, **program.outputs}.items()
    }
    resolver = Resolver(
        ctx,
        path,
        env,
        code="E501",
        unknown_code="E501",
        what="program field",
        functions=B.TEST_FUNCTIONS,
        ident_symbol=IdentLookup(ctx, scope),
    )
    for expect in decl.expects():
        expr = resolver.boolean(expect.expr)
        if expr is not None:
            info.expects.append((expr, expect))
    ctx.model.tests.setdefault(f"{path}::{decl.name.text}", info)
