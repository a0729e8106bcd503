"""Examples from dataset files: column mapping, typed inputs, and errors that name the row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dspx_lang.codegen.build import compile_source
from dspx_lang.ir import schema as ir
from dspx_lang.runtime.examples import DspxDataError, Example, load_examples, require_expected

SOURCE = """
model fx = "openai/gpt-4o-mini" { api_base: "http://127.0.0.1:9/v1" }

signature Count {
  in items: list<string>
  in limit: int @range(0, 10)
  in note: string?
  out total: int
}

dataset counts = "counts.csv" { total: "gold" }

program count {
  in items: list<string>
  in limit: int @range(0, 10)
  in note: string?
  out total: int
  step c = predict Count(items, limit, note) { model: fx }
  return c
  objective maximize numeric_match(total)
}
"""


@pytest.fixture
def package(tmp_path: Path) -> ir.Package:
    (tmp_path / "counts.csv").write_text(
        'items,limit,note,gold\n"[""a"", ""b""]",3,,2\n"[]",0,empty,0\n', encoding="utf-8"
    )
    path = tmp_path / "count.dspx"
    path.write_text(SOURCE, encoding="utf-8")
    result = compile_source(path)
    assert result.package is not None
    return result.package


def test_a_declared_dataset_is_typed_and_mapped(package: ir.Package, tmp_path: Path) -> None:
    decl = package.programs["count"]
    by_name = load_examples(package, decl, "counts")
    by_path = load_examples(package, decl, tmp_path / "counts.csv")
    assert by_name == by_path
    first = by_name[0]
    assert first.inputs == {"items": ["a", "b"], "limit": 3, "note": None}
    assert first.expected == {"total": "2"}
    assert (first["items"], first.total, first.limit) == (["a", "b"], "2", 3)
    assert dict(first) == {"items": ["a", "b"], "limit": 3, "note": None, "total": "2"}
    assert first.row["gold"] == "2"
    assert [e.index for e in by_name] == [0, 1]


def test_mapping_and_limit(package: ir.Package, tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    rows = [{"xs": ["a"], "limit": 1, "answer": 1}, {"xs": [], "limit": 2, "answer": 0}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    examples = load_examples(
        package,
        package.programs["count"],
        path,
        mapping={"items": "xs", "total": "answer"},
        limit=1,
    )
    assert examples == [
        Example(0, {"items": ["a"], "limit": 1, "note": None}, {"total": 1}, rows[0])
    ]


def test_ill_typed_rows_are_named(package: ir.Package) -> None:
    rows = [
        {"items": ["a"], "limit": 3, "total": 1},
        {"items": "not a list", "limit": 3, "total": 1},
        {"items": [], "limit": 11, "total": 0},
        {"items": [], "total": 0},
    ]
    with pytest.raises(DspxDataError) as caught:
        load_examples(package, package.programs["count"], rows)
    message = str(caught.value)
    assert "3 problem(s)" in message
    assert "example 1 (row 2 of the data): input items: expected a JSON list" in message
    assert "example 2 (row 3 of the data): input limit: 11 is outside the range 0..10" in message
    assert "example 3 (row 4 of the data): no value for input 'limit'" in message


def test_many_problems_are_counted(package: ir.Package) -> None:
    rows = [{"items": [], "total": 0} for _ in range(8)]
    with pytest.raises(DspxDataError, match=r"8 problem\(s\)[\s\S]*\.\.\. and 3 more"):
        load_examples(package, package.programs["count"], rows)


def test_a_missing_expected_value_is_named(package: ir.Package) -> None:
    examples = load_examples(
        package,
        package.programs["count"],
        [{"items": [], "limit": 0, "total": 0}, {"items": [], "limit": 0}],
    )
    with pytest.raises(DspxDataError, match=r"example 1: no expected value for 'total'"):
        require_expected(examples, ["total"], "numeric_match(total)")


def test_bad_mapping_and_files_are_clear(package: ir.Package, tmp_path: Path) -> None:
    decl = package.programs["count"]
    with pytest.raises(DspxDataError, match=r"the mapping names totl, which the program"):
        load_examples(package, decl, [{"items": []}], mapping={"totl": "gold"})
    with pytest.raises(DspxDataError, match=r"no such file \(the file's datasets: counts\)"):
        load_examples(package, decl, tmp_path / "missing.jsonl")
    (tmp_path / "bad.jsonl").write_text('{"items": []}\nnot json\n')
    with pytest.raises(DspxDataError, match=r"bad.jsonl:2: invalid JSON"):
        load_examples(package, decl, tmp_path / "bad.jsonl")
    (tmp_path / "counts.txt").write_text("items\n")
    with pytest.raises(DspxDataError, match=r"unsupported dataset format '.txt'"):
        load_examples(package, decl, tmp_path / "counts.txt")
