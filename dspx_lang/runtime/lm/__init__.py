"""The runtime's LM transport layer: model specs, requests, responses and the client.

Use one `LMClient` per program run (or per process); it is thread-safe and async-safe.
Importing this package imports aiohttp but never litellm (loaded on the first litellm call).
"""

from __future__ import annotations

from dspx_lang.runtime.lm.client import LMClient, LMStats
from dspx_lang.runtime.lm.retry import RetryPolicy
from dspx_lang.runtime.lm.types import (
    LMRequest,
    LMResponse,
    Message,
    ModelSpec,
    ToolCall,
    Transport,
    TransportName,
    Usage,
)

__all__ = [
    "LMClient",
    "LMRequest",
    "LMResponse",
    "LMStats",
    "Message",
    "ModelSpec",
    "RetryPolicy",
    "ToolCall",
    "Transport",
    "TransportName",
    "Usage",
]
