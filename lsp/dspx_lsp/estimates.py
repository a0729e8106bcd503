"""Cost, latency and token estimates for hover, inlay hints and the Estimate lens.

Contract: the only module that reads estimates from a `Compilation`; features
ask it for Markdown lines (hover) or hints `(offset, label, tooltip)` and get
nothing when the compilation carries no estimates (a program with errors, or
a compiler without the estimate pass).
"""

from __future__ import annotations

from dspx_lang.driver import Compilation
from dspx_lang.semantics.model import ProgramInfo, StepInfo

Hint = tuple[int, str, str]


def describe_program(compilation: Compilation, program: ProgramInfo) -> list[str]:
    return []


def describe_step(compilation: Compilation, program: ProgramInfo, step: StepInfo) -> list[str]:
    return []


def program_hints(compilation: Compilation, program: ProgramInfo) -> list[Hint]:
    return []


def step_hints(compilation: Compilation, program: ProgramInfo, step: StepInfo) -> list[Hint]:
    return []
