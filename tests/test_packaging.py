"""The grammar is found from a built wheel and from an editable install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parents[1]


def test_editable_install_uses_the_repository_grammar() -> None:
    from dspx_lang.syntax.grammar import grammar_path

    assert grammar_path() == ROOT / "grammar" / "dspx.lark"


def test_built_wheel_carries_grammar_and_language_server(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = tmp_path.glob("dspx-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert "dspx_lang/syntax/dspx.lark" in names
        assert "dspx_lsp/__init__.py" in names
        assert (
            archive.read("dspx_lang/syntax/dspx.lark")
            == (ROOT / "grammar" / "dspx.lark").read_bytes()
        )
        unpacked = tmp_path / "site"
        archive.extractall(unpacked)
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from dspx_lang.syntax.grammar import grammar_path;"
        "from dspx_lang.syntax import parse; from dspx_lang.source import SourceFile;"
        "print(grammar_path());"
        "print(len(parse(SourceFile('x.dspx', 'enum E { a }')).module.decls))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(unpacked)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.split()
    assert out[0].startswith(str(unpacked))
    assert out[1] == "1"
