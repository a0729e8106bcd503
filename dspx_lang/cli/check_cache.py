"""Remembered `dspxc check` results, so an unchanged file costs no compiler imports.

Contract: an entry is reused only when everything the result depended on is
unchanged: the dspx version and Python version, the text (sha256) of every
`.dspx` file in the root's import closure, the existence of every import
target, and the size and mtime of every dataset and of litellm's price map.
Anything else (or `DSPX_CACHE=0`) recomputes. Entries hold diagnostics only —
no secrets, no source text — as JSON under `<user cache dir>/check/`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from dspx_lang import __version__
from dspx_lang.diagnostics import Diagnostic, Label, Severity
from dspx_lang.source import Span


def _directory() -> Path | None:
    if os.environ.get("DSPX_CACHE", "1") == "0":
        return None
    from dspx_lang.modelfacts import user_cache_dir

    return user_cache_dir() / "check"


def _entry_path(root: str) -> Path | None:
    directory = _directory()
    if directory is None:
        return None
    digest = hashlib.sha256(os.path.abspath(root).encode()).hexdigest()[:32]
    return directory / f"{digest}.json"


def _stamp() -> str:
    return f"{__version__}/{sys.version_info[0]}.{sys.version_info[1]}"


def _digest(path: str) -> str | None:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return None


def _stat(path: str) -> list[int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_size, info.st_mtime_ns]


def lookup(root: str) -> list[Diagnostic] | None:
    """The remembered diagnostics of `root`, if nothing they depend on changed."""
    entry_path = _entry_path(root)
    if entry_path is None:
        return None
    try:
        entry = json.loads(entry_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("stamp") != _stamp():
        return None
    if any(_digest(path) != digest for path, digest in entry["sources"].items()):
        return None
    if any(_stat(path) != stat for path, stat in entry["stats"].items()):
        return None
    return [_load(d) for d in entry["diagnostics"]]


def store(root: str, sources: list[str], stats: list[str], diagnostics: list[Diagnostic]) -> None:
    """Remember a result; failing to write only costs speed next time."""
    entry_path = _entry_path(root)
    if entry_path is None:
        return
    entry = {
        "stamp": _stamp(),
        "sources": {path: _digest(path) for path in sources},
        "stats": {path: _stat(path) for path in stats},
        "diagnostics": [_dump(d) for d in diagnostics],
    }
    try:
        entry_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=entry_path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(entry, handle)
        os.replace(tmp, entry_path)
    except OSError:
        return


def _dump(d: Diagnostic) -> dict[str, Any]:
    return {
        "code": d.code,
        "severity": d.severity.value,
        "message": d.message,
        "file": d.file,
        "span": [d.span.start, d.span.end],
        "note": d.note,
        "related": [[r.file, r.span.start, r.span.end, r.message] for r in d.related],
    }


def _load(data: dict[str, Any]) -> Diagnostic:
    return Diagnostic(
        data["code"],
        Severity(data["severity"]),
        data["message"],
        data["file"],
        Span(*data["span"]),
        data["note"],
        tuple(Label(f, Span(s, e), m) for f, s, e, m in data["related"]),
    )
