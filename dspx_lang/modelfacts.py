"""Model facts (prices, context window, capabilities) from litellm's bundled price map.

Contract:
- Reads `model_prices_and_context_window_backup.json` from the installed litellm package
  without importing litellm and without touching the network; no litellm installed means
  `lookup` returns None and `known_model_ids` is empty.
- `lookup` resolves ids the way litellm keys them: the exact key first (`gpt-4o-mini`,
  `gemini/gemini-2.0-flash`, `openrouter/openai/gpt-4o`), then `provider/model` as the key
  `model` whose provider is `provider` (`openai/gpt-4o-mini`, `vertex_ai/gemini-1.5-pro`).
  An id whose provider does not match (`hosted_vllm/gpt-4o-mini`) is unknown, never
  priced with another provider's prices.
- Costs are USD per 1M tokens. Every id in `known_model_ids()` looks up to facts.
- Speed: the 3 MB JSON takes ~25-50 ms to parse, too slow for a cold `dspxc check`. The
  fields used here are cached as a marshal file in `user_cache_dir()`, keyed by the JSON's
  path, size and mtime (a litellm upgrade rewrites the file) and the Python version (marshal's
  format); loading it takes ~2 ms. A missing or unwritable cache dir only costs speed.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import marshal
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["ModelFacts", "known_model_ids", "lookup", "price_map_path", "user_cache_dir"]

_PRICE_FILE = "model_prices_and_context_window_backup.json"
_CHAT_MODES = frozenset({"chat", "completion", "responses"})
_CACHE_FORMAT = 1
_PER_MILLION = 1_000_000

# One row per price-map key: the fields ModelFacts needs, in this order.
_Row = tuple[str, str, float | None, float | None, int | None, int | None, bool, bool]


@dataclass(frozen=True, slots=True)
class ModelFacts:
    """What litellm's price map says about one chat model."""

    model_id: str
    key: str
    provider: str
    mode: str
    input_cost: float | None
    output_cost: float | None
    max_input_tokens: int | None
    max_output_tokens: int | None
    supports_function_calling: bool
    supports_response_schema: bool


def user_cache_dir() -> Path:
    """dspx's per-user cache directory: `DSPX_CACHE_DIR`, else the platform's user cache dir."""
    override = os.environ.get("DSPX_CACHE_DIR")
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "dspx" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "dspx"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dspx"


def price_map_path() -> Path | None:
    """The price-map JSON inside the installed litellm, found without importing litellm."""
    try:
        spec = importlib.util.find_spec("litellm")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / _PRICE_FILE
    return path if path.is_file() else None


def lookup(model_id: str) -> ModelFacts | None:
    """Facts for `model_id` (`provider/model` or a bare litellm key), or None if unknown."""
    table = _table()
    row = table.get(model_id)
    if row is not None:
        return _facts(model_id, model_id, row)
    prefix, sep, rest = model_id.partition("/")
    if sep:
        row = table.get(rest)
        if row is not None and _provider_matches(row[0], prefix):
            return _facts(model_id, rest, row)
    return None


def known_model_ids() -> list[str]:
    """Sorted `provider/model` ids of every chat model in the price map (for completion)."""
    return list(_known_ids())


def _provider_matches(provider: str, prefix: str) -> bool:
    # litellm files Vertex models under providers such as `vertex_ai-language-models`.
    return provider == prefix or provider.startswith(prefix + "-")


def _facts(model_id: str, key: str, row: _Row) -> ModelFacts:
    provider, mode, in_cost, out_cost, max_in, max_out, tools, schema = row
    return ModelFacts(
        model_id=model_id,
        key=key,
        provider=provider,
        mode=mode,
        input_cost=in_cost,
        output_cost=out_cost,
        max_input_tokens=max_in,
        max_output_tokens=max_out,
        supports_function_calling=tools,
        supports_response_schema=schema,
    )


@functools.cache
def _known_ids() -> tuple[str, ...]:
    ids = set()
    for key, row in _table().items():
        if "/" in key:
            ids.add(key)
        else:
            ids.add(f"{_user_prefix(row[0])}/{key}")
    return tuple(sorted(ids))


@functools.cache
def _table() -> dict[str, _Row]:
    """The price map reduced to chat models; read once per process (it never changes)."""
    source = price_map_path()
    if source is None:
        return {}
    stat = source.stat()
    fingerprint = f"{_CACHE_FORMAT}|{source}|{stat.st_size}|{stat.st_mtime_ns}|{sys.version_info}"
    # crc32, not hashlib: loading OpenSSL costs ~6 ms of a cold `dspxc check`.
    cache_file = user_cache_dir() / f"modelfacts-{zlib.crc32(fingerprint.encode()):08x}.marshal"
    try:
        loaded = marshal.loads(cache_file.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        loaded = None
    if isinstance(loaded, dict):
        return loaded
    table = _parse(source)
    _write_cache(cache_file, table)
    return table


def _parse(source: Path) -> dict[str, _Row]:
    raw: dict[str, Any] = json.loads(source.read_bytes())
    table: dict[str, _Row] = {}
    for key, entry in raw.items():
        if not isinstance(entry, dict) or entry.get("mode") not in _CHAT_MODES:
            continue
        provider = entry.get("litellm_provider")
        if not isinstance(provider, str):
            continue
        table[key] = (
            provider,
            str(entry["mode"]),
            _per_million(entry.get("input_cost_per_token")),
            _per_million(entry.get("output_cost_per_token")),
            _int_or_none(entry.get("max_input_tokens")),
            _int_or_none(entry.get("max_output_tokens")),
            bool(entry.get("supports_function_calling")),
            bool(entry.get("supports_response_schema")),
        )
    return table


def _per_million(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Round away binary noise: 1.5e-07 * 1e6 is 0.15000000000000002.
        return round(float(value) * _PER_MILLION, 9)
    return None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    return None


def _write_cache(cache_file: Path, table: dict[str, _Row]) -> None:
    tmp = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(marshal.dumps(table))
        os.replace(tmp, cache_file)
        for stale in cache_file.parent.glob("modelfacts-*.marshal"):
            if stale != cache_file:
                stale.unlink(missing_ok=True)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def _user_prefix(provider: str) -> str:
    # The prefix users write: `vertex_ai/...` for every `vertex_ai-*_models` family.
    return "vertex_ai" if provider.startswith("vertex_ai-") else provider
