"""Retry policy shared by both transports: what is retryable and how long to wait.

Contract:
- Retryable: HTTP 408, 409, 429 and every 5xx, timeouts, connection errors and malformed
  responses. Anything else (400, 401, 403, 404, 422...) fails at once: repeating it cannot help.
- The wait before attempt n+1 is exponential with jitter, `base * 2**(n-1)` scaled by a
  random factor in [0.5, 1], capped at `max_s`; a provider's Retry-After replaces it (capped
  at `max_retry_after_s`, so one bad header cannot stall a run for hours).
- `status_error` turns an HTTP error answer into the typed error both transports raise.
- `parse_retry_after` reads both forms of the header (delta seconds and HTTP date) and
  returns None for anything else; it never returns a negative wait.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from typing import Any

from dspx_lang.runtime.errors import DspxProviderError, DspxRateLimitError
from dspx_lang.runtime.lm.types import ModelSpec

__all__ = ["RetryPolicy", "is_retryable_status", "parse_retry_after", "status_error"]

_RETRYABLE_STATUS = frozenset({408, 409, 429})


def is_retryable_status(status: int) -> bool:
    """Whether another attempt may succeed after HTTP `status`."""
    return status in _RETRYABLE_STATUS or status >= 500


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header value, or None if absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        import email.utils  # only for the rare HTTP-date form; it costs ~3 ms to import

        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if math.isnan(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff timing; the number of attempts comes from each model's `retries`."""

    base_s: float = 0.5
    max_s: float = 30.0
    max_retry_after_s: float = 60.0

    def delay(self, attempt: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        if retry_after_s is not None:
            return min(retry_after_s, self.max_retry_after_s)
        backoff = min(self.max_s, self.base_s * 2.0 ** (attempt - 1))
        return backoff * rng.uniform(0.5, 1.0)


def status_error(
    model: ModelSpec, status: int, detail: str, retry_after_s: float | None
) -> DspxProviderError:
    """The typed error for an HTTP error answer, with what to do about it."""
    where = f"model '{model.name}' ({model.model_id})"
    common: dict[str, Any] = {
        "status": status,
        "retryable": is_retryable_status(status),
        "provider": model.provider,
        "model": model.model_id,
        "retry_after_s": retry_after_s,
    }
    if status == 429:
        return DspxRateLimitError(
            f"{where}: rate limited (HTTP 429): {detail}. Lower the model's `concurrency` "
            "or raise its `retries`",
            **common,
        )
    if status in (401, 403):
        env = model.key_env()
        where_key = f"the API key in ${env}" if env else "the provider's credentials"
        return DspxProviderError(
            f"{where}: authentication failed (HTTP {status}): {detail}. Check {where_key}",
            **common,
        )
    if status == 404:
        return DspxProviderError(
            f"{where}: not found (HTTP 404): {detail}. Check the model id and `api_base`",
            **common,
        )
    if common["retryable"]:
        return DspxProviderError(f"{where}: provider error (HTTP {status}): {detail}", **common)
    return DspxProviderError(
        f"{where}: the provider rejected the request (HTTP {status}): {detail}", **common
    )
