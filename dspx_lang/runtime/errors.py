"""Typed errors of the dspx runtime.

Contract:
- Every failure the runtime raises on purpose is a `DspxError`; user code can catch that one type.
- `str(err)` is `"program 'qa', step 'answer', field 'confidence': <message>"`, naming only the
  parts of the context that are known, and the message says what to do next.
- Messages (and every text attribute) are scrubbed of secrets when the error is built: API keys,
  `Authorization`/`x-api-key` values, `Bearer` tokens and the values of secret-looking
  environment variables never appear in `str`, `repr` or the attributes.
- `with_context` fills only the fields not set yet (the innermost context wins) and returns the
  same object, so `raise err.with_context(step="answer")` keeps the original traceback.
- Errors survive pickling (optimizer workers in other processes send them back).
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any, Self

__all__ = [
    "DspxBudgetError",
    "DspxConfigError",
    "DspxError",
    "DspxOutputError",
    "DspxProviderError",
    "DspxRateLimitError",
    "DspxSandboxError",
    "DspxTimeoutError",
    "scrub_secrets",
]

_REDACTED = "[redacted]"
_SECRET_ENV_NAME = re.compile(r"(?i)(api_?key|token|secret|password|credential)")
# Locations, not secrets: `TIKTOKEN_CACHE_DIR` must not redact every path in a message.
_NOT_SECRET_SUFFIXES = ("_DIR", "_PATH", "_FILE", "_URL", "_BASE")
_MIN_SECRET_LEN = 8


@functools.cache
def _secret_patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Compiled on first use: errors are rare and the compile costs ~2 ms at import."""
    return (
        # Assignments: `Authorization: Bearer x`, `api_key='x'`, `"x-api-key": "x"`.
        (
            re.compile(
                r"(?i)(\b(?:authorization|x-api-key|api[-_]?key|access[-_]?token)\b[\"']?\s*[:=]\s*)"
                r"[\"']?(?:bearer\s+)?[\"']?[^\s\"',;}\]]+"
            ),
            r"\1" + _REDACTED,
        ),
        (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{6,}"), "Bearer " + _REDACTED),
        # Provider key shapes: OpenAI/Anthropic `sk-...`, Google `AIza...`, HF `hf_...`.
        (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), "sk-" + _REDACTED),
        (re.compile(r"\bAIza[0-9A-Za-z_-]{20,}"), _REDACTED),
        (re.compile(r"\bhf_[A-Za-z0-9]{20,}"), _REDACTED),
    )


def scrub_secrets(text: str) -> str:
    """Return `text` with API keys, auth headers and secret env-var values replaced."""
    for name, value in os.environ.items():
        # Values of secret-named variables are removed verbatim, whatever their shape.
        if (
            len(value) >= _MIN_SECRET_LEN
            and _SECRET_ENV_NAME.search(name)
            and not name.upper().endswith(_NOT_SECRET_SUFFIXES)
            and value in text
        ):
            text = text.replace(value, _REDACTED)
    for pattern, replacement in _secret_patterns():
        text = pattern.sub(replacement, text)
    return text


def _restore(cls: type[DspxError], state: dict[str, Any]) -> DspxError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    err.args = (state["message"],)
    return err


class DspxError(Exception):
    """Base of every dspx runtime error; carries the program/step/field it happened in."""

    def __init__(
        self,
        message: str,
        *,
        program: str | None = None,
        step: str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = scrub_secrets(message)
        self.program = program
        self.step = step
        self.field = field
        super().__init__(self.message)

    def with_context(
        self,
        *,
        program: str | None = None,
        step: str | None = None,
        field: str | None = None,
    ) -> Self:
        """Fill the context fields that are still unset and return this same error."""
        if self.program is None:
            self.program = program
        if self.step is None:
            self.step = step
        if self.field is None:
            self.field = field
        return self

    @property
    def context(self) -> str:
        """`program 'qa', step 'answer', field 'x'` for the known parts, or ''."""
        parts = [
            f"{kind} '{value}'"
            for kind, value in (
                ("program", self.program),
                ("step", self.step),
                ("field", self.field),
            )
            if value is not None
        ]
        return ", ".join(parts)

    def __str__(self) -> str:
        context = self.context
        return f"{context}: {self.message}" if context else self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), dict(self.__dict__)))


class DspxProviderError(DspxError):
    """The LM provider failed: HTTP error, bad response, connection trouble.

    `retryable` says whether another attempt may succeed (429, 5xx, timeouts, connection errors);
    `attempts` is how many requests were made before giving up.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        attempts: int = 1,
        provider: str | None = None,
        model: str | None = None,
        retry_after_s: float | None = None,
        program: str | None = None,
        step: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, program=program, step=step, field=field)
        self.status = status
        self.retryable = retryable
        self.attempts = attempts
        self.provider = provider
        self.model = model
        self.retry_after_s = retry_after_s


class DspxRateLimitError(DspxProviderError):
    """The provider answered 429; `retry_after_s` holds its Retry-After when it sent one."""


class DspxTimeoutError(DspxProviderError):
    """A request got no complete answer within the model's `timeout_s`."""


class DspxOutputError(DspxError):
    """The LM answered, but its output could not be parsed or validated; `raw` keeps the text."""

    def __init__(
        self,
        message: str,
        *,
        raw: str,
        program: str | None = None,
        step: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, program=program, step=step, field=field)
        self.raw = scrub_secrets(raw)


class DspxBudgetError(DspxError):
    """A spend, token or call budget would be exceeded."""


class DspxConfigError(DspxError):
    """The configuration is invalid or infeasible (bad model spec, missing key, bad value)."""


class DspxSandboxError(DspxError):
    """Code run in the sandbox broke a limit or the sandbox could not run it."""
