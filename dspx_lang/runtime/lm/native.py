"""The native transport: OpenAI-compatible `POST {base}/chat/completions` over aiohttp.

Contract:
- One `aiohttp.ClientSession` per transport, created on first use on the event loop that
  runs the transport (the client's engine loop) and closed by `aclose`; connections are kept
  alive and reused, the pool itself is unbounded because per-model semaphores bound it.
- `send` sets no deadline itself: the client wraps every attempt in
  `asyncio.timeout(model.timeout_s)`, and cancelling the request closes its socket.
- Every failure is a `DspxProviderError` (or subclass) classified by `retry.is_retryable_status`;
  connection resets and truncated bodies are retryable.
- The API key is a parameter of `send`, put only into the Authorization header of that request.
- aiohttp is imported on the first request, not with this module (it costs ~100 ms of a
  compiled program's import).
- Proxies: `HTTP(S)_PROXY`/`NO_PROXY` are honoured like httpx (litellm's client) does, resolved
  once per endpoint; aiohttp's `trust_env` is not used because it reads `.netrc` in a worker
  thread on every request.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dspx_lang.runtime.errors import DspxProviderError
from dspx_lang.runtime.lm.retry import parse_retry_after, status_error
from dspx_lang.runtime.lm.types import ModelSpec
from dspx_lang.runtime.lm.wire import Completion, parse_completion

if TYPE_CHECKING:
    import aiohttp

__all__ = ["NativeTransport", "proxy_for"]


def proxy_for(url: str) -> str | None:
    """The proxy the environment asks for to reach `url`, or None."""
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    proxy = urllib.request.getproxies().get(parts.scheme)
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return proxy


class NativeTransport:
    """aiohttp client for OpenAI-compatible chat endpoints; lives on one event loop."""

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    async def send(
        self,
        model: ModelSpec,
        url: str,
        body: bytes,
        api_key: str | None,
        proxy: str | None,
    ) -> Completion:
        import aiohttp

        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        try:
            async with self._client().post(url, data=body, headers=headers, proxy=proxy) as resp:
                raw = await resp.read()
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
        except aiohttp.ClientPayloadError as exc:
            raise _transport_error(model, url, f"the response body was cut short ({exc})") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise _transport_error(model, url, f"connection failed ({exc!r})") from None
        if status != 200:
            detail = _error_detail(raw)
            raise status_error(model, status, detail, parse_retry_after(retry_after))
        try:
            data: Any = json.loads(raw)
        except ValueError:
            raise DspxProviderError(
                f"model '{model.name}' ({model.model_id}): the server at {url} returned "
                f"invalid JSON ({len(raw)} bytes): {raw[:200]!r}",
                status=status,
                retryable=True,
                provider=model.provider,
                model=model.model_id,
            ) from None
        return parse_completion(data, model)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _error_detail(raw: bytes) -> str:
    """The provider's error message (`error.message` in OpenAI's format), else the body."""
    text = raw.decode("utf-8", "replace")
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    error = data.get("error") if isinstance(data, dict) else None
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)[:500] if message else text[:500]


def _transport_error(model: ModelSpec, url: str, what: str) -> DspxProviderError:
    return DspxProviderError(
        f"model '{model.name}' ({model.model_id}): request to {url} failed: {what}",
        retryable=True,
        provider=model.provider,
        model=model.model_id,
    )
