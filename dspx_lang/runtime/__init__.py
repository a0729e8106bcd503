"""The dspx runtime: executes compiled programs; generated code imports only `__all__`.

Invariants: this package never imports the compiler (`dspx_lang.syntax`, `semantics`,
`space`, the IR lowering...), lark or pygls; it reads the IR through the pure schema in
`dspx_lang.ir.schema`. Importing it is cheap: the names below load their modules on first
access (PEP 562), and nothing imports litellm until a model on the litellm transport is
called.

Public surface:
- `Program`, `load(path, program=None, client=None)`: run a program of an IR package;
  `Prediction`, `StepTrace`, `CallRecord`: what runs return and record; `Demo`.
- `CompiledProgram`, `DspxModel`, `DspxEnum`, `EmbeddedPackage`, `Field`: generated modules.
- `LMClient`, `ModelSpec`: the LM transport, to share a client or inspect model settings.
- `ProgramEstimate`: the compile-time estimates.
- The typed errors, all `DspxError`s.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dspx_lang.runtime.errors import (
    DspxBudgetError,
    DspxConfigError,
    DspxError,
    DspxOutputError,
    DspxProviderError,
    DspxRateLimitError,
    DspxSandboxError,
    DspxTimeoutError,
)

if TYPE_CHECKING:
    from dspx_lang.ir.schema import ProgramEstimate
    from dspx_lang.prompts import Demo
    from dspx_lang.runtime.compiled import (
        CompiledProgram,
        DspxEnum,
        DspxModel,
        EmbeddedPackage,
        Field,
    )
    from dspx_lang.runtime.lm import LMClient, ModelSpec
    from dspx_lang.runtime.loading import load
    from dspx_lang.runtime.program import Program
    from dspx_lang.runtime.results import CallRecord, Prediction, StepTrace

__all__: list[str] = [
    "CallRecord",
    "CompiledProgram",
    "Demo",
    "DspxBudgetError",
    "DspxConfigError",
    "DspxEnum",
    "DspxError",
    "DspxModel",
    "DspxOutputError",
    "DspxProviderError",
    "DspxRateLimitError",
    "DspxSandboxError",
    "DspxTimeoutError",
    "EmbeddedPackage",
    "Field",
    "LMClient",
    "ModelSpec",
    "Prediction",
    "Program",
    "ProgramEstimate",
    "StepTrace",
    "load",
]

_LAZY: dict[str, str] = {
    "CallRecord": "dspx_lang.runtime.results",
    "CompiledProgram": "dspx_lang.runtime.compiled",
    "Demo": "dspx_lang.prompts",
    "DspxEnum": "dspx_lang.runtime.compiled",
    "DspxModel": "dspx_lang.runtime.compiled",
    "EmbeddedPackage": "dspx_lang.runtime.compiled",
    "Field": "dspx_lang.runtime.compiled",
    "LMClient": "dspx_lang.runtime.lm",
    "ModelSpec": "dspx_lang.runtime.lm",
    "Prediction": "dspx_lang.runtime.results",
    "Program": "dspx_lang.runtime.program",
    "ProgramEstimate": "dspx_lang.ir.schema",
    "StepTrace": "dspx_lang.runtime.results",
    "load": "dspx_lang.runtime.loading",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'dspx_lang.runtime' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
