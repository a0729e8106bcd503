"""Objective metrics of LANGUAGE.md §5 and the `Scorer` that applies a program's objectives.

Contract:
- Field metrics take `(predicted, expected)` values of one output field and return a float
  in [0, 1]; they never raise. Values are compared as text: enums by their value, numbers
  without a trailing `.0`, lists and objects as canonical JSON (`as_text`).
  - `exact_match`: equal once surrounding whitespace is stripped and case folded; symmetric.
  - `f1`: SQuAD token F1 (lower case, punctuation and the articles a/an/the removed); two
    texts with no tokens score 1. Symmetric; `f1(x, x) == 1`.
  - `contains`: the expected text, case folded with runs of whitespace collapsed, occurs in
    the predicted text normalised the same way (an empty expected text is always contained).
  - `numeric_match`: the last number of each text (`last_number`) is equal as a decimal;
    0 when either has none.
- An expected value that is a list for a field whose type is not a list holds alternative
  answers: the score is the best over them (as SQuAD scores several gold answers).
- `metric("module:function")` objectives are resolved when the `Scorer` is built, the way
  `react` tools are (`tools.resolve_tool`: next to the declaring `.dspx` file first, then
  `sys.path`), so a bad target fails before any LM call. The callable gets
  `(example, prediction)` and returns a bool or a finite real number (an async function is
  awaited); anything else, or an exception, is a `MetricError` for that example.
- Objective weights are normalised to sum to 1 (a missing weight counted 1 at compile time).
"""

from __future__ import annotations

import inspect
import json
import math
import numbers
import re
import string
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Literal

from dspx_lang.ir import schema as ir
from dspx_lang.runtime.errors import DspxConfigError, DspxError
from dspx_lang.runtime.tools import resolve_tool

__all__ = [
    "FIELD_METRICS",
    "MEASURED",
    "MetricError",
    "Objective",
    "Scorer",
    "as_text",
    "contains",
    "exact_match",
    "f1",
    "last_number",
    "numeric_match",
    "objectives_of",
]

Direction = Literal["maximize", "minimize"]
MEASURED = ("cost", "latency", "tokens")

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
# A number: optional sign (ASCII or U+2212), digits with optional thousands commas, an
# optional decimal part and exponent; or a bare decimal part (".5"). A sign counts only
# after a non-word character ("5-3" is 5 then 3, not -3); a number never starts inside
# another one ("1.2.3" is 1.2 only). Digits glued to letters count ("v1.2" is 1.2).
_NUMBER = re.compile(
    r"(?:(?<![\w.])[-+\u2212])?(?<![\d.])"
    r"(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
)


class MetricError(DspxError):
    """A `metric(...)` objective raised or returned something that is not a score."""


def as_text(value: Any) -> str:
    """The text a field metric compares: enum values, `3` for 3.0, canonical JSON for data."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(_plain(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def exact_match(predicted: Any, expected: Any) -> float:
    return float(as_text(predicted).strip().casefold() == as_text(expected).strip().casefold())


def _squad_tokens(value: Any) -> list[str]:
    text = as_text(value).lower().translate(_PUNCTUATION)
    return _ARTICLES.sub(" ", text).split()


def f1(predicted: Any, expected: Any) -> float:
    ours, gold = _squad_tokens(predicted), _squad_tokens(expected)
    if not ours or not gold:
        return float(ours == gold)
    same = sum((Counter(ours) & Counter(gold)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(ours), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def _folded(value: Any) -> str:
    return " ".join(as_text(value).split()).casefold()


def contains(predicted: Any, expected: Any) -> float:
    return float(_folded(expected) in _folded(predicted))


def last_number(value: Any) -> Decimal | None:
    """The last number written in `value`'s text: `-1,234.50` is -1234.5, `1e3` is 1000,
    `$5.` is 5, `50%` is 50, `v1.2` is 1.2; thousands commas only in groups of three (`1,2`
    is 1 then 2); a minus sign counts after a space or punctuation, not a letter or digit."""
    found = _NUMBER.findall(as_text(value))
    if not found:
        return None
    token = found[-1].replace(",", "").replace("\u2212", "-")
    try:
        number = Decimal(token)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def numeric_match(predicted: Any, expected: Any) -> float:
    ours, gold = last_number(predicted), last_number(expected)
    return float(ours is not None and gold is not None and ours == gold)


FIELD_METRICS: dict[str, Callable[[Any, Any], float]] = {
    "exact_match": exact_match,
    "f1": f1,
    "contains": contains,
    "numeric_match": numeric_match,
}


@dataclass(frozen=True, slots=True)
class Objective:
    """One objective, named as written (`exact_match(intent)`, `metric("m:f")`, `cost`);
    `weight` is normalised (the weights of a program's objectives sum to 1)."""

    name: str
    metric: str
    direction: Direction
    weight: float
    field: str | None = None
    target: str | None = None

    @property
    def measured(self) -> bool:
        return self.metric in MEASURED


def objective_name(decl: ir.ObjectiveDecl) -> str:
    if decl.metric == "metric":
        return f'metric("{decl.target}")'
    return f"{decl.metric}({decl.field})" if decl.field else decl.metric


def objectives_of(decls: Sequence[ir.ObjectiveDecl]) -> tuple[Objective, ...]:
    """The objectives with normalised weights; a repeated name gets `#2`, `#3`..."""
    total = sum(d.weight for d in decls)
    seen: Counter[str] = Counter()
    objectives = []
    for decl in decls:
        if decl.metric not in FIELD_METRICS and decl.metric not in (*MEASURED, "metric"):
            raise DspxConfigError(f"unknown objective metric '{decl.metric}'")
        name = objective_name(decl)
        seen[name] += 1
        objectives.append(
            Objective(
                name=name if seen[name] == 1 else f"{name}#{seen[name]}",
                metric=decl.metric,
                direction=decl.direction,
                weight=decl.weight / total if total > 0 else 1.0 / len(decls),
                field=decl.field,
                target=decl.target,
            )
        )
    return tuple(objectives)


class Scorer:
    """Scores one example's prediction on the quality objectives (field and Python metrics)."""

    def __init__(
        self, package: ir.Package, program: ir.ProgramDecl, objectives: Sequence[Objective]
    ) -> None:
        self.objectives = tuple(objectives)
        self.quality = tuple(o for o in self.objectives if not o.measured)
        outputs = {f.name: f for f in program.outputs}
        for o in self.quality:
            if o.field is not None and o.field not in outputs:
                known = ", ".join(outputs)
                raise DspxConfigError(
                    f"objective {o.name}: the program has no output '{o.field}' (its outputs: "
                    f"{known})",
                    program=program.name,
                )
        self._list_fields = {n for n, f in outputs.items() if _is_list(f.type)}
        self._custom = {
            o.name: _resolve_metric(package, program, o.target)
            for o in self.quality
            if o.target is not None
        }

    @property
    def fields(self) -> tuple[str, ...]:
        """The output fields whose expected values the field metrics need."""
        return tuple(dict.fromkeys(o.field for o in self.quality if o.field is not None))

    def zeros(self) -> dict[str, float]:
        """The scores of an example whose output failed (the program's fault)."""
        return dict.fromkeys((o.name for o in self.quality), 0.0)

    async def score(
        self, example: Any, outputs: Mapping[str, Any], prediction: Any
    ) -> dict[str, float]:
        """Each quality objective's score; `MetricError` when a Python metric fails."""
        scores: dict[str, float] = {}
        for o in self.quality:
            if o.field is not None:
                metric = FIELD_METRICS[o.metric]
                expected = example.expected.get(o.field)
                options = (
                    expected
                    if isinstance(expected, list) and o.field not in self._list_fields
                    else [expected]
                )
                predicted = outputs.get(o.field)
                scores[o.name] = max((metric(predicted, e) for e in options), default=0.0)
            else:
                scores[o.name] = await self._custom_score(o.name, example, prediction)
        return scores

    async def _custom_score(self, name: str, example: Any, prediction: Any) -> float:
        function = self._custom[name]
        try:
            value = function(example, prediction)
            if inspect.isawaitable(value):
                value = await value
        except Exception as exc:  # the user's metric failed on this example
            raise MetricError(f"{name} raised {type(exc).__name__}: {exc}") from exc
        if isinstance(value, bool):
            return float(value)
        if isinstance(value, numbers.Real) and math.isfinite(float(value)):
            return float(value)
        raise MetricError(
            f"{name} returned {value!r} ({type(value).__name__}); a metric returns a finite "
            "number or a bool"
        )


def _is_list(t: ir.TypeRef) -> bool:
    return t.kind == "list" or (t.kind == "optional" and t.inner is not None and _is_list(t.inner))


def _resolve_metric(
    package: ir.Package, program: ir.ProgramDecl, target: str
) -> Callable[..., Any]:
    """The callable of `metric("module:function")`, found like a tool of the program's file."""
    decl = ir.ToolDecl(
        name=f'metric("{target}")',
        params=(),
        returns=ir.TypeRef(kind="float"),
        target=target,
        file=program.file,
    )
    return resolve_tool(package, decl).function
