"""`import dspx_lang.autoload` installs an import hook for `.dspx` files.

After it, `import qa` (or `from pkg import qa`) finds `qa.dspx` on `sys.path` (or in the
package's directory) when no Python module of that name exists, compiles it, and imports
the generated module; `qa.qa` is then the typed program.

Contract:
- The hook comes after Python's own finders: a real `qa.py` always wins.
- Compiled output is cached under `<user cache dir>/autoload/`, in a directory keyed by the
  root file's path and its source hash. An entry is reused only when the compiler version
  and the hash of every file it was compiled from (the root and its imports) still match;
  otherwise the file is compiled again. Writes are atomic; a broken cache entry only costs
  a recompilation.
- A file with errors raises `DspxImportError` (an ImportError) whose message holds the
  diagnostics as `dspxc check` prints them.
- Installing twice is harmless (one hook).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from dspx_lang import __version__
from dspx_lang.modelfacts import user_cache_dir

__all__ = ["DspxFinder", "DspxImportError", "install", "uninstall"]

_MANIFEST = "manifest.json"


class DspxImportError(ImportError):
    """A `.dspx` file found by the import hook has errors."""


class DspxFinder(importlib.abc.MetaPathFinder):
    """Finds `<name>.dspx` where Python would look for `<name>.py`."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        name = fullname.rpartition(".")[2]
        for entry in path if path is not None else sys.path:
            candidate = Path(entry or ".") / f"{name}.dspx"
            if candidate.is_file():
                loader = DspxLoader(candidate.resolve())
                return importlib.util.spec_from_loader(fullname, loader, origin=str(candidate))
        return None


class DspxLoader(importlib.abc.Loader):
    def __init__(self, source: Path) -> None:
        self.source = source

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        generated = compiled_module(self.source)
        module.__file__ = str(generated)
        code = compile(generated.read_text(encoding="utf-8"), str(generated), "exec")
        exec(code, module.__dict__)


def compiled_module(source: Path) -> Path:
    """The generated module of `source`, from the cache when it is current."""
    text = source.read_bytes()
    digest = hashlib.sha256(str(source).encode() + b"\0" + text).hexdigest()[:24]
    entry = user_cache_dir() / "autoload" / f"{source.stem}-{digest}"
    generated = entry / f"{source.stem}.py"
    if _current(entry, generated):
        return generated
    from dspx_lang.codegen.build import compile_source, render_errors, write_outputs

    result = compile_source(source)
    if result.package is None:
        raise DspxImportError(
            f"{source} has errors:\n\n{render_errors(result.compilation)}", path=str(source)
        )
    write_outputs(result, entry)
    manifest = {"compiler": __version__, "files": result.package.source.files}
    tmp = entry / f".{_MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(manifest), encoding="utf-8")
    os.replace(tmp, entry / _MANIFEST)
    return generated


def _current(entry: Path, generated: Path) -> bool:
    try:
        manifest = json.loads((entry / _MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("compiler") != __version__ or not generated.is_file():
            return False
        return all(
            hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha
            for path, sha in manifest["files"].items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def install() -> None:
    if not any(isinstance(f, DspxFinder) for f in sys.meta_path):
        sys.meta_path.append(DspxFinder())


def uninstall() -> None:
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, DspxFinder)]


install()
