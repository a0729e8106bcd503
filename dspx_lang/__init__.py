"""dspx: a typed, checked, optimizable language for LLM programs.

Importing this package is cheap: it pulls in neither the compiler nor the
runtime. `dspx_lang.load` is the runtime's IR loader, imported on first use.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "load"]


def load(path: str) -> Any:
    """Load a compiled package (`*.ir.json`) and return its runtime package."""
    from dspx_lang.runtime import load_package

    return load_package(path)
