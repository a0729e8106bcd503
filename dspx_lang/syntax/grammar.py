"""Locate the grammar file.

A built wheel carries `dspx_lang/syntax/dspx.lark` (force-included from the
repository's `grammar/dspx.lark`); an editable install does not, so the
repository copy is the fallback. This is the only place that knows both.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path


def grammar_path() -> Path:
    packaged = resources.files("dspx_lang.syntax") / "dspx.lark"
    if packaged.is_file():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parents[2] / "grammar" / "dspx.lark"
    if repo.is_file():
        return repo
    raise FileNotFoundError(
        "dspx grammar not found: neither the packaged dspx_lang/syntax/dspx.lark nor the "
        f"repository's grammar/dspx.lark ({repo}) exists; reinstall dspx"
    )


@cache
def grammar_text() -> str:
    return grammar_path().read_text(encoding="utf-8")
