"""Offline token counting: encodings per model family, chat overhead, laziness, offline files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import dspx_lang
from dspx_lang.tokens import (
    count_message_tokens,
    count_tokens,
    encoding_name,
    message_tokens_bound,
    text_tokens_bound,
)

ROOT = Path(dspx_lang.__file__).parent.parent


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("openai/gpt-4o-mini", "o200k_base"),
        ("gpt-4.1-nano", "o200k_base"),
        ("o3-mini", "o200k_base"),
        ("azure/gpt-5", "o200k_base"),
        ("openai/gpt-4", "cl100k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
        ("anthropic/claude-sonnet-4-5", "cl100k_base"),
        ("openai/qwen2.5-0.5b-instruct", "cl100k_base"),
        ("text-davinci-003", "cl100k_base"),  # p50k_base is not bundled: never downloaded
    ],
)
def test_encoding_per_model_family(model_id: str, expected: str) -> None:
    assert encoding_name(model_id) == expected


def test_known_counts() -> None:
    assert count_tokens("hello world", "gpt-4o") == 2
    assert count_tokens("hello world", "gpt-4") == 2
    # Special-token text is ordinary text here, not a special token (nor an error).
    assert count_tokens("<|endoftext|>", "gpt-4o") > 1


def test_chat_overhead_follows_openais_cookbook() -> None:
    hello = [{"role": "user", "content": "hello"}]
    # 3 per message + "user" + "hello" + 3 for the reply primer: OpenAI reports 8.
    assert count_message_tokens(hello, "gpt-4o") == 8
    named = [{"role": "user", "content": "hello", "name": "bob"}]
    assert count_message_tokens(named, "gpt-4o") == 8 + 1 + count_tokens("bob", "gpt-4o")
    parts = [{"role": "user", "content": [{"type": "text", "text": "hello"}, {"type": "image"}]}]
    assert count_message_tokens(parts, "gpt-4o") == 8
    call = {"name": "search", "arguments": '{"q": "x"}'}
    tools = [{"role": "assistant", "content": None, "tool_calls": [{"function": call}]}]
    expected = 3 + 3 + count_tokens("assistant", "gpt-4o")
    expected += count_tokens("search", "gpt-4o") + count_tokens('{"q": "x"}', "gpt-4o")
    assert count_message_tokens(tools, "gpt-4o") == expected


@given(text=st.text(), model=st.sampled_from(["gpt-4o", "gpt-4", "claude"]))
def test_count_is_bounded_by_utf8_bytes(text: str, model: str) -> None:
    n = count_tokens(text, model)
    assert n <= text_tokens_bound(text) == len(text.encode("utf-8"))
    assert (n == 0) == (text == "")


messages = st.lists(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["system", "user", "assistant"]), "content": st.text()},
        optional={
            "name": st.text(max_size=8),
            "tool_calls": st.lists(
                st.fixed_dictionaries(
                    {"function": st.fixed_dictionaries({"name": st.text(), "arguments": st.text()})}
                ),
                max_size=2,
            ),
        },
    ),
    max_size=4,
)


@given(chat=messages, model=st.sampled_from(["gpt-4o", "gpt-4", "claude"]))
def test_message_bound_is_never_below_the_count(chat: list[dict[str, object]], model: str) -> None:
    assert message_tokens_bound(chat) >= count_message_tokens(chat, model)


@given(a=st.text(), b=st.text())
def test_message_count_grows_with_content(a: str, b: str) -> None:
    shorter = count_message_tokens([{"role": "user", "content": a}], "gpt-4o")
    longer = count_message_tokens(
        [{"role": "user", "content": a}, {"role": "user", "content": b}], "gpt-4o"
    )
    assert longer >= shorter + 3


def _fresh(code: str, **env: str) -> str:
    environment = {k: v for k, v in os.environ.items() if k != "TIKTOKEN_CACHE_DIR"}
    environment.update(PYTHONPATH=str(ROOT), **env)
    done = subprocess.run(
        [sys.executable, "-c", code], env=environment, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_tiktoken_is_lazy_and_points_at_litellms_bundled_files() -> None:
    out = _fresh(
        "import os, sys\n"
        "import dspx_lang.tokens as t\n"
        "before = 'tiktoken' in sys.modules\n"
        "n = t.count_tokens('hello world', 'gpt-4o')\n"
        "print(before, n, 'litellm' in sys.modules, os.environ['TIKTOKEN_CACHE_DIR'])"
    )
    before, n, litellm_loaded, cache_dir = out.split(" ", 3)
    assert (before, n, litellm_loaded) == ("False", "2", "False")
    assert cache_dir.endswith(os.path.join("litellm", "litellm_core_utils", "tokenizers"))


def test_user_tiktoken_cache_dir_is_respected(tmp_path: Path) -> None:
    bundled = Path(_fresh("import dspx_lang.tokens as t; print(t._bundled_tokenizer_dir())"))
    cl100k = "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"  # tiktoken's cache name for it
    shutil.copy(bundled / cl100k, tmp_path / cl100k)
    out = _fresh(
        "import os, dspx_lang.tokens as t\n"
        "print(t.count_tokens('hello world', 'gpt-4'), os.environ['TIKTOKEN_CACHE_DIR'])",
        TIKTOKEN_CACHE_DIR=str(tmp_path),
    )
    assert out == f"2 {tmp_path}"
