"""OpenAI chat-completions wire format: request parameters, body, cache key, response parsing.

Contract:
- `request_params` is the single source of the parameters a call sends; both transports and
  the cache key use it, so a limit set on a request reaches the server on either path and
  two calls that differ in any parameter never share a cache entry.
- The body keeps the caller's key order (no sorting): providers with structured output emit
  fields in the schema's property order, which matters for chain-of-thought style outputs.
- `cache_key` covers model id, endpoint base and the full body; never the API key.
- `parse_completion` accepts only a well-typed completion; anything else is a retryable
  `DspxProviderError` saying what was wrong (a broken proxy or server, not a bad program).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any

from dspx_lang.runtime.errors import DspxConfigError, DspxProviderError
from dspx_lang.runtime.lm.types import LMRequest, ModelSpec, ToolCall, Usage

__all__ = ["Completion", "cache_key", "encode_body", "parse_completion", "request_params"]

# What a transport returns: (text, tool_calls, usage, finish_reason).
Completion = tuple[str, tuple[ToolCall, ...], Usage, str | None]

_CACHE_VERSION = b"dspx-lm-cache-v1"
_WRAPPED_FORMATS = frozenset({"json_schema", "json_object", "text"})
_SCHEMA_NAME = re.compile(r"[^A-Za-z0-9_-]")


def request_params(model: ModelSpec, request: LMRequest) -> dict[str, Any]:
    """The chat parameters of one call in OpenAI wire form; unset ones are left out."""
    params: dict[str, Any] = {}
    temperature = request.temperature if request.temperature is not None else model.temperature
    if temperature is not None:
        params["temperature"] = temperature
    max_tokens = request.max_tokens if request.max_tokens is not None else model.max_tokens
    if max_tokens is not None:
        params["max_tokens"] = max_tokens
    if request.stop:
        params["stop"] = list(request.stop)
    if request.seed is not None:
        params["seed"] = request.seed
    if request.response_format is not None:
        params["response_format"] = _wire_response_format(request.response_format)
    if request.tools:
        params["tools"] = list(request.tools)
    if request.tool_choice is not None:
        params["tool_choice"] = request.tool_choice
    return params


def _wire_response_format(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """Wrap a bare JSON schema as OpenAI's `json_schema` response format."""
    if schema.get("type") in _WRAPPED_FORMATS and set(schema) <= {"type", "json_schema"}:
        return schema
    title = schema.get("title")
    name = _SCHEMA_NAME.sub("_", title)[:64] if isinstance(title, str) and title else "output"
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}


def encode_body(model: ModelSpec, request: LMRequest, params: Mapping[str, Any]) -> bytes:
    """The JSON body for `POST {base}/chat/completions`."""
    body = {"model": model.wire_model, "messages": request.messages, **params}
    try:
        return json.dumps(
            body, ensure_ascii=False, separators=(",", ":"), default=_jsonable
        ).encode()
    except (TypeError, ValueError) as exc:
        raise DspxConfigError(
            f"model '{model.name}': the LM request is not JSON-serializable ({exc}); "
            "messages, tools and schemas must be JSON data"
        ) from None


def _jsonable(value: object) -> object:
    # Request fields are typed as Mapping/Sequence; json only knows dict/list/tuple.
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, list | tuple | set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


def cache_key(model: ModelSpec, base: str | None, body: bytes) -> str:
    """Cache key of a call: model id, endpoint base and body (which holds every parameter)."""
    digest = hashlib.sha256(_CACHE_VERSION)
    digest.update(b"\0" + model.model_id.encode() + b"\0" + (base or "").encode() + b"\0")
    digest.update(body)
    return digest.hexdigest()


def parse_completion(data: Any, model: ModelSpec) -> Completion:
    """(text, tool_calls, usage, finish_reason) of a chat completion, or a provider error."""
    if isinstance(data, dict) and "error" in data and "choices" not in data:
        raise _malformed(model, f"the provider returned an error: {_short(data['error'])}")
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise _malformed(model, "the response has no 'choices'")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise _malformed(model, "choices[0] has no 'message' object")
    text = _content_text(message.get("content"), model)
    tool_calls = _tool_calls(message.get("tool_calls"), model)
    finish = choices[0].get("finish_reason")
    if finish is not None and not isinstance(finish, str):
        raise _malformed(model, f"'finish_reason' is {type(finish).__name__}, not a string")
    return text, tool_calls, _usage(data.get("usage"), model), finish


def _content_text(content: object, model: ModelSpec) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    # Some servers send content as a list of typed parts.
    if isinstance(content, list) and all(isinstance(p, dict) for p in content):
        return "".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    raise _malformed(model, f"message 'content' is {type(content).__name__}, not a string")


def _tool_calls(raw: object, model: ModelSpec) -> tuple[ToolCall, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise _malformed(model, "'tool_calls' is not a list")
    calls = []
    for index, item in enumerate(raw):
        function = item.get("function") if isinstance(item, dict) else None
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(function, dict) or not isinstance(name, str):
            raise _malformed(model, f"tool call {index} has no function name")
        arguments = function.get("arguments", "")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments)
        call_id = item.get("id")
        calls.append(ToolCall(str(call_id) if call_id else f"call_{index}", name, arguments))
    return tuple(calls)


def _usage(raw: object, model: ModelSpec) -> Usage:
    if raw is None:
        return Usage()
    if not isinstance(raw, dict):
        raise _malformed(model, "'usage' is not an object")
    counts = []
    for name in ("prompt_tokens", "completion_tokens"):
        value = raw.get(name, 0)
        if value is None:
            value = 0
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise _malformed(model, f"usage '{name}' is {value!r}, not a token count")
        counts.append(value)
    return Usage(counts[0], counts[1])


def _short(value: object, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + "..."


def _malformed(model: ModelSpec, what: str) -> DspxProviderError:
    return DspxProviderError(
        f"model '{model.name}' ({model.model_id}): malformed chat completion: {what}",
        retryable=True,
        provider=model.provider,
        model=model.model_id,
    )
