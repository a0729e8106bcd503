"""Token counts for estimates, remembered on disk between runs.

Why: loading a tiktoken encoding takes 0.2-0.4 s, more than a whole
`dspxc check` should; the texts an estimate counts (rendered prompts) repeat
from run to run, so counts are memoised by (encoding, sha1 of text) in
`<user cache dir>/token-counts.json` and tiktoken loads only on a miss.
A damaged memo file is ignored and rewritten.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dspx_lang import tokens
from dspx_lang.modelfacts import user_cache_dir

MAX_ENTRIES = 50_000


class TokenCounter:
    """Counts tokens with a persistent memo. Instances are cheap; the memo is per file."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.memo: dict[str, int] = {}
        self.dirty = False
        if path is not None:
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(loaded, dict):
                    self.memo = {k: v for k, v in loaded.items() if isinstance(v, int)}
            except (OSError, ValueError):
                self.memo = {}

    @classmethod
    def shared(cls) -> TokenCounter:
        """The process's counter for the user cache file (`DSPX_CACHE=0`: none, no file)."""
        if os.environ.get("DSPX_CACHE", "1") == "0":
            return cls(None)
        return _shared(user_cache_dir() / "token-counts.json")

    def _key(self, kind: str, payload: str, model_id: str) -> str:
        digest = hashlib.sha1(payload.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{kind}:{_family(model_id)}:{digest}"

    def text(self, text: str, model_id: str) -> int:
        key = self._key("t", text, model_id)
        if key not in self.memo:
            self.memo[key] = tokens.count_tokens(text, model_id)
            self.dirty = True
        return self.memo[key]

    def messages(self, messages: Sequence[Mapping[str, Any]], model_id: str) -> int:
        payload = "\x1e".join(
            "\x1f".join(f"{k}={v}" for k, v in sorted(m.items())) for m in messages
        )
        key = self._key("m", payload, model_id)
        if key not in self.memo:
            self.memo[key] = tokens.count_message_tokens(messages, model_id)
            self.dirty = True
        return self.memo[key]

    def save(self) -> None:
        """Write new counts back (atomically; a failure only costs speed next time)."""
        if not self.dirty or self.path is None:
            return
        entries = dict(list(self.memo.items())[-MAX_ENTRIES:])
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entries, handle)
            os.replace(tmp, self.path)
            self.dirty = False
        except OSError:
            return


@functools.cache
def _shared(path: Path) -> TokenCounter:
    # One memo per process (a long-running language server analyses again and again).
    return TokenCounter(path)


def _family(model_id: str) -> str:
    """Models sharing an encoding share counts; decided without loading tiktoken."""
    bare = model_id.rsplit("/", 1)[-1].lower()
    if bare.startswith(("gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4", "gpt-oss")):
        return "o200k"
    return "cl100k"
