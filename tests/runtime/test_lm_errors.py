"""Typed errors: context in messages, secrets scrubbed, pickling, hierarchy."""

from __future__ import annotations

import os
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dspx_lang.runtime import (
    DspxBudgetError,
    DspxConfigError,
    DspxError,
    DspxOutputError,
    DspxProviderError,
    DspxRateLimitError,
    DspxSandboxError,
    DspxTimeoutError,
)
from dspx_lang.runtime.errors import scrub_secrets

KEY_CHARS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def test_context_names_program_step_and_field() -> None:
    err = DspxOutputError("expected a number, got 'high'", raw="high")
    assert str(err) == "expected a number, got 'high'"
    same = err.with_context(program="qa", step="answer", field="confidence")
    assert same is err
    assert (
        str(err) == "program 'qa', step 'answer', field 'confidence': expected a number, got 'high'"
    )


def test_inner_context_wins_and_missing_parts_are_left_out() -> None:
    err = DspxProviderError("boom").with_context(step="answer")
    err.with_context(program="qa", step="outer")
    assert (err.program, err.step, err.field) == ("qa", "answer", None)
    assert str(err) == "program 'qa', step 'answer': boom"


def test_raise_with_context_keeps_the_traceback() -> None:
    def inner() -> None:
        raise DspxTimeoutError("slow", retryable=True)

    def outer() -> None:
        try:
            inner()
        except DspxError as exc:
            raise exc.with_context(program="p") from None

    with pytest.raises(DspxTimeoutError) as caught:
        outer()
    assert caught.value.program == "p"
    assert [entry.name for entry in caught.traceback][-1] == "inner"


def test_hierarchy() -> None:
    assert issubclass(DspxRateLimitError, DspxProviderError)
    assert issubclass(DspxTimeoutError, DspxProviderError)
    for cls in (DspxOutputError, DspxBudgetError, DspxConfigError, DspxSandboxError):
        assert issubclass(cls, DspxError)
    assert issubclass(DspxError, Exception)


def test_errors_pickle_with_their_fields() -> None:
    err = DspxRateLimitError(
        "slow down", status=429, retryable=True, attempts=4, provider="openai", retry_after_s=2.0
    ).with_context(program="qa", step="s")
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is DspxRateLimitError
    assert str(back) == str(err)
    assert (back.status, back.attempts, back.retry_after_s, back.step) == (429, 4, 2.0, "s")
    out = pickle.loads(pickle.dumps(DspxOutputError("bad", raw="raw text", field="f")))
    assert (out.raw, out.field) == ("raw text", "f")


@given(key=KEY_CHARS.filter(lambda k: len(k) >= 8), before=st.text(), after=st.text())
def test_openai_style_keys_never_survive_scrubbing(key: str, before: str, after: str) -> None:
    secret = f"sk-{key}"
    text = f"{before} {secret} {after}"
    assert secret not in scrub_secrets(text)
    assert secret not in str(DspxProviderError(text))


@given(token=KEY_CHARS.filter(lambda k: len(k) >= 6))
def test_auth_headers_never_survive_scrubbing(token: str) -> None:
    for text in (
        f"Authorization: Bearer {token}",
        f"headers={{'authorization': 'Bearer {token}'}}",
        f'"x-api-key": "{token}"',
        f"api_key={token}",
    ):
        assert token not in scrub_secrets(text), text


def test_secret_env_values_are_scrubbed_whatever_their_shape() -> None:
    os.environ["DSPX_TEST_WEIRD_API_KEY"] = "zz-not-a-known-shape-42"
    try:
        err = DspxConfigError("server said: zz-not-a-known-shape-42 is wrong")
        assert "zz-not-a-known-shape-42" not in str(err)
        assert "[redacted]" in str(err)
    finally:
        del os.environ["DSPX_TEST_WEIRD_API_KEY"]


def test_ordinary_text_is_left_alone() -> None:
    text = "step 'answer' returned 'skipped' after 3 tokens; see /tmp/token-cache/x"
    assert scrub_secrets(text) == text
