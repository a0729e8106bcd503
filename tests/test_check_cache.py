"""Remembered check results are reused only while nothing they depend on changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def check(path: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dspx_lang", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_cache_follows_imports_datasets_and_new_files(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"DSPX_CACHE_DIR": str(cache)}
    main = tmp_path / "main.dspx"
    shared = tmp_path / "shared.dspx"
    main.write_text('import "shared.dspx"\nimport "later.dspx"\nenum E { a }\n', encoding="utf-8")
    shared.write_text("enum F { b }\n", encoding="utf-8")
    first = check(main, env)
    assert first.returncode == 1
    assert "cannot import 'later.dspx'" in first.stdout
    assert list((cache / "check").glob("*.json"))
    again = check(main, env)
    assert again.stdout == first.stdout
    (tmp_path / "later.dspx").write_text("enum G { c }\n", encoding="utf-8")
    assert check(main, env).returncode == 0  # the new import target is noticed
    shared.write_text("enum E { b }\n", encoding="utf-8")  # an imported file changes
    changed = check(main, env)
    assert changed.returncode == 1
    assert "E101" in changed.stdout


def test_cache_follows_datasets(tmp_path: Path) -> None:
    env = {"DSPX_CACHE_DIR": str(tmp_path / "cache")}
    program = tmp_path / "p.dspx"
    program.write_text('dataset d = "d.jsonl"\n', encoding="utf-8")
    assert "E500" in check(program, env).stdout
    (tmp_path / "d.jsonl").write_text('{"x": 1}\n', encoding="utf-8")
    assert check(program, env).returncode == 0


def test_cache_can_be_turned_off(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    program = tmp_path / "p.dspx"
    program.write_text("enum E { a }\n", encoding="utf-8")
    assert check(program, {"DSPX_CACHE_DIR": str(cache), "DSPX_CACHE": "0"}).returncode == 0
    assert not (cache / "check").exists()
