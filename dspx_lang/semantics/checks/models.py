"""Model declarations: settings keys and value types.

Contract: after `check_models`, every model declaration that binds has a
`ModelInfo` with its settings as Python values (durations in seconds). Unknown
keys and keys set twice are E202; values of the wrong type are E200.
"""

from __future__ import annotations

from dspx_lang.diagnostics import messages as msg
from dspx_lang.semantics import builtins as B
from dspx_lang.semantics.context import Context, is_literal, literal_value
from dspx_lang.semantics.model import ModelInfo
from dspx_lang.syntax import ast

TRANSPORTS = ("auto", "native", "litellm")


def check_models(ctx: Context) -> None:
    for path, unit in ctx.model.files.items():
        for decl in unit.module.decls:
            if not isinstance(decl, ast.ModelDecl):
                continue
            symbol = unit.scope.get(decl.name.text)
            if symbol is None or symbol.span != decl.name.span:
                continue
            info = ModelInfo(decl.name.text, decl.model_id.value, symbol)
            symbol.detail = decl.model_id.value
            if "/" not in decl.model_id.value:
                ctx.error("E202", msg.model_id(decl.model_id.value), path, decl.model_id.span)
            for setting in decl.settings or []:
                value = _setting(ctx, path, setting, info)
                if value is not None:
                    info.settings[setting.key.text] = value
            ctx.model.models.setdefault(decl.name.text, info)


def _setting(ctx: Context, path: str, setting: ast.Setting, info: ModelInfo) -> str | float | None:
    key = setting.key.text
    spec = B.MODEL_SETTINGS.get(key)
    if spec is None:
        ctx.undefined(path, setting.key, B.MODEL_SETTINGS, "model setting", code="E202")
        return None
    if key in info.settings:
        ctx.error("E202", msg.setting_twice(key), path, setting.key.span)
        return None
    value = literal_value(setting.value) if is_literal(setting.value) else None
    expected = {
        "string": "a string",
        "number": "a number",
        "int": "an integer",
        "duration": "a duration such as 30s",
    }[spec.kind]
    ok = {
        "string": isinstance(setting.value, ast.StringLit),
        "number": isinstance(value, int | float)
        and not isinstance(value, bool)
        and not isinstance(setting.value, ast.DurationLit | ast.MoneyLit),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "duration": isinstance(setting.value, ast.DurationLit),
    }[spec.kind]
    if not ok:
        ctx.error("E200", msg.setting_type(key, expected), path, setting.value.span)
        return None
    assert isinstance(value, str | int | float)
    if isinstance(value, int | float) and value < 0:
        ctx.error("E200", msg.setting_negative(key), path, setting.value.span)
        return None
    if key == "transport" and value not in TRANSPORTS:
        ctx.error("E200", msg.setting_choice(key, TRANSPORTS), path, setting.value.span)
        return None
    return value
