"""dspx: a typed, checked, optimizable language for LLM programs.

Importing this package is cheap: it pulls in neither the compiler nor the
runtime. `load(path)` imports what it needs when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dspx_lang.runtime.program import Program

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def load(path: str, program: str | None = None, **options: Any) -> Program:
    """A runnable program from `<stem>.ir.json` (runtime only) or from a `.dspx` file
    (compiled in memory first; a file with errors raises `DspxCompileError`)."""
    if str(path).endswith(".dspx"):
        from dspx_lang.codegen.build import load_source

        return load_source(path, program, **options)
    from dspx_lang.runtime.loading import load as load_ir

    return load_ir(path, program, **options)
