"""Value types of the LM client: what a model is, what a call asks for, what it returned.

Contract:
- All types are frozen, slotted dataclasses; a `ModelSpec` is hashable and validated on
  construction (a bad value is a `DspxConfigError` that names the field and the fix).
- `ModelSpec` never holds an API key, only the name of the environment variable it is read
  from at call time.
- `model_id` is litellm style `provider/model`; a bare id takes its provider from litellm's
  price map (`gpt-4o-mini` is `openai`), or `openai` when the map does not know it.
- Request settings override the model's defaults (`request.temperature` over
  `model.temperature`, same for `max_tokens`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from dspx_lang.runtime.errors import DspxConfigError

__all__ = [
    "NATIVE_PROVIDERS",
    "LMRequest",
    "LMResponse",
    "Message",
    "ModelSpec",
    "ToolCall",
    "Transport",
    "TransportName",
    "Usage",
]

Transport = Literal["auto", "native", "litellm"]
TransportName = Literal["native", "litellm"]
Message = Mapping[str, Any]

# Providers whose chat endpoint is OpenAI's wire format, served natively: litellm's own
# handlers for these send the request unchanged. Each maps to (key env var, base env var,
# default base).
NATIVE_PROVIDERS: Mapping[str, tuple[str, str, str | None]] = {
    "openai": ("OPENAI_API_KEY", "OPENAI_BASE_URL", "https://api.openai.com/v1"),
    "hosted_vllm": ("HOSTED_VLLM_API_KEY", "HOSTED_VLLM_API_BASE", None),
    "lm_studio": ("LM_STUDIO_API_KEY", "LM_STUDIO_API_BASE", None),
    "llamafile": ("LLAMAFILE_API_KEY", "LLAMAFILE_API_BASE", "http://127.0.0.1:8080/v1"),
}
_TRANSPORTS = ("auto", "native", "litellm")


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One declared model: endpoint, defaults and call policy. Costs are USD per 1M tokens."""

    name: str
    model_id: str
    api_base: str | None = None
    api_key_env: str | None = None
    input_cost: float | None = None
    output_cost: float | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    timeout_s: float = 60.0
    retries: int = 3
    concurrency: int = 32
    transport: Transport = "auto"

    def __post_init__(self) -> None:
        where = f"model '{self.name}'"
        if not self.model_id or self.model_id != self.model_id.strip():
            raise DspxConfigError(f"{where}: model id must be like 'openai/gpt-4o-mini'")
        if self.api_base is not None and not self.api_base.startswith(("http://", "https://")):
            raise DspxConfigError(
                f"{where}: api_base must be an http(s) URL such as "
                f"'http://127.0.0.1:8080/v1', not {self.api_base!r}"
            )
        if self.transport not in _TRANSPORTS:
            raise DspxConfigError(
                f"{where}: transport must be one of {', '.join(_TRANSPORTS)}, "
                f"not {self.transport!r}"
            )
        checks: tuple[tuple[str, bool], ...] = (
            ("timeout_s must be > 0", self.timeout_s > 0),
            ("retries must be >= 0", self.retries >= 0),
            ("concurrency must be >= 1", self.concurrency >= 1),
            ("max_tokens must be >= 1", self.max_tokens is None or self.max_tokens >= 1),
            ("input_cost must be >= 0", self.input_cost is None or self.input_cost >= 0),
            ("output_cost must be >= 0", self.output_cost is None or self.output_cost >= 0),
            ("temperature must be >= 0", self.temperature is None or self.temperature >= 0),
        )
        for message, ok in checks:
            if not ok:
                raise DspxConfigError(f"{where}: {message}")

    @property
    def provider(self) -> str:
        """litellm provider: the id's prefix, else the price map's provider, else `openai`."""
        prefix, sep, _ = self.model_id.partition("/")
        if sep:
            return prefix
        from dspx_lang.modelfacts import lookup

        facts = lookup(self.model_id)
        return facts.provider if facts is not None else "openai"

    @property
    def wire_model(self) -> str:
        """The `model` field sent to an OpenAI-compatible endpoint (provider prefix removed)."""
        _, sep, rest = self.model_id.partition("/")
        return rest if sep else self.model_id

    def native_base(self) -> str | None:
        """Endpoint base for the native path, or None when the model is not OpenAI-compatible."""
        defaults = NATIVE_PROVIDERS.get(self.provider)
        if self.api_base:
            return self.api_base.rstrip("/")
        if defaults is None:
            return None
        base = os.environ.get(defaults[1]) or defaults[2]
        return base.rstrip("/") if base else None

    def resolved_transport(self) -> TransportName:
        """`native` for OpenAI-compatible endpoints under `auto`, else `litellm`."""
        if self.transport != "auto":
            return self.transport
        native = self.provider in NATIVE_PROVIDERS and self.native_base() is not None
        return "native" if native else "litellm"

    def key_env(self) -> str | None:
        """The env var holding the API key: `api_key_env`, else the provider's default."""
        if self.api_key_env:
            return self.api_key_env
        defaults = NATIVE_PROVIDERS.get(self.provider)
        return defaults[0] if defaults is not None else None


@dataclass(frozen=True, slots=True)
class LMRequest:
    """One chat call. `response_format` is a JSON schema for structured output (or an already
    wrapped OpenAI `response_format` such as `{"type": "json_object"}`); `tools` are OpenAI tool
    schemas."""

    messages: Sequence[Message]
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: Mapping[str, Any] | None = None
    tools: Sequence[Mapping[str, Any]] | None = None
    tool_choice: str | Mapping[str, Any] | None = None
    stop: Sequence[str] | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.messages, str | bytes) or not self.messages:
            raise DspxConfigError("an LM request needs a non-empty list of chat messages")
        for index, message in enumerate(self.messages):
            if not isinstance(message, Mapping) or not isinstance(message.get("role"), str):
                raise DspxConfigError(
                    f"LM request message {index} must be a mapping with a 'role' string"
                )
        if isinstance(self.stop, str):
            raise DspxConfigError("LM request 'stop' must be a list of strings, not one string")


@dataclass(frozen=True, slots=True)
class Usage:
    """Tokens the provider reported for one call (0 when it reported none)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call the LM asked for; `arguments` is the raw JSON text it wrote."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class LMResponse:
    """The outcome of one call. A cache hit has `cached=True`, cost 0 and `attempts=0`."""

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Usage = field(default_factory=Usage)
    cost_usd: float | None = None
    latency_s: float = 0.0
    cached: bool = False
    finish_reason: str | None = None
    transport: TransportName = "native"
    attempts: int = 1
