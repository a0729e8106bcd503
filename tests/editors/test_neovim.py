"""A real editor drives the server: headless Neovim (0.7+, its built-in LSP client)
opens a `.dspx` file, gets the diagnostics published for it, and asks for a hover.

Needs `nvim` on PATH (CI: `apt-get install -y neovim`); skipped with that reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dspx_lang.source import SourceFile

SCRIPT = Path(__file__).with_name("nvim_lsp.lua")
WORKSPACE = Path(__file__).parents[1] / "lsp" / "workspace"
NVIM = shutil.which("nvim")

pytestmark = pytest.mark.skipif(
    NVIM is None, reason="needs Neovim: apt-get install -y neovim (CI installs it)"
)


def test_neovim_gets_diagnostics_and_hover(tmp_path: Path) -> None:
    assert NVIM is not None
    root = tmp_path / "workspace"
    shutil.copytree(WORKSPACE, root)
    qa = root / "qa.dspx"
    text = qa.read_text(encoding="utf-8").replace("question: question)", "question: quesion)")
    qa.write_text(text, encoding="utf-8")
    line, character = SourceFile(str(qa), text).lsp_position(text.index("AnswerQuestion(") + 3)
    out = tmp_path / "result.json"
    env = {
        **os.environ,
        "DSPX_FILE": str(qa),
        "DSPX_SERVER": json.dumps([sys.executable, "-m", "dspx_lang", "lsp"]),
        "DSPX_HOVER_LINE": str(line),
        "DSPX_HOVER_CHARACTER": str(character),
        "DSPX_OUT": str(out),
        "XDG_STATE_HOME": str(tmp_path / "state"),  # keep Neovim's LSP log out of $HOME
    }
    subprocess.run(
        [NVIM, "--headless", "--clean", "-c", f"luafile {SCRIPT}"],
        env=env,
        cwd=root,
        timeout=120,
        check=False,
        capture_output=True,
    )
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result.get("error") is None, result.get("error")
    [diagnostic] = result["diagnostics"]
    assert diagnostic["code"] == "E100"
    assert diagnostic["message"] == "undefined input 'quesion'; did you mean 'question'?"
    assert diagnostic["range"]["start"]["line"] == text[: text.index("quesion")].count("\n")
    assert "signature AnswerQuestion" in result["hover"]["contents"]["value"]
