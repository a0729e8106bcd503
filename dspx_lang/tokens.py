"""Offline token counting with tiktoken, for estimates and budgets.

Contract:
- Never touches the network: litellm ships the `cl100k_base` and `o200k_base` BPE files in
  `litellm/litellm_core_utils/tokenizers/` (named as tiktoken's cache names them), so when the
  user has not set `TIKTOKEN_CACHE_DIR` it is pointed there, found without importing litellm.
  A user-set `TIKTOKEN_CACHE_DIR` is respected as is.
- Only these two encodings are ever loaded: `o200k_base` for the model families tiktoken maps
  to it (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, o1/o3/o4, gpt-oss), `cl100k_base` for everything else.
- Non-OpenAI models (Claude, Llama, Qwen, Mistral, Gemini) have their own tokenizers; for them
  the count is `cl100k_base`'s, an estimate: expect it within about ±15-25 % of the provider's
  own count on English prose (more off on code, non-Latin scripts and long digit runs).
- tiktoken is imported on the first count, not when this module is imported.
- `count_tokens("") == 0` and the count never exceeds the UTF-8 byte length (byte-level BPE).
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import tiktoken

__all__ = [
    "count_message_tokens",
    "count_tokens",
    "encoding_name",
    "message_tokens_bound",
    "text_tokens_bound",
]

# OpenAI's cookbook: every chat message costs 3 tokens of framing, a `name` one more, and the
# reply is primed with 3 (`<|start|>assistant<|message|>`).
_TOKENS_PER_MESSAGE = 3
_TOKENS_PER_NAME = 1
_REPLY_PRIMING = 3


@functools.cache
def encoding_name(model_id: str) -> str:
    """`o200k_base` or `cl100k_base`: the bundled encoding used for `model_id`."""
    import tiktoken.model

    bare = model_id.rsplit("/", 1)[-1]
    try:
        name = tiktoken.model.encoding_name_for_model(bare)
    except KeyError:
        return "cl100k_base"
    # o200k_harmony only adds special tokens to o200k_base; older encodings are not bundled.
    return "o200k_base" if name.startswith("o200k") else "cl100k_base"


def count_tokens(text: str, model_id: str) -> int:
    """Number of tokens `text` encodes to for `model_id` (special-token text counted as text)."""
    if not text:
        return 0
    return len(_encoding(encoding_name(model_id)).encode_ordinary(text))


def count_message_tokens(messages: Sequence[Mapping[str, Any]], model_id: str) -> int:
    """Prompt tokens of a chat request, counting the chat format's per-message overhead.

    Follows OpenAI's cookbook (`num_tokens_from_messages`): content parts of type `text` count,
    other parts (images, audio) do not; assistant `tool_calls` count their name and arguments.
    """
    enc = _encoding(encoding_name(model_id))
    return _message_tokens(messages, lambda text: len(enc.encode_ordinary(text)))


def text_tokens_bound(text: str) -> int:
    """An upper bound of `count_tokens(text, m)` for every model, without loading tiktoken:
    a byte-level BPE token encodes at least one byte."""
    return len(text.encode("utf-8", "surrogatepass"))


def message_tokens_bound(messages: Sequence[Mapping[str, Any]]) -> int:
    """An upper bound of `count_message_tokens(messages, m)` for every model, without tiktoken
    (a check that the bound settles, such as "fits the context window", needs no count)."""
    return _message_tokens(messages, text_tokens_bound)


def _message_tokens(messages: Sequence[Mapping[str, Any]], count: Callable[[str], int]) -> int:
    total = _REPLY_PRIMING
    for message in messages:
        total += _TOKENS_PER_MESSAGE
        for key, value in message.items():
            if key == "name":
                total += _TOKENS_PER_NAME
            total += sum(count(text) for text in _texts(key, value))
    return total


def _texts(key: str, value: object) -> list[str]:
    """The text pieces of one message field that the model reads as tokens."""
    if isinstance(value, str):
        return [value]
    if key == "content" and isinstance(value, list):
        return [
            part["text"]
            for part in value
            if isinstance(part, Mapping) and part.get("type") == "text" and "text" in part
        ]
    if key == "tool_calls" and isinstance(value, list):
        texts: list[str] = []
        for call in value:
            function = call.get("function", {}) if isinstance(call, Mapping) else {}
            arguments = function.get("arguments", "")
            texts.append(str(function.get("name", "")))
            texts.append(arguments if isinstance(arguments, str) else json.dumps(arguments))
        return texts
    return []


@functools.cache
def _encoding(name: str) -> tiktoken.Encoding:
    """Load one bundled encoding; cached because loading o200k_base takes ~0.3 s."""
    if "TIKTOKEN_CACHE_DIR" not in os.environ:
        bundled = _bundled_tokenizer_dir()
        if bundled is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    import tiktoken

    return tiktoken.get_encoding(name)


def _bundled_tokenizer_dir() -> Path | None:
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "litellm_core_utils" / "tokenizers"
    return path if path.is_dir() else None
