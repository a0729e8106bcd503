"""Examples to evaluate a program on: dataset rows mapped to its inputs and expected outputs.

Contract:
- An `Example` is one row: `index` (0-based position in the data), `inputs` (every program
  input, validated and coerced to its declared type), `expected` (the program outputs the
  row has a value for) and `row` (the row as read, for Python metrics that use other
  columns). It reads like a mapping and by attribute (`example.answer`), inputs first; a
  field named like a mapping method (`items`, `keys`, `values`, `get`) reads only as
  `example["items"]`.
- A field is read from the column of the same name unless the mapping says otherwise
  (`{field: column}`, as a `dataset` declaration's `{ answer: "gold_answer" }`).
- `load_examples` accepts a dataset file (`.jsonl`, `.json`, `.csv`, read with
  `dspx_lang.datasets.read_rows`), the name of a dataset the package declares (its mapping
  applies; so does a declared dataset's mapping when its file is given by path), a list of
  row mappings, or `Example`s.
- Every row is checked before anything runs: a missing or ill-typed input, or a missing
  expected value that an objective needs, is a `DspxDataError` naming the example, the row
  and the field (the first few problems, and how many there are). Nothing here calls an LM.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dspx_lang.datasets import DatasetError, read_rows
from dspx_lang.ir import schema as ir
from dspx_lang.runtime.coerce import CoercionError, coercer_for
from dspx_lang.runtime.errors import DspxConfigError

__all__ = ["DspxDataError", "Example", "examples_from_rows", "load_examples", "require_expected"]

_SHOWN_PROBLEMS = 5

Data = str | os.PathLike[str] | Sequence[Mapping[str, Any]]


class DspxDataError(DspxConfigError):
    """The evaluation data cannot be used as it is (file, rows, mapping)."""


@dataclass(frozen=True)
class Example(Mapping[str, Any]):
    """One example; see the module docstring."""

    index: int
    inputs: Mapping[str, Any]
    expected: Mapping[str, Any] = field(default_factory=dict)
    row: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        if key in self.inputs:
            return self.inputs[key]
        return self.expected[key]

    def __iter__(self) -> Iterator[str]:
        yield from self.inputs
        yield from (k for k in self.expected if k not in self.inputs)

    def __len__(self) -> int:
        return len(self.inputs) + sum(k not in self.inputs for k in self.expected)

    def __getattr__(self, name: str) -> Any:
        for part in ("inputs", "expected"):
            values = self.__dict__.get(part)
            if values is not None and name in values:
                return values[name]
        raise AttributeError(f"the example has no field '{name}'")


def load_examples(
    package: ir.Package,
    program: ir.ProgramDecl,
    data: Data,
    *,
    mapping: Mapping[str, str] | None = None,
    limit: int | None = None,
) -> list[Example]:
    """Examples from a file, a declared dataset's name or rows (see the module docstring);
    `mapping` entries override the declared dataset's; `limit` keeps the first rows."""
    if limit is not None and limit < 0:
        raise DspxDataError(f"the example limit must be >= 0, not {limit}")
    if isinstance(data, str | os.PathLike):
        path, declared = _locate(package, os.fspath(data))
        try:
            rows = read_rows(path, limit)
        except DatasetError as exc:
            raise DspxDataError(str(exc)) from None
        merged = {**(declared.mapping if declared else {}), **(mapping or {})}
        return examples_from_rows(package, program, rows, mapping=merged, source=path.name)
    rows_or_examples = list(data)[:limit] if limit is not None else list(data)
    if all(isinstance(r, Example) for r in rows_or_examples):
        return [r for r in rows_or_examples if isinstance(r, Example)]
    return examples_from_rows(package, program, rows_or_examples, mapping=mapping)


def _locate(package: ir.Package, given: str) -> tuple[Path, ir.DatasetDecl | None]:
    path = Path(given)
    if not path.exists() and given in package.datasets:
        declared = package.datasets[given]
        return Path(declared.resolved_path), declared
    resolved = path.resolve()
    for declared in package.datasets.values():
        if Path(declared.resolved_path).resolve() == resolved:
            return path, declared
    if not path.exists() and package.datasets:
        names = ", ".join(package.datasets)
        raise DspxDataError(f"{given}: no such file (the file's datasets: {names})")
    return path, None


def examples_from_rows(
    package: ir.Package,
    program: ir.ProgramDecl,
    rows: Sequence[Mapping[str, Any]],
    *,
    mapping: Mapping[str, str] | None = None,
    source: str = "the data",
) -> list[Example]:
    """Rows (dicts) as examples, every input checked against its declared type."""
    mapping = dict(mapping or {})
    fields = {f.name for f in (*program.inputs, *program.outputs)}
    unknown = sorted(set(mapping) - fields)
    if unknown:
        raise DspxDataError(
            f"the mapping names {', '.join(unknown)}, which the program '{program.name}' does "
            f"not have (its inputs and outputs: {', '.join(sorted(fields))})"
        )
    inputs = [
        (f.name, mapping.get(f.name, f.name), coercer_for(package, f.type, f.checks), f.type)
        for f in program.inputs
    ]
    outputs = [(f.name, mapping.get(f.name, f.name)) for f in program.outputs]
    examples: list[Example] = []
    problems: list[str] = []
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            problems.append(f"{_where(index, source)}: a row must be a mapping of columns")
            continue
        values: dict[str, Any] = {}
        for name, column, coerce, declared in inputs:
            raw = row.get(column)
            if raw is None or (raw == "" and declared.kind == "optional"):
                if declared.kind != "optional":
                    via = f" (column '{column}')" if column != name else ""
                    problems.append(f"{_where(index, source)}: no value for input '{name}'{via}")
                    continue
                values[name] = None
                continue
            try:
                values[name] = coerce(raw, False, name)
            except CoercionError as exc:
                problems.append(
                    f"{_where(index, source)}: input {exc} (declared {coerce.type_text})"
                )
        expected = {name: row[column] for name, column in outputs if row.get(column) is not None}
        examples.append(Example(index, values, expected, dict(row)))
    _raise_problems(problems, source)
    return examples


def require_expected(examples: Sequence[Example], fields: Sequence[str], why: str) -> None:
    """Every example must have an expected value for each of `fields` (`why` names the
    objectives that need them)."""
    problems = [
        f"example {e.index}: no expected value for '{name}' ({why} needs it)"
        for e in examples
        for name in fields
        if e.expected.get(name) is None
    ]
    if problems:
        hint = (
            "; give each row that column, or map another column to the field "
            '(`--map FIELD=COLUMN`, or `{ FIELD: "COLUMN" }` on the dataset declaration)'
        )
        _raise_problems(problems, "the data", hint)


def _where(index: int, source: str) -> str:
    return f"example {index} (row {index + 1} of {source})"


def _raise_problems(problems: list[str], source: str, hint: str = "") -> None:
    if not problems:
        return
    shown = "\n  ".join(problems[:_SHOWN_PROBLEMS])
    more = len(problems) - _SHOWN_PROBLEMS
    tail = f"\n  ... and {more} more" if more > 0 else ""
    raise DspxDataError(f"{source}: {len(problems)} problem(s){hint}:\n  {shown}{tail}")
