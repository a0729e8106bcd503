"""Field types of the language and the rules for fitting one into another.

Contract: types are immutable values with structural equality. `UNKNOWN`
stands for a type that failed to resolve (already reported); it fits
everything and everything fits it, so one mistake yields one diagnostic.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Type:
    def __str__(self) -> str:
        return type_str(self)


@dataclass(frozen=True, slots=True)
class Prim(Type):
    name: str  # string | int | float | bool


@dataclass(frozen=True, slots=True)
class ListT(Type):
    elem: Type


@dataclass(frozen=True, slots=True)
class MapT(Type):
    value: Type


@dataclass(frozen=True, slots=True)
class OptionalT(Type):
    inner: Type


@dataclass(frozen=True, slots=True)
class EnumT(Type):
    name: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClassT(Type):
    name: str


@dataclass(frozen=True, slots=True)
class LiteralsT(Type):
    """A union of string literals such as `"yes" | "no"`."""

    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UnknownT(Type):
    pass


STRING = Prim("string")
INT = Prim("int")
FLOAT = Prim("float")
BOOL = Prim("bool")
UNKNOWN = UnknownT()
PRIMITIVES = {"string": STRING, "int": INT, "float": FLOAT, "bool": BOOL}
GENERICS = {"list": 1, "map": 2}


def type_str(t: Type) -> str:
    if isinstance(t, Prim):
        return t.name
    if isinstance(t, ListT):
        return f"list<{type_str(t.elem)}>"
    if isinstance(t, MapT):
        return f"map<string, {type_str(t.value)}>"
    if isinstance(t, OptionalT):
        return f"{type_str(t.inner)}?"
    if isinstance(t, EnumT | ClassT):
        return t.name
    if isinstance(t, LiteralsT):
        return " | ".join(f'"{v}"' for v in t.values)
    return "<unknown>"


def strip_optional(t: Type) -> Type:
    return t.inner if isinstance(t, OptionalT) else t


def fits(source: Type, target: Type) -> bool:
    """Can a value of type `source` bind a field of type `target`?

    `T` fits `T?`; `int` fits `float`; a literal union fits `string` and any
    union containing all its values; `list<T>` needs `list<T>` exactly.
    """
    if isinstance(source, UnknownT) or isinstance(target, UnknownT):
        return True
    if isinstance(target, OptionalT):
        inner = source.inner if isinstance(source, OptionalT) else source
        return fits(inner, target.inner)
    if isinstance(source, OptionalT):
        return False
    if source == target:
        return True
    if source == INT and target == FLOAT:
        return True
    if isinstance(source, LiteralsT):
        if target == STRING:
            return True
        if isinstance(target, LiteralsT | EnumT):
            return set(source.values) <= set(target.values)
    if isinstance(source, ListT) and isinstance(target, ListT):
        return _same(source.elem, target.elem)
    if isinstance(source, MapT) and isinstance(target, MapT):
        return _same(source.value, target.value)
    return False


def _same(a: Type, b: Type) -> bool:
    return isinstance(a, UnknownT) or isinstance(b, UnknownT) or a == b


def is_numeric(t: Type) -> bool:
    return strip_optional(t) in (INT, FLOAT)


def is_sized(t: Type) -> bool:
    """Types `@len` applies to."""
    inner = strip_optional(t)
    return inner == STRING or isinstance(inner, ListT | LiteralsT)


def is_textual(t: Type) -> bool:
    """Types `@pattern` applies to."""
    inner = strip_optional(t)
    return inner == STRING or isinstance(inner, LiteralsT)
