"""Coercion of LM output (and program inputs) to declared types, and the field checks.

Contract:
- `Coercer.__call__(value, text)` returns the value as its declared type or raises
  `CoercionError` whose message names the (nested) field and says what was expected, fit to
  show the LM. `text=True` means the value is a raw text section (chat/markdown adapters);
  otherwise it is decoded JSON (json adapter, program inputs, tool arguments, sandbox output).
- Only unambiguous repairs: surrounding whitespace, quotes and code fences; trailing commas
  and Python-literal syntax in JSON; `"0.8"` for a float and `"3"` / `3.0` for an int;
  case-insensitive enum and literal values (also `Enum.value`, and wrapped in `**`, `[[ ]]`
  or quotes, as small models write them); `yes`/`no` for bools; a
  Markdown bullet list for a list of scalars; `null`/`none`/empty for an optional.
  Anything else is an error, never a guess.
- Checks (`@range`, `@len`, `@pattern`) run on the coerced value; `@pattern` uses
  `re.search`, like JSON Schema and pydantic. `@tokens` is an estimator hint only.
- Runtime values are plain JSON data: enum values are their names, class values dicts.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dspx_lang.ir import schema as ir

__all__ = ["Coercer", "CoercionError", "coercer_for", "json_object_coercer", "loads_lenient"]

Coerce = Callable[[Any, bool, str], Any]

_FENCE = re.compile(r"^\s*```[A-Za-z0-9_+-]*[ \t]*\n?(.*?)\n?```\s*$", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_INT = re.compile(r"[+-]?\d+")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*\S)\s*$")
_TRUE = frozenset({"true", "yes"})
_FALSE = frozenset({"false", "no"})
_NULL = frozenset({"", "null", "none"})
_WRAPPING = " \t\n*[]\"'`"


class CoercionError(ValueError):
    """A value does not fit its declared type or checks; `path` is the nested field."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.detail = message


class Coercer:
    """Coerces values to one declared type (with the field's checks)."""

    __slots__ = ("_run", "type_text")

    def __init__(self, run: Coerce, type_text: str) -> None:
        self._run = run
        self.type_text = type_text

    def __call__(self, value: Any, text: bool = False, path: str = "") -> Any:
        return self._run(value, text, path)


def coercer_for(package: ir.Package, t: ir.TypeRef, checks: Sequence[ir.Check] = ()) -> Coercer:
    return Coercer(_build(package, t, tuple(checks)), ir.type_text(t))


def choice_coercer(values: Sequence[str]) -> Coercer:
    """One of `values` (the react text protocol's tool names)."""
    return Coercer(_choice(tuple(values), None), " | ".join(json.dumps(v) for v in values))


def json_object_coercer() -> Coercer:
    """Any JSON object (the react text protocol's tool arguments)."""

    def run(value: Any, text: bool, path: str) -> Any:
        if isinstance(value, str):
            value = _parse_json(value, path)
        if not isinstance(value, dict):
            raise CoercionError("expected a JSON object", path)
        return value

    return Coercer(run, "map<string, any>")


def strip_fences(text: str) -> str:
    match = _FENCE.match(text)
    return match.group(1) if match else text


def loads_lenient(text: str) -> Any:
    """JSON with code fences, trailing commas or Python-literal syntax repaired; ValueError
    with json's message when none of them makes it parse."""
    body = strip_fences(text).strip()
    try:
        return json.loads(body)
    except ValueError as exc:
        first = exc
    repaired = _TRAILING_COMMA.sub(r"\1", body)
    try:
        return json.loads(repaired)
    except ValueError:
        pass
    try:
        literal = ast.literal_eval(repaired)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise first from None
    return _from_python(literal)


def _from_python(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_from_python(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _from_python(v) for k, v in value.items()}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise ValueError(f"not JSON data: {type(value).__name__}")


def _parse_json(text: str, path: str) -> Any:
    try:
        return loads_lenient(text)
    except ValueError as exc:
        raise CoercionError(f"expected valid JSON ({exc})", path) from None


def _unquote(text: str) -> str:
    body = strip_fences(text).strip()
    for quote in ('"', "'", "`"):
        if len(body) >= 2 and body[0] == quote and body[-1] == quote:
            return body[1:-1].strip()
    return body


def _unwrap(text: str) -> str:
    """A choice as small models dress it: `**get_weather**`, `[[ get_weather ]]`, `"x".`"""
    return _unquote(text).strip(_WRAPPING).rstrip(".").strip(_WRAPPING)


def _shown(value: Any) -> str:
    shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


# ------------------------------------------------------------------------ builders


def _build(package: ir.Package, t: ir.TypeRef, checks: tuple[ir.Check, ...]) -> Coerce:
    base = _base(package, t)
    active = tuple(c for c in checks if c.kind != "tokens")
    if not active:
        return base
    validators = [_check(c) for c in active]

    def run(value: Any, text: bool, path: str) -> Any:
        result = base(value, text, path)
        if result is not None:
            for validate in validators:
                validate(result, path)
        return result

    return run


def _base(package: ir.Package, t: ir.TypeRef) -> Coerce:
    kind = t.kind
    if kind == "optional" and t.inner is not None:
        return _optional(_build(package, t.inner, ()))
    if kind in _SCALARS:
        return _SCALARS[kind]
    if kind == "literals":
        return _choice(t.values, None)
    if kind == "enum" and t.name is not None:
        decl = package.types[t.name]
        assert isinstance(decl, ir.EnumDecl)
        return _choice(tuple(v.name for v in decl.values), t.name)
    if kind == "list" and t.elem is not None:
        return _list(_build(package, t.elem, ()), t.elem.kind in _SCALARS or t.elem.kind == "enum")
    if kind == "map" and t.value is not None:
        return _map(_build(package, t.value, ()))
    if kind == "class" and t.name is not None:
        return _class(package, t.name)
    raise CoercionError(f"unsupported type {ir.type_text(t)}")


def _string(value: Any, text: bool, path: str) -> Any:
    if isinstance(value, str):
        return value.strip() if text else value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise CoercionError(f"expected a string, got {_shown(value)}", path)


def _int(value: Any, text: bool, path: str) -> Any:
    if isinstance(value, bool):
        raise CoercionError(f"expected an integer, got {_shown(value)}", path)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        body = _unquote(value).rstrip(".")
        if _INT.fullmatch(body):
            return int(body)
        number = _number(body)
        if number is not None and number.is_integer():
            return int(number)
    raise CoercionError(f"expected an integer, got {_shown(value)}", path)


def _float(value: Any, text: bool, path: str) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise CoercionError(f"expected a finite number, got {value}", path)
        return float(value)
    if isinstance(value, str):
        number = _number(_unquote(value))
        if number is not None:
            return number
    raise CoercionError(f"expected a number, got {_shown(value)}", path)


def _number(body: str) -> float | None:
    # "72." ends a sentence: the period is not part of the number.
    body = body.removesuffix(".")
    try:
        number = float(body)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _bool(value: Any, text: bool, path: str) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        word = _unquote(value).rstrip(".").lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    raise CoercionError(f"expected true or false, got {_shown(value)}", path)


_SCALARS: dict[str, Coerce] = {"string": _string, "int": _int, "float": _float, "bool": _bool}


def _choice(values: tuple[str, ...], enum: str | None) -> Coerce:
    exact = frozenset(values)
    folded = {v.lower(): v for v in values}
    listing = ", ".join(values)
    prefix = f"{enum.lower()}." if enum else None

    def run(value: Any, text: bool, path: str) -> Any:
        if isinstance(value, str):
            if value in exact:
                return value
            lowered = _unwrap(value).lower()
            if prefix and lowered.startswith(prefix):
                lowered = lowered[len(prefix) :]
            if lowered in folded:
                return folded[lowered]
        raise CoercionError(f"expected one of: {listing}; got {_shown(value)}", path)

    return run


def _optional(inner: Coerce) -> Coerce:
    def run(value: Any, text: bool, path: str) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and _unquote(value).lower() in _NULL:
            return None
        return inner(value, text, path)

    return run


def _list(elem: Coerce, scalar_items: bool) -> Coerce:
    def run(value: Any, text: bool, path: str) -> Any:
        if isinstance(value, str):
            value = _list_text(value, path, scalar_items)
        if not isinstance(value, list):
            raise CoercionError(f"expected a list, got {_shown(value)}", path)
        return [elem(item, False, f"{path}[{i}]") for i, item in enumerate(value)]

    return run


def _list_text(text: str, path: str, scalar_items: bool) -> Any:
    try:
        return loads_lenient(text)
    except ValueError as exc:
        error = exc
    lines = [line for line in strip_fences(text).splitlines() if line.strip()]
    bullets = [_BULLET.match(line) for line in lines]
    if scalar_items and lines and all(bullets):
        return [m.group(1) for m in bullets if m is not None]
    raise CoercionError(f"expected a JSON list ({error})", path)


def _map(value_coerce: Coerce) -> Coerce:
    def run(value: Any, text: bool, path: str) -> Any:
        if isinstance(value, str):
            value = _parse_json(value, path)
        if not isinstance(value, dict):
            raise CoercionError(f"expected a JSON object, got {_shown(value)}", path)
        return {str(k): value_coerce(v, False, f"{path}.{k}") for k, v in value.items()}

    return run


def _class(package: ir.Package, name: str) -> Coerce:
    # Built on first use: a class may contain itself (through a list or an optional).
    fields: list[tuple[str, Coerce, bool]] = []

    def run(value: Any, text: bool, path: str) -> Any:
        if not fields:
            decl = package.types[name]
            assert isinstance(decl, ir.ClassDecl)
            fields.extend(
                (f.name, _build(package, f.type, f.checks), f.type.kind == "optional")
                for f in decl.fields
            )
        if isinstance(value, str):
            value = _parse_json(value, path)
        if not isinstance(value, Mapping):
            raise CoercionError(f"expected a {name} JSON object, got {_shown(value)}", path)
        result: dict[str, Any] = {}
        for field_name, coerce, optional in fields:
            where = f"{path}.{field_name}" if path else field_name
            if field_name not in value or value[field_name] is None:
                if not optional:
                    raise CoercionError(f"{name} needs the field '{field_name}'", path)
                result[field_name] = None
                continue
            result[field_name] = coerce(value[field_name], False, where)
        return result

    return run


# -------------------------------------------------------------------------- checks


def _check(check: ir.Check) -> Callable[[Any, str], None]:
    if check.kind == "range":
        low, high = float(check.args[0]), float(check.args[1])

        def in_range(value: Any, path: str) -> None:
            if not low <= value <= high:
                raise CoercionError(f"{value} is outside the range {_g(low)}..{_g(high)}", path)

        return in_range
    if check.kind == "len":
        shortest, longest = int(check.args[0]), int(check.args[1])

        def has_len(value: Any, path: str) -> None:
            if not shortest <= len(value) <= longest:
                unit = "items" if isinstance(value, list) else "characters"
                raise CoercionError(
                    f"has {len(value)} {unit}; it must have {shortest} to {longest}", path
                )

        return has_len
    pattern = re.compile(str(check.args[0]))

    def matches(value: Any, path: str) -> None:
        if not pattern.search(value):
            raise CoercionError(
                f"{_shown(value)} does not match the pattern {pattern.pattern}", path
            )

    return matches


def _g(value: float) -> str:
    return f"{value:g}"
