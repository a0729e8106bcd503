"""Enumerating and sampling feasible configurations (for the optimizer's samplers).

- `iterate`: lexicographic in declaration order (the first variable varies slowest),
  each domain in its own order; lazy. Boxes the constraints rule out are pruned and
  sub-boxes proven empty skipped, so work stays roughly proportional to the output.
- `sample`: per connected group of constraints, exactly uniform by walking the
  counting search (each child drawn in proportion to its count) when the group is
  finite and counted; otherwise by rejection from the domains (uniform, log-uniform for
  `log` float ranges). Predicates that are not statically decidable are enforced by
  rejection on top of the exact draw, which keeps it uniform over the feasible set.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from dspx_lang.space.solve.domains import ENUM, REAL, Box, IVar, bit_indices
from dspx_lang.space.solve.model import Candidate, ConfigValue
from dspx_lang.space.solve.problem import Group, Space

MAX_ATTEMPTS = 10_000
"""Draws per requested configuration before a sampler gives up."""

Draw = Callable[[random.Random], dict[str, ConfigValue]]


class InfiniteSpaceError(ValueError):
    """Enumeration was asked of a space with a continuous or unknown-size domain."""


class SamplingError(ValueError):
    """No feasible configuration could be drawn (empty space, or too sparse to hit)."""


def iterate(space: Space) -> Iterator[dict[str, ConfigValue]]:
    infinite = [iv.name for iv in space.ivars if not iv.finite]
    if infinite:
        raise InfiniteSpaceError(
            f"cannot enumerate: {', '.join(infinite)} has an infinite or unknown domain"
        )
    if space.empty:
        return iter(())
    undecidable = [p for p in range(len(space.constraints)) if p not in space.con_of]
    return _iterate(space, tuple(space.con_of.values()), undecidable)


def _iterate(
    space: Space, cons: tuple[int, ...], undecidable: list[int]
) -> Iterator[dict[str, ConfigValue]]:
    """Depth-first over boxes with an explicit stack (no recursion limit on deep spaces).

    A stack entry is (constraints left, box, next variable to list, values listed so far).
    """
    search, ivars = space.search, space.ivars
    stack: list[tuple[tuple[int, ...], Box, int, dict[str, ConfigValue]]] = [
        (cons, space.root_box(), 0, {})
    ]
    while stack:
        cons, box, pos, prefix = stack.pop()
        remaining = search.evaluate(cons, box)
        if remaining is None:
            continue
        if not remaining:
            for config in _product(ivars[pos:], box, prefix):
                if all(space.holds(p, config) for p in undecidable):
                    yield config
            continue
        search.budget(space.limits.check_nodes)
        if search.find(range(len(ivars)), remaining, box) is False:
            continue
        left, iv = tuple(remaining), ivars[pos]
        if iv.fixed(box[pos]):
            # A fixed entry may still hold several values (an Opaque's candidates).
            entries = [
                (box, pos + 1, {**prefix, iv.name: value}) for value in _values(iv, box[pos])
            ]
        else:
            entries = [(child, pos, prefix) for child in search.children(pos, box, remaining)]
        stack.extend((left, *entry) for entry in reversed(entries))


def _values(iv: IVar, entry: Any) -> Iterator[ConfigValue]:
    if iv.shape == ENUM:
        for i in bit_indices(entry):
            yield from iv.expand(i)
    else:
        for k in range(entry[0], entry[1] + 1):
            yield iv.public(k)


def _product(
    ivars: Sequence[IVar], box: Box, prefix: dict[str, ConfigValue]
) -> Iterator[dict[str, ConfigValue]]:
    """Every configuration of a box extending `prefix`, the first variable varying slowest."""
    config = dict(prefix)

    def rec(i: int) -> Iterator[dict[str, ConfigValue]]:
        if i == len(ivars):
            yield dict(config)
            return
        for value in _values(ivars[i], box[ivars[i].index]):
            config[ivars[i].name] = value
            yield from rec(i + 1)

    return rec(0)


def sample(space: Space, rng: random.Random, n: int) -> list[dict[str, ConfigValue]]:
    if space.empty:
        raise SamplingError(f"empty domain: {', '.join(space.empty)}")
    unsized = [iv.name for iv in space.ivars if iv.opaque and iv.opaque_size is None]
    if unsized:
        raise SamplingError(f"give the number of candidates of {', '.join(unsized)}")
    grouped = {v for g in space.groups for v in g.vars}
    loose = [iv for iv in space.ivars if iv.index not in grouped]
    draws = [_group_draw(space, g) for g in space.groups]
    out = []
    for _ in range(n):
        config = {iv.name: uniform(iv, iv.root(), rng) for iv in loose}
        for draw in draws:
            config.update(draw(rng))
        out.append({v.name: config[v.name] for v in space.vars})
    return out


def _group_draw(space: Space, group: Group) -> Draw:
    search, root = space.search, space.root_box()
    exact = all(space.ivars[v].finite for v in group.vars)
    if exact:
        search.budget(space.limits.count_nodes)
        tally = search.count(group.vars, group.decidable, root)
        if tally.sat is False:
            raise SamplingError("the constraints have no common solution")
        exact = tally.count is not None

    def draw(rng: random.Random) -> dict[str, ConfigValue]:
        for _ in range(MAX_ATTEMPTS):
            if exact:
                search.budget(space.limits.count_nodes)
                config = _walk(space, group.vars, group.decidable, root, rng)
            else:
                config = {
                    space.ivars[v].name: uniform(space.ivars[v], root[v], rng) for v in group.vars
                }
            if config is not None and all(space.holds(p, config) for p in group.positions):
                return config
        raise SamplingError(f"no feasible configuration in {MAX_ATTEMPTS} draws")

    return draw


def _walk(
    space: Space, vars: Sequence[int], cons: Sequence[int], box: Box, rng: random.Random
) -> dict[str, ConfigValue] | None:
    """One uniform draw from the feasible points of `box` (None if counting ran out)."""
    search, ivars = space.search, space.ivars
    remaining = search.evaluate(cons, box)
    if remaining is None:
        return None
    free, comps = search.split(vars, remaining, box)
    out = {ivars[v].name: uniform(ivars[v], box[v], rng) for v in free}
    for cvars, ccons in comps:
        children = list(search.children(search.choose(cvars, ccons), box, ccons))
        weights = [search.count(cvars, ccons, child).count for child in children]
        if None in weights:
            return None
        r = rng.randrange(sum(w for w in weights if w is not None))
        for child, w in zip(children, weights, strict=True):
            assert w is not None
            if r < w:
                part = _walk(space, cvars, ccons, child, rng)
                if part is None:
                    return None
                out.update(part)
                break
            r -= w
    return out


def uniform(iv: IVar, entry: Any, rng: random.Random) -> ConfigValue:
    """A uniform draw from a box entry (log-uniform for a positive `log` real range)."""
    if iv.shape == REAL:
        lo, hi = float(entry[0]), float(entry[1])
        if iv.log and lo > 0:
            x = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        else:
            x = rng.uniform(lo, hi)
        # Rounding may step just outside the range; the domain is closed, so clamp.
        return min(max(x, lo), hi)
    if iv.shape != ENUM:
        return iv.public(rng.randint(entry[0], entry[1]))
    atoms = list(bit_indices(entry))
    weights = [iv.weights[i] or 0 for i in atoms]
    r = rng.randrange(sum(weights))
    for i, w in zip(atoms, weights, strict=True):
        if r < w:
            return Candidate(iv.name, r + 1) if iv.opaque and i == 1 else iv.publics[i]
        r -= w
    raise AssertionError("unreachable: r < sum(weights)")
