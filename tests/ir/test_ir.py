"""The IR: lowering the examples, exact JSON round-trips, versioning, and running a program
from the IR alone (no compiler imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.lm_server import FakeLMServer
from hypothesis import given
from hypothesis import strategies as st

from dspx_lang.driver import Session
from dspx_lang.ir import (
    IRVersionError,
    Package,
    package_from_json,
    read_package,
    write_package,
)
from dspx_lang.ir import schema as ir
from dspx_lang.ir.lower import LoweringError, lower
from dspx_lang.prompts import FieldSpec, format_outputs

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.dspx"))


def lowered(name: str) -> Package:
    return lower(Session().check(str(ROOT / "examples" / f"{name}.dspx")))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_round_trips_through_json(path: Path, tmp_path: Path) -> None:
    package = lower(Session().check(str(path)))
    assert package_from_json(package.model_dump_json()) == package
    write_package(package, tmp_path / "x.ir.json")
    assert read_package(tmp_path / "x.ir.json") == package
    compact = package.model_dump_json(exclude_none=True)
    assert package_from_json(compact) == package


def test_qa_lowers_to_the_program_graph() -> None:
    package = lowered("qa")
    assert set(package.models) == {"mini", "local"}
    assert package.models["local"].api_base == "http://127.0.0.1:8080/v1"
    assert package.models["local"].first_token_latency_s == pytest.approx(0.3)
    assert package.models["mini"].timeout_s == 30
    assert package.models["mini"].retries == 3
    program = package.programs["qa"]
    assert [v.name for v in program.variables] == ["reasoning", "model", "temperature", "demos"]
    reasoning = program.variables[0]
    assert reasoning.domain == ir.ChoiceDomain(of="module", values=("predict", "cot"))
    assert reasoning.default == "cot"
    [step] = program.steps
    assert (step.module, step.module_var, step.signature) == ("reasoning", True, "AnswerQuestion")
    assert step.bindings["context"] == ir.Binding(source="input", name="context")
    assert step.settings["temperature"] == ir.Setting(var="temperature")
    assert program.returns["answer"] == ir.Binding(source="step", name="answer", field="answer")
    first = program.constraints[0]
    assert first.label == "the local model answers directly"
    assert first.text == "model == local => reasoning == predict"
    assert isinstance(first.expr, ir.ExprBinary)
    assert first.expr.op == "=>"
    assert [b.metric for b in program.budgets] == ["cost", "latency"]
    assert program.optimize is not None
    assert program.optimize.trials == 12
    assert program.file == str(ROOT / "examples" / "qa.dspx")
    source = (ROOT / "examples" / "qa.dspx").read_text().splitlines()
    assert source[program.line - 1].startswith("program qa")
    assert source[first.line - 1].strip().startswith("constraint")
    signature = package.signatures["AnswerQuestion"]
    assert signature.outputs[0].checks == (ir.Check(kind="len", args=(1, 80)),)
    [test] = package.tests.values()
    assert test.inputs["context"][0] == "There are 250 books."
    assert test.expects[0].text == 'contains(answer, "165")'
    assert package.datasets["qa_dev"].mapping == {"answer": "gold_answer"}
    assert Path(package.datasets["qa_dev"].resolved_path).is_file()


def test_tools_enums_and_sources() -> None:
    package = lowered("count")
    tool = package.tools["add"]
    assert tool.target == "tools:add"
    assert tool.params[0].type == ir.TypeRef(kind="list", elem=ir.TypeRef(kind="float"))
    assert tool.file == str(ROOT / "examples" / "count.dspx")
    assert package.programs["count"].steps[1].settings["tools"] == ir.Setting(value=["add"])
    assert set(package.source.files) == {
        str(ROOT / "examples" / "count.dspx"),
        str(ROOT / "examples" / "models.dspx"),
    }
    intent = lowered("intent").types["Intent"]
    assert isinstance(intent, ir.EnumDecl)
    assert intent.values[0] == ir.EnumValue(
        name="add_to_playlist", description="add a song or artist to a playlist"
    )


def test_source_hash_covers_imports(tmp_path: Path) -> None:
    (tmp_path / "models.dspx").write_text('model m = "openai/gpt-4o-mini"\n')
    main = tmp_path / "main.dspx"
    main.write_text('import "models.dspx"\nsignature S { in a: string\n out b: string }\n')
    before = lower(Session().check(str(main))).source.hash
    (tmp_path / "models.dspx").write_text('model m = "openai/gpt-4o"\n')
    assert lower(Session().check(str(main))).source.hash != before


def test_only_clean_compilations_lower(tmp_path: Path) -> None:
    path = tmp_path / "bad.dspx"
    path.write_text("signature S { out b: strng }\n")
    with pytest.raises(LoweringError):
        lower(Session().check(str(path)))


def test_other_versions_and_shapes_are_refused() -> None:
    data = json.loads(lowered("qa").model_dump_json())
    with pytest.raises(IRVersionError, match="IR version 2, but this dspx reads version 1"):
        package_from_json(json.dumps({**data, "ir_version": 2}))
    with pytest.raises(IRVersionError, match="not valid IR"):
        package_from_json(json.dumps({**data, "programs": {"qa": {"name": 3}}}))
    with pytest.raises(IRVersionError, match="not JSON"):
        package_from_json("{")


def test_estimates_fit_the_ir() -> None:
    step = ir.CallEstimate(
        calls=1, prompt_tokens=120, completion_tokens=30, cost_usd=None, latency_s=0.8
    )
    bound = ir.ConfigEstimate(steps={"answer": step}, total=step)
    program = (
        lowered("qa")
        .programs["qa"]
        .model_copy(update={"estimate": ir.ProgramEstimate(default=bound, min=bound, max=bound)})
    )
    assert ir.ProgramDecl.model_validate_json(program.model_dump_json()) == program


scalars = st.one_of(
    st.booleans(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
types = st.recursive(
    st.sampled_from(["string", "int", "float", "bool"]).map(lambda k: ir.TypeRef(kind=k))  # type: ignore[arg-type]
    | st.builds(lambda n: ir.TypeRef(kind="enum", name=n), st.sampled_from(["A", "B"]))
    | st.builds(
        lambda vs: ir.TypeRef(kind="literals", values=tuple(vs)),
        st.lists(st.text(max_size=4), min_size=1),
    ),
    lambda inner: (
        st.builds(lambda t: ir.TypeRef(kind="list", elem=t), inner)
        | st.builds(lambda t: ir.TypeRef(kind="map", value=t), inner)
        | st.builds(lambda t: ir.TypeRef(kind="optional", inner=t), inner)
    ),
    max_leaves=6,
)
exprs = st.recursive(
    st.builds(lambda v, i: ir.ExprConst(value=v, ident=i), scalars, st.booleans())
    | st.builds(lambda n: ir.ExprVar(name=n), st.sampled_from(["x", "y"])),
    lambda inner: (
        st.builds(
            lambda op, a, b: ir.ExprBinary(op=op, left=a, right=b),
            st.sampled_from(["==", "and", "=>", "+", "/"]),
            inner,
            inner,
        )
        | st.builds(lambda a: ir.ExprUnary(op="not", operand=a), inner)
        | st.builds(
            lambda a, opts, neg: ir.ExprIn(target=a, options=tuple(opts), negated=neg),
            inner,
            st.lists(scalars, max_size=3),
            st.booleans(),
        )
        | st.builds(
            lambda args: ir.ExprCall(func="contains", args=tuple(args)), st.lists(inner, max_size=2)
        )
    ),
    max_leaves=8,
)


@given(t=types, e=exprs)
def test_types_and_expressions_round_trip(t: ir.TypeRef, e: ir.Expr) -> None:
    field = ir.FieldDecl(name="f", type=t)
    assert ir.FieldDecl.model_validate_json(field.model_dump_json()) == field
    constraint = ir.ConstraintDecl(expr=e, text="t")
    assert ir.ConstraintDecl.model_validate_json(constraint.model_dump_json()) == constraint
    assert ir.type_text(t)


RUN_FROM_IR = """
import json, sys
import dspx_lang
program = dspx_lang.load(sys.argv[1])
outputs = program(question="How many?", context=["a"]).outputs
compiler = sorted(
    m for m in sys.modules
    if m.split(".")[0] in ("lark", "pygls", "litellm")
    or m.startswith(("dspx_lang.syntax", "dspx_lang.semantics", "dspx_lang.space",
                     "dspx_lang.driver", "dspx_lang.ir.lower", "dspx_lang.codegen"))
)
print(json.dumps({"outputs": dict(outputs), "compiler": compiler}))
"""


def test_a_program_runs_from_the_ir_alone(tmp_path: Path, lm_server: FakeLMServer) -> None:
    write_package(lowered("qa"), tmp_path / "qa.ir.json")
    values = {"reasoning": "r", "answer": "165"}
    lm_server.respond_with(
        lambda r: format_outputs("chat", [FieldSpec(k, "string") for k in values], values)
    )
    result = subprocess.run(
        [sys.executable, "-c", RUN_FROM_IR, str(tmp_path / "qa.ir.json")],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "DSPX_API_BASE_MINI": lm_server.base_url},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"outputs": {"answer": "165"}, "compiler": []}
