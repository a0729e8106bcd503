"""Run `dspxc check` in a fresh process and report whether it loaded tiktoken."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dspx_lang

ROOT = Path(dspx_lang.__file__).parent.parent


def check_loads_tiktoken(path: Path) -> tuple[int, bool]:
    """`dspxc check path` (cache off): its exit code, and whether tiktoken was imported."""
    code = (
        "import sys\n"
        "from dspx_lang.cli import main\n"
        f"code = main(['check', {str(path)!r}])\n"
        "print(code, 'tiktoken' in sys.modules)\n"
    )
    env = {**os.environ, "DSPX_CACHE": "0", "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    status, loaded = done.stdout.split()[-2:]
    return int(status), loaded == "True"
