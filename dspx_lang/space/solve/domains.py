"""Internal form of variables: every domain becomes one of three shapes the search splits.

- ENUM: a few *atoms* (choice values, false/true, or an Opaque's default and its class
  of candidates); a sub-domain is a bit mask over atoms. Atoms carry weights: all 1,
  except an Opaque's candidate class, which stands for size-1 interchangeable values
  (None = unknown, counted as infinite). Interchangeable because a candidate equals
  only itself, so every constraint treats all of them alike.
- GRID: `base + k*step` for k in 0..n-1 (int ranges, stepped floats), exact rationals;
  a sub-domain is an index interval `(a, b)`. Huge n is fine: nothing enumerates it.
- REAL: a continuous interval `(lo, hi)` of rationals; never counted, fixed only when
  lo == hi.

Box: a list with one sub-domain entry per variable (its type follows the variable's
shape, hence `Any`). Invariant: every entry is non-empty.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final, TypeAlias

from dspx_lang.space.solve.model import (
    BoolDomain,
    Candidate,
    Choice,
    ConfigValue,
    IntRange,
    Opaque,
    Var,
)
from dspx_lang.space.solve.values import KIND_NUM, IValue, Num, Undef, key, kind, norm, num

ENUM: Final = 0
GRID: Final = 1
REAL: Final = 2

Box: TypeAlias = list[Any]


@dataclass(eq=False, slots=True)
class IVar:
    """One variable in internal form (see the module docstring)."""

    index: int
    name: str
    shape: int
    empty: bool = False
    atoms: tuple[IValue, ...] = ()
    publics: tuple[ConfigValue, ...] = ()
    weights: tuple[int | None, ...] = ()
    opaque: bool = False
    opaque_size: int | None = None
    base: Num = 0
    step: Num = 1
    n: int = 0
    is_float: bool = False
    lo: Num = 0
    hi: Num = 0
    log: bool = False

    @property
    def finite(self) -> bool:
        return self.shape != REAL and None not in self.weights

    @property
    def enumerable(self) -> bool:
        """Whether a predicate can be called on every value (not continuous, not opaque)."""
        return self.shape != REAL and not self.opaque

    def root(self) -> Any:
        if self.shape == ENUM:
            return (1 << len(self.atoms)) - 1
        if self.shape == GRID:
            return (0, self.n - 1)
        return (self.lo, self.hi)

    def size(self) -> int | None:
        return self.weight(self.root())

    def weight(self, entry: Any) -> int | None:
        """The number of configurations of this variable inside `entry` (None: infinite)."""
        if self.shape == GRID:
            return int(entry[1] - entry[0] + 1)
        if self.shape == REAL:
            return None
        total = 0
        for i in bit_indices(entry):
            w = self.weights[i]
            if w is None:
                return None
            total += w
        return total

    def fixed(self, entry: Any) -> bool:
        if self.shape == ENUM:
            return bool(entry & (entry - 1) == 0)
        return bool(entry[0] == entry[1])

    def grid_value(self, k: int) -> Num:
        return self.base + k * self.step

    def public(self, k: int) -> ConfigValue:
        """The public value of atom or grid index `k`."""
        if self.shape == ENUM:
            return self.publics[k]
        value = self.grid_value(k)
        return float(value) if self.is_float else int(value)

    def internal(self, k: int) -> IValue:
        """The normalised value of atom or grid index `k` (for a candidate class: one member)."""
        return self.atoms[k] if self.shape == ENUM else self.grid_value(k)

    def locate(self, value: ConfigValue) -> int | None:
        """The atom/grid index holding `value`, or None when outside the domain (REAL: 0)."""
        if self.opaque and isinstance(value, Candidate) and value.var == self.name:
            size = self.opaque_size
            return 1 if value.index >= 1 and (size is None or value.index < size) else None
        v = norm(value)
        if isinstance(v, Undef):
            return None
        if self.shape == ENUM:
            wanted = key(v)
            for i, atom in enumerate(self.atoms):
                if key(atom) == wanted and not isinstance(atom, Candidate):
                    return i
            return None
        if kind(v) != KIND_NUM:
            return None
        x: Num = v  # type: ignore[assignment]
        if self.shape == REAL:
            return 0 if self.lo <= x <= self.hi else None
        k = Fraction(x - self.base) / self.step
        if k.denominator != 1 or not 0 <= k.numerator < self.n:
            return None
        return k.numerator

    def expand(self, k: int) -> Iterator[ConfigValue]:
        """Every public value of atom `k` (an Opaque candidate class expands to its members)."""
        if not (self.opaque and k == 1):
            yield self.public(k)
            return
        if self.opaque_size is None:
            raise ValueError(f"`{self.name}` has an unknown number of candidates")
        for i in range(1, self.opaque_size):
            yield Candidate(self.name, i)


def bit_indices(mask: int) -> Iterator[int]:
    """Indices of the set bits of `mask`, ascending."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def runs(mask: int) -> Iterator[tuple[int, int]]:
    """Maximal runs `(first, last)` of consecutive set bits of `mask`, ascending."""
    while mask:
        low = (mask & -mask).bit_length() - 1
        shifted = mask >> low
        length = (shifted ^ (shifted + 1)).bit_length() - 1
        yield (low, low + length - 1)
        mask &= ~(((1 << length) - 1) << low)


def _exact(value: float) -> Num | None:
    v = norm(value)
    if isinstance(v, Undef) or kind(v) != KIND_NUM:
        return None
    return v  # type: ignore[return-value]


def build(index: int, var: Var) -> IVar:
    """The internal form of `var`; a malformed domain yields an `empty` variable."""
    dom = var.domain
    iv = IVar(index, var.name, ENUM)
    if isinstance(dom, BoolDomain):
        iv.atoms, iv.publics, iv.weights = (False, True), (False, True), (1, 1)
    elif isinstance(dom, Choice):
        seen: dict[tuple[int, IValue], None] = {}
        publics: list[ConfigValue] = []
        for value in dom.values:
            v = norm(value)
            if isinstance(v, Undef):
                iv.empty = True
            elif key(v) not in seen:
                seen[key(v)] = None
                publics.append(value)
        iv.atoms = tuple(atom for _, atom in seen)
        iv.publics = tuple(publics)
        iv.weights = (1,) * len(publics)
        iv.empty = iv.empty or not publics
    elif isinstance(dom, Opaque):
        d = norm(var.default)
        iv.opaque, iv.opaque_size = True, dom.size
        if isinstance(d, Undef) or (dom.size is not None and dom.size < 1):
            iv.empty = True
        elif dom.size == 1:
            iv.atoms, iv.publics, iv.weights = (d,), (var.default,), (1,)
        else:
            other = Candidate(var.name, 1)
            rest = None if dom.size is None else dom.size - 1
            iv.atoms, iv.publics, iv.weights = (d, other), (var.default, other), (1, rest)
    elif isinstance(dom, IntRange):
        iv.shape, iv.base, iv.step = GRID, dom.lo, 1
        iv.n = max(0, dom.hi - dom.lo + 1)
        iv.empty = iv.n == 0
    else:
        lo, hi = _exact(dom.lo), _exact(dom.hi)
        step = None if dom.step is None else _exact(dom.step)
        if lo is None or hi is None or hi < lo or (dom.step is not None and not step):
            iv.shape, iv.empty = REAL, True
        elif step is None:
            iv.shape, iv.lo, iv.hi, iv.log = REAL, lo, hi, dom.log
        elif step < 0:
            iv.shape, iv.empty = GRID, True
        else:
            iv.shape, iv.base, iv.step, iv.is_float = GRID, lo, step, True
            iv.n = math.floor(Fraction(hi - lo) / step) + 1
            iv.lo, iv.hi, iv.log = lo, hi, dom.log
    if iv.shape == GRID and not iv.empty:
        iv.base, iv.step = num(Fraction(iv.base)), num(Fraction(iv.step))
    return iv
