"""`dspxc check` and `dspxc fmt` as a user runs them: real processes, exit codes, output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
EXAMPLES = ROOT / "examples"


def dspxc(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dspx_lang", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_examples_check_clean() -> None:
    result = dspxc("check", *map(str, sorted(EXAMPLES.glob("*.dspx"))))
    assert result.returncode == 0, result.stdout
    assert "All checks passed" in result.stdout


def test_examples_are_formatted() -> None:
    result = dspxc("fmt", "--check", str(EXAMPLES))
    assert result.returncode == 0, result.stdout


def test_error_exit_code_and_compiler_style_text(tmp_path: Path) -> None:
    bad = tmp_path / "qa.dspx"
    bad.write_text(
        'model mini = "openai/gpt-4o-mini"\n'
        "signature S {\n  in question: string\n  out answer: string\n}\n"
        "program qa {\n  in question: string\n  out answer: string\n"
        "  step answer = cot S(quesion)\n  return answer\n}\n",
        encoding="utf-8",
    )
    result = dspxc("check", str(bad))
    assert result.returncode == 1
    assert f"{bad}:9:23: error[E100]: undefined name 'quesion'" in result.stdout
    assert "9 |   step answer = cot S(quesion)" in result.stdout
    assert "^^^^^^^ did you mean 'question'?" in result.stdout
    assert "Found 1 error in 1 file." in result.stdout


def test_json_output_has_lsp_ranges(tmp_path: Path) -> None:
    bad = tmp_path / "dup.dspx"
    bad.write_text('model m = "openai/a"\nmodel m = "openai/b"\n', encoding="utf-8")
    result = dspxc("check", "--format", "json", str(bad))
    assert result.returncode == 1
    [item] = json.loads(result.stdout)
    assert item["code"] == "E101"
    assert item["severity"] == "error"
    assert item["range"] == {
        "start": {"line": 1, "character": 6},
        "end": {"line": 1, "character": 7},
    }
    assert item["related"][0]["range"]["start"] == {"line": 0, "character": 6}
    assert item["name"] == "duplicate-definition"


def test_werror_fails_on_warnings(tmp_path: Path) -> None:
    warn = tmp_path / "w.dspx"
    warn.write_text(
        'model m = "openai/gpt-4o-mini"\nsignature S {\n  in x: string\n  out y: string\n}\n'
        "program p {\n  in x: string\n  out y: string\n  step s = predict S(x)\n  return s\n"
        "  objective maximize exact_match(y) weight 2\n}\n",
        encoding="utf-8",
    )
    assert dspxc("check", str(warn)).returncode == 0
    assert dspxc("check", "--werror", str(warn)).returncode == 1


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00garbage", b"\x00" * 1000, b"program p {" * 2000, b"(" * 100_000],
    ids=["invalid-utf8", "nul", "unclosed", "deep"],
)
def test_any_bytes_give_diagnostics_not_tracebacks(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.dspx"
    path.write_bytes(content)
    result = dspxc("check", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "error[E001]" in result.stdout


def test_a_pattern_python_may_read_differently_later_checks_without_noise(tmp_path: Path) -> None:
    # Found by the fuzz campaign: `[[` made re.compile print a FutureWarning to stderr.
    path = tmp_path / "p.dspx"
    path.write_text('signature S {\n  in q: string\n  out a: string @pattern("[[a]")\n}\n')
    result = dspxc("check", str(path))
    assert result.returncode == 0
    assert result.stderr == ""


def test_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = dspxc("check", str(tmp_path / "nope.dspx"))
    assert result.returncode == 2
    assert "dspxc: error: cannot read" in result.stderr


def test_usage_errors_and_help() -> None:
    assert dspxc("check").returncode == 2
    assert dspxc("frobnicate").returncode == 2
    help_text = dspxc("check", "--help")
    assert help_text.returncode == 0
    assert "examples:" in help_text.stdout
    version = dspxc("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("dspxc ")


def test_fmt_rewrites_checks_and_refuses_syntax_errors(tmp_path: Path) -> None:
    messy = tmp_path / "m.dspx"
    messy.write_text('model   m="openai/x"   // keep me\nenum E{a b}\n', encoding="utf-8")
    assert dspxc("fmt", "--check", str(messy)).returncode == 1
    assert dspxc("fmt", str(messy)).returncode == 0
    assert messy.read_text(encoding="utf-8") == (
        'model m = "openai/x"  // keep me\nenum E {\n  a\n  b\n}\n'
    )
    assert dspxc("fmt", "--check", str(messy)).returncode == 0
    broken = tmp_path / "b.dspx"
    original = "enum E { a\nprogram p {\n"
    broken.write_text(original, encoding="utf-8")
    result = dspxc("fmt", str(broken))
    assert result.returncode == 1
    assert "error[E001]" in result.stderr
    assert broken.read_text(encoding="utf-8") == original


def test_imports_are_checked_across_files(tmp_path: Path) -> None:
    (tmp_path / "a.dspx").write_text('import "b.dspx"\nenum A { x }\n', encoding="utf-8")
    (tmp_path / "b.dspx").write_text('import "a.dspx"\nenum B { y }\n', encoding="utf-8")
    result = dspxc("check", str(tmp_path / "a.dspx"))
    assert result.returncode == 1
    assert "import cycle" in result.stdout
