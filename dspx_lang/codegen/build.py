"""Compiling `.dspx` files: check, lower to the IR, generate the module, write both.

Contract:
- `compile_source(path)` never raises for errors in the user's program: they are in
  `CompileResult.compilation` and `package`/`module` are None. It raises OSError only when
  the root file cannot be read.
- `write_outputs` writes `DIR/<stem>.py` and `DIR/<stem>.ir.json`, each atomically (a temp
  file renamed into place), so a reader never sees half a file.
- `load_source(path)` compiles in memory and returns a runtime `Program`; a file with
  errors raises `DspxCompileError` carrying the rendered diagnostics.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dspx_lang.codegen.generate import GeneratedModule, generate
from dspx_lang.diagnostics import Severity
from dspx_lang.diagnostics.render import TextRenderer
from dspx_lang.driver import Compilation, Session
from dspx_lang.ir import Package
from dspx_lang.ir.lower import lower
from dspx_lang.runtime.errors import DspxConfigError, DspxError
from dspx_lang.runtime.program import Program

__all__ = [
    "CompileResult",
    "DspxCompileError",
    "checked_package",
    "compile_source",
    "load_source",
    "render_errors",
    "write_outputs",
]


class DspxCompileError(DspxError):
    """A `.dspx` file has errors; the message holds them as `dspxc check` prints them."""


@dataclass
class CompileResult:
    compilation: Compilation
    package: Package | None
    module: GeneratedModule | None

    @property
    def ok(self) -> bool:
        return self.package is not None


def compile_source(
    path: str | os.PathLike[str], *, session: Session | None = None
) -> CompileResult:
    compilation = (session or Session()).check(os.fspath(path))
    if compilation.has_errors:
        return CompileResult(compilation, None, None)
    estimates = {
        name: estimate
        for name, report in compilation.reports.items()
        if (estimate := report.ir_estimate()) is not None
    }
    package = lower(compilation, estimates=estimates)
    return CompileResult(compilation, package, generate(package))


def checked_package(path: str | os.PathLike[str], *, color: bool = False) -> Package:
    """The IR of a file without errors; else `DspxCompileError` with the rendered errors.
    OSError when the file cannot be read."""
    result = compile_source(path)
    if result.package is None:
        raise DspxCompileError(render_errors(result.compilation, color=color))
    return result.package


def render_errors(compilation: Compilation, *, color: bool = False) -> str:
    renderer = TextRenderer(compilation.sources, color=color)
    return "\n\n".join(
        renderer.render(d) for d in compilation.diagnostics if d.severity is Severity.ERROR
    )


def write_outputs(result: CompileResult, out_dir: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write the module and the IR of a successful compilation; returns their paths."""
    if result.package is None or result.module is None:
        raise ValueError("write_outputs needs a compilation without errors")
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    stem = Path(result.compilation.root).stem
    module_path = directory / f"{stem}.py"
    ir_path = directory / f"{stem}.ir.json"
    _atomic_write(module_path, result.module.text)
    _atomic_write(ir_path, result.package.model_dump_json(indent=1, exclude_none=True) + "\n")
    return module_path, ir_path


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_source(
    path: str | os.PathLike[str], program: str | None = None, **options: Any
) -> Program:
    """A runtime `Program` from a `.dspx` file (see `dspx_lang.load`)."""
    try:
        result = compile_source(path)
    except OSError as exc:
        raise DspxConfigError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from None
    if result.package is None:
        raise DspxCompileError(
            f"{os.fspath(path)} has errors:\n\n{render_errors(result.compilation)}"
        )
    package = result.package
    if program is None:
        if len(package.programs) != 1:
            names = ", ".join(package.programs) or "none"
            raise DspxConfigError(f"{os.fspath(path)} holds the programs {names}: say which one")
        program = next(iter(package.programs))
    return Program(package, program, **options)
