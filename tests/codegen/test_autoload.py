"""The import hook: `import dspx_lang.autoload`, then `import x` compiles `x.dspx` (cached by
source hash, recompiled when the file or an import changes). Each case runs in a fresh
interpreter, so the hook never leaks into the test process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fixtures.lm_server import FakeLMServer

from dspx_lang.prompts import FieldSpec, format_outputs

ROOT = Path(__file__).resolve().parents[2]

MODELS = 'model m = "openai/gpt-4o-mini" {{\n  api_base: "{base}"\n  retries: 0\n}}\n'
GREET = """\
import "models.dspx"

signature Greet {
  in name: string
  out greeting: string
}

program greet {
  in name: string
  out greeting: string
  step g = predict Greet(name)
  return g
}
"""
PROBE = """
import json, sys
import dspx_lang.autoload
import greet
out = greet.greet(name="Ada")
print(json.dumps({
    "greeting": out.greeting,
    "file": greet.__file__,
    "compiled_now": "dspx_lang.semantics" in sys.modules,
}))
"""


def run(directory: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=directory,
        env={**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{directory}"},
        timeout=120,
        check=False,
    )


def setup(directory: Path, server: FakeLMServer) -> None:
    (directory / "models.dspx").write_text(MODELS.format(base=server.base_url))
    (directory / "greet.dspx").write_text(GREET)
    values = {"greeting": "Hello, Ada"}
    server.respond_with(lambda r: format_outputs("chat", [FieldSpec("greeting", "string")], values))


def test_import_compiles_then_reuses_the_cache(
    tmp_path: Path, lm_server: FakeLMServer, lm_cache_dir: Path
) -> None:
    setup(tmp_path, lm_server)
    first = run(tmp_path, PROBE)
    assert first.returncode == 0, first.stderr
    data = json.loads(first.stdout)
    assert data["greeting"] == "Hello, Ada"
    assert data["compiled_now"] is True
    generated = Path(data["file"])
    assert generated.is_relative_to(lm_cache_dir / "autoload")
    assert generated.with_suffix(".ir.json").is_file()
    again = json.loads(run(tmp_path, PROBE).stdout)
    assert again["file"] == data["file"]
    assert again["compiled_now"] is False


def test_a_changed_import_is_compiled_again(tmp_path: Path, lm_server: FakeLMServer) -> None:
    setup(tmp_path, lm_server)
    first = json.loads(run(tmp_path, PROBE).stdout)
    (tmp_path / "models.dspx").write_text(
        MODELS.format(base=lm_server.base_url).replace("retries: 0", "retries: 1")
    )
    second = json.loads(run(tmp_path, PROBE).stdout)
    assert second["compiled_now"] is True
    assert '"retries":1' in Path(second["file"]).read_text()
    assert first["greeting"] == second["greeting"]


def test_a_file_with_errors_is_an_import_error(tmp_path: Path) -> None:
    (tmp_path / "broken.dspx").write_text("signature S { out b: strng }\n")
    code = (
        "import dspx_lang.autoload\n"
        "try:\n    import broken\n"
        "except ImportError as exc:\n    print(type(exc).__name__); print(exc)\n"
    )
    result = run(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("DspxImportError\n")
    assert "broken.dspx has errors" in result.stdout
    assert "error[E100]" in result.stdout
    assert "strng" in result.stdout


def test_a_python_module_of_the_same_name_wins(tmp_path: Path, lm_server: FakeLMServer) -> None:
    setup(tmp_path, lm_server)
    (tmp_path / "greet.py").write_text("WHO = 'python'\n")
    result = run(tmp_path, "import dspx_lang.autoload, greet; print(greet.WHO)")
    assert result.stdout.strip() == "python"
