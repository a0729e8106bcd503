"""Code generation: the typed Python module of a compiled `.dspx` file (`generate`), and
the compile-and-write pipeline behind `dspxc compile`, `dspx_lang.load` and the import hook
(`dspx_lang.codegen.build`)."""

from __future__ import annotations

from dspx_lang.codegen.generate import GeneratedModule, generate

__all__ = ["GeneratedModule", "generate"]
