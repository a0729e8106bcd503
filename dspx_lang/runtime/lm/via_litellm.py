"""The litellm transport: `litellm.acompletion` for every provider litellm supports.

Contract:
- litellm is imported on the first call through this transport, in a worker thread (the
  import takes seconds and must not stall native calls on the same loop), with
  `LITELLM_LOCAL_MODEL_COST_MAP=True` unless the user set it, so it never fetches prices.
- The same parameters as the native path (`wire.request_params`) are sent; for
  OpenAI-compatible providers they are repeated in `extra_body`, because llama-cpp-python's
  server was measured ignoring `max_tokens` through litellm until it was also in the body.
- litellm's own retries are off (`num_retries=0`, `max_retries=0`): the client retries, so
  attempts are counted once and the same policy holds on both paths.
- Unsupported parameters are dropped by litellm (`drop_params=True`) instead of failing, since
  a seed or stop list is a preference, not a requirement.
- Every litellm exception becomes a `DspxProviderError` subclass with the same retry
  classification as the native path; the response is validated by `wire.parse_completion`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from dspx_lang.runtime.errors import DspxProviderError, DspxTimeoutError
from dspx_lang.runtime.lm.retry import parse_retry_after, status_error
from dspx_lang.runtime.lm.types import NATIVE_PROVIDERS, LMRequest, ModelSpec
from dspx_lang.runtime.lm.wire import Completion, parse_completion

__all__ = ["LiteLLMTransport"]

_BODY_LIMITS = ("max_tokens", "temperature", "stop", "seed")


def _import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    # Its "Give Feedback / Get Help" banner goes to stdout on every error; we report errors.
    litellm.suppress_debug_info = True
    return litellm


class LiteLLMTransport:
    """Calls litellm; `ready()` must have completed before `send`."""

    def __init__(self) -> None:
        self._litellm: Any = None

    @property
    def loaded(self) -> bool:
        return self._litellm is not None

    async def ready(self) -> None:
        if self._litellm is None:
            self._litellm = await asyncio.to_thread(_import_litellm)

    async def send(
        self,
        model: ModelSpec,
        request: LMRequest,
        params: Mapping[str, Any],
        api_key: str | None,
        timeout_s: float,
    ) -> Completion:
        kwargs: dict[str, Any] = {
            "model": model.model_id,
            "messages": [dict(m) for m in request.messages],
            "timeout": timeout_s,
            "num_retries": 0,
            "max_retries": 0,
            "drop_params": True,
            **params,
        }
        if model.api_base:
            kwargs["api_base"] = model.api_base
        if api_key:
            kwargs["api_key"] = api_key
        if "tools" in params:
            # litellm 1.106 imports its MCP bridge (needing the optional `mcp` package) for any
            # call with tools unless told to skip it; dspx tools are plain functions.
            kwargs["_skip_mcp_handler"] = True
        if model.provider in NATIVE_PROVIDERS:
            kwargs["extra_body"] = {k: params[k] for k in _BODY_LIMITS if k in params}
        try:
            response = await self._litellm.acompletion(**kwargs)
        except Exception as exc:
            raise self._typed_error(model, exc) from None
        return parse_completion(_as_wire(response), model)

    def _typed_error(self, model: ModelSpec, exc: Exception) -> DspxProviderError:
        where = f"model '{model.name}' ({model.model_id})"
        detail = str(getattr(exc, "message", None) or exc)[:500]
        if isinstance(exc, self._litellm.Timeout):
            return DspxTimeoutError(
                f"{where}: timed out after {model.timeout_s:g} s: {detail}",
                status=408,
                retryable=True,
                provider=model.provider,
                model=model.model_id,
            )
        status = getattr(exc, "status_code", None)
        headers = getattr(exc, "litellm_response_headers", None)
        retry_after = (
            parse_retry_after(headers.get("retry-after")) if isinstance(headers, Mapping) else None
        )
        if isinstance(exc, self._litellm.APIConnectionError):
            return DspxProviderError(
                f"{where}: connection failed: {detail}",
                retryable=True,
                provider=model.provider,
                model=model.model_id,
            )
        if isinstance(status, int):
            return status_error(model, status, detail, retry_after)
        return DspxProviderError(
            f"{where}: litellm failed: {type(exc).__name__}: {detail}",
            provider=model.provider,
            model=model.model_id,
        )


def _as_wire(response: Any) -> Any:
    """litellm's ModelResponse as an OpenAI JSON dict, for the shared validator."""
    try:
        choice = response.choices[0]
        message = choice.message
        calls = [
            {"id": c.id, "function": {"name": c.function.name, "arguments": c.function.arguments}}
            for c in (message.tool_calls or [])
        ]
        usage = getattr(response, "usage", None)
        return {
            "choices": [
                {
                    "message": {"content": message.content, "tool_calls": calls or None},
                    "finish_reason": choice.finish_reason,
                }
            ],
            "usage": None
            if usage is None
            else {
                "prompt_tokens": usage.prompt_tokens,
                "completion_tokens": usage.completion_tokens,
            },
        }
    except (AttributeError, IndexError, TypeError):
        return None
