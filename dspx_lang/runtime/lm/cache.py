"""On-disk cache of successful LM responses, in one SQLite file (WAL mode).

Contract:
- Keyed by `wire.cache_key` (model id, endpoint base, full request body; never the API key);
  a value holds only the response: text, tool calls, usage, finish reason, transport. So the
  file contains no secret unless a prompt itself did.
- Safe across threads (one connection per cache, guarded by a lock) and across processes
  (SQLite WAL with a busy timeout); not for network file systems, where WAL locking fails.
- The cache never breaks a call: if the file cannot be opened, read or written, the cache
  warns once and behaves as a miss from then on.
"""

from __future__ import annotations

import json
import threading
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dspx_lang.runtime.lm.types import LMResponse, ToolCall, TransportName, Usage

if TYPE_CHECKING:
    import sqlite3

__all__ = ["CACHE_FILE", "ResponseCache"]

CACHE_FILE = "lm-cache.sqlite3"
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS responses "
    "(key TEXT PRIMARY KEY, value TEXT NOT NULL, created REAL NOT NULL)"
)


class ResponseCache:
    """The response cache in `directory / CACHE_FILE`, opened on first use."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / CACHE_FILE
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._broken = False

    def get(self, key: str) -> LMResponse | None:
        """The stored response (as a cache hit: cost 0, no latency yet), or None."""
        import sqlite3

        with self._lock:
            db = self._open()
            if db is None:
                return None
            try:
                row = db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
            except sqlite3.Error as exc:
                self._fail(exc)
                return None
        return None if row is None else _decode(row[0])

    def put(self, key: str, response: LMResponse) -> None:
        value = json.dumps(
            {
                "text": response.text,
                "tool_calls": [[c.id, c.name, c.arguments] for c in response.tool_calls],
                "usage": [response.usage.prompt_tokens, response.usage.completion_tokens],
                "finish_reason": response.finish_reason,
                "transport": response.transport,
            },
            ensure_ascii=False,
        )
        import sqlite3

        with self._lock:
            db = self._open()
            if db is None:
                return
            try:
                db.execute(
                    "INSERT OR REPLACE INTO responses (key, value, created) VALUES (?, ?, ?)",
                    (key, value, time.time()),
                )
            except sqlite3.Error as exc:
                self._fail(exc)

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def _open(self) -> sqlite3.Connection | None:
        import sqlite3

        if self._db is not None or self._broken:
            return self._db
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable in WAL mode except for the last commits on power loss: fine
            # for a cache, and it avoids an fsync per call.
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            self._fail(exc)
            return None
        self._db = db
        return db

    def _fail(self, exc: Exception) -> None:
        if not self._broken:
            warnings.warn(
                f"dspx LM cache at {self.path} is unusable ({exc}); calls continue uncached. "
                "Set DSPX_CACHE_DIR to a writable local directory or DSPX_CACHE=0",
                RuntimeWarning,
                stacklevel=3,
            )
        self._broken = True
        if self._db is not None:
            self._db.close()
            self._db = None


def _decode(value: str) -> LMResponse | None:
    try:
        data: Any = json.loads(value)
        transport: TransportName = "litellm" if data["transport"] == "litellm" else "native"
        return LMResponse(
            text=str(data["text"]),
            tool_calls=tuple(ToolCall(str(i), str(n), str(a)) for i, n, a in data["tool_calls"]),
            usage=Usage(int(data["usage"][0]), int(data["usage"][1])),
            cost_usd=0.0,
            cached=True,
            finish_reason=data["finish_reason"],
            transport=transport,
            attempts=0,
        )
    except (ValueError, KeyError, TypeError, IndexError):
        return None
