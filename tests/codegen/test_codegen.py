"""Generated modules: typed (mypy --strict), cheap to import, mapped to source lines, and
calling the runtime correctly, for every example and for names Python reserves."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fixtures.lm_server import FakeLMServer

from dspx_lang.codegen.build import compile_source, write_outputs
from dspx_lang.prompts import FieldSpec, format_outputs
from dspx_lang.runtime import DspxConfigError, DspxOutputError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.dspx"))
PYTHON = sys.executable

TRICKY = """\
model m = "openai/gpt-4o-mini" {
  api_base: "BASE"
  retries: 0
}

enum Kind {
  name
  value
  None
  class
}

class str {
  from: string
  json: int?
  model_config: float @range(0, 1)
}

signature S {
  in from: string
  in self: int?
  out class: Kind
  out items: list<str>
  out choice: "yes" | "no"
}

program import {
  in from: string
  in self: int?
  out class: Kind
  out items: list<str>
  out choice: "yes" | "no"
  var changes: [predict, cot] = predict
  var self: bool
  step s = changes S(from, self)
  return s
}
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every example compiled into a package `gen` (module names like `math` stay private)."""
    out = tmp_path_factory.mktemp("compiled") / "gen"
    for path in EXAMPLES:
        result = compile_source(path)
        assert result.ok, path
        write_outputs(result, out)
    (out / "__init__.py").write_text("")
    return out


@pytest.fixture
def import_path(compiled: Path) -> Iterator[None]:
    sys.path.insert(0, str(compiled.parent))
    try:
        yield
    finally:
        sys.path.remove(str(compiled.parent))
        for name in [n for n in sys.modules if n == "gen" or n.startswith("gen.")]:
            del sys.modules[name]


def test_generated_code_of_every_example_passes_mypy_strict(compiled: Path) -> None:
    files = sorted(str(p) for p in compiled.glob("*.py") if p.name != "__init__.py")
    assert len(files) == len(EXAMPLES)
    result = subprocess.run(
        [PYTHON, "-m", "mypy", "--strict", "--no-incremental", *files],
        capture_output=True,
        text=True,
        cwd=compiled.parent,  # not inside: gen/math.py would shadow the standard library
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_generated_code_imports_only_the_runtime_surface(compiled: Path) -> None:
    from dspx_lang import runtime

    for path in compiled.glob("*.py"):
        text = path.read_text()
        for module, names in re.findall(r"^from (\S+) import (.+)$", text, re.MULTILINE):
            if module == "dspx_lang.runtime":
                imported = [part.split(" as ")[0].strip() for part in names.split(",")]
                assert set(imported) <= set(runtime.__all__), path
            else:
                assert module in ("__future__", "typing"), (path, module)
        assert not re.search(r"^import ", text, re.MULTILINE), path


def test_importing_a_compiled_module_stays_light(compiled: Path) -> None:
    probe = (
        "import sys, json; from gen.qa import qa, QaOutputs; "
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('litellm', 'lark', 'aiohttp', 'pygls', 'optuna') or m.startswith(('dspx_lang.syntax', "
        "'dspx_lang.semantics', 'dspx_lang.space', 'dspx_lang.ir.lower', 'dspx_lang.driver')))))"
    )
    result = subprocess.run(
        [PYTHON, "-c", probe],
        capture_output=True,
        text=True,
        cwd=compiled.parent,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert json.loads(result.stdout) == []


def test_comments_map_back_to_source_lines(compiled: Path) -> None:
    result = compile_source(ROOT / "examples" / "qa.dspx")
    assert result.module is not None
    lines = result.module.text.splitlines()
    source = (ROOT / "examples" / "qa.dspx").read_text().splitlines()
    assert result.module.line_map
    for generated_line, (file, line) in result.module.line_map.items():
        comment = lines[generated_line - 2]
        assert comment.strip() == f"# {Path(file).name}:{line}"
        declared = lines[generated_line - 1].strip()
        word = re.match(r"(?:class |def )?(\w+)", declared)
        assert word is not None
        name = word.group(1).lower().removesuffix("inputs").removesuffix("outputs")
        name = name.removesuffix("config").removesuffix("program")
        assert name in Path(file).read_text().splitlines()[line - 1].lower(), (declared, line)
    program_line = lines.index("class QaProgram(_CompiledProgram[QaInputs, QaOutputs, QaConfig]):")
    assert source[result.module.line_map[program_line + 1][1] - 1] == "program qa {"


def answer(values: dict[str, object]) -> str:
    return format_outputs("chat", [FieldSpec(k, "string") for k in values], values)


def test_a_generated_program_runs_typed(
    import_path: None, lm_server: FakeLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSPX_API_BASE_MINI", lm_server.base_url)
    monkeypatch.setenv("DSPX_API_BASE_LOCAL", lm_server.base_url)
    intent: ModuleType = importlib.import_module("gen.intent")
    lm_server.script(answer({"intent": "Get_Weather"}))
    out = intent.classify(utterance="Will it rain?")
    assert type(out).__name__ == "ClassifyOutputs"
    assert out.intent is intent.Intent.get_weather
    assert intent.classify.config.model == "local"
    fast = intent.classify.configure(model="mini", adapter="json", demos=0)
    assert fast.config.adapter == "json"
    assert intent.classify.config.adapter == "chat"
    with pytest.raises(DspxConfigError, match="model == local => adapter == chat"):
        intent.classify.configure(adapter="json")
    assert intent.classify.history[-1].text == answer({"intent": "Get_Weather"})
    lm_server.script("no idea", "still no idea")
    with pytest.raises(DspxOutputError):
        intent.classify(utterance="?")


async def test_acall_and_run(
    import_path: None, lm_server: FakeLMServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DSPX_API_BASE_MINI", lm_server.base_url)
    qa: ModuleType = importlib.import_module("gen.qa")
    lm_server.respond_with(lambda request: answer({"reasoning": "r", "answer": "165"}))
    out = await qa.qa.acall(question="How many?", context=["a"])
    assert out == qa.QaOutputs(answer="165")
    prediction = qa.qa.run(qa.QaInputs(question="How many?", context=["b"]))
    assert prediction.answer == "165"
    assert prediction.steps[0].module == "cot"
    assert qa.qa.estimate() == qa.qa.runtime.decl.estimate


def test_reserved_names_are_renamed_and_still_work(tmp_path: Path, lm_server: FakeLMServer) -> None:
    source = tmp_path / "tricky.dspx"
    source.write_text(TRICKY.replace("BASE", lm_server.base_url))
    result = compile_source(source)
    assert result.ok
    write_outputs(result, tmp_path / "trick")
    module_path = tmp_path / "trick" / "tricky.py"
    check = subprocess.run(
        [PYTHON, "-m", "mypy", "--strict", "--no-incremental", str(module_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout
    sys.path.insert(0, str(tmp_path / "trick"))
    try:
        tricky = importlib.import_module("tricky")
        values = {
            "class": "CLASS",
            "items": [{"from": "x", "model_config": "0.5"}],
            "choice": "Yes",
        }
        lm_server.script(answer(values))
        out = tricky.import_(from_="text", self_=3)
        assert out.class_ is tricky.Kind.class_
        assert out.items == [tricky.str_(from_="x", model_config_=0.5)]
        assert out.choice == "yes"
        body = lm_server.chat_requests[0].json["messages"][-1]["content"]
        assert "[[ ## from ## ]]\ntext" in body
        assert "[[ ## self ## ]]\n3" in body
        configured = tricky.import_.configure(changes="cot", self_=True)
        assert configured.runtime.config == {"changes": "cot", "self": True}
    finally:
        sys.path.remove(str(tmp_path / "trick"))
        sys.modules.pop("tricky", None)
