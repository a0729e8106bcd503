"""The dspx runtime: executes compiled programs; generated code imports only `__all__`.

Invariants: this package never imports the compiler (`dspx_lang.syntax`, `semantics`, `space`,
`ir`...), lark or pygls, and importing it does not import litellm (loaded on first use).
"""

from __future__ import annotations

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

__all__: list[str] = [
    "DspxBudgetError",
    "DspxConfigError",
    "DspxError",
    "DspxOutputError",
    "DspxProviderError",
    "DspxRateLimitError",
    "DspxSandboxError",
    "DspxTimeoutError",
]
