"""Pure parts of the LM layer: model specs, wire parameters, cache keys, retry timing."""

from __future__ import annotations

import email.utils
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dspx_lang.runtime.errors import DspxConfigError, DspxProviderError
from dspx_lang.runtime.lm import LMRequest, ModelSpec, RetryPolicy
from dspx_lang.runtime.lm.retry import is_retryable_status, parse_retry_after
from dspx_lang.runtime.lm.wire import cache_key, encode_body, parse_completion, request_params

MODEL = ModelSpec(name="m", model_id="openai/gpt-4o-mini", api_base="http://127.0.0.1:1/v1")
MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("fields", "transport"),
    [
        ({"model_id": "openai/gpt-4o-mini"}, "native"),
        ({"model_id": "gpt-4o-mini"}, "native"),
        ({"model_id": "openai/qwen2.5-0.5b-instruct", "api_base": "http://h:8080/v1"}, "native"),
        ({"model_id": "hosted_vllm/qwen", "api_base": "http://h:8000/v1"}, "native"),
        ({"model_id": "hosted_vllm/qwen"}, "litellm"),
        ({"model_id": "anthropic/claude-sonnet-4-5"}, "litellm"),
        ({"model_id": "claude-sonnet-4-5"}, "litellm"),
        ({"model_id": "gemini/gemini-2.0-flash", "api_base": "http://h/v1"}, "litellm"),
        ({"model_id": "openai/gpt-4o-mini", "transport": "litellm"}, "litellm"),
        ({"model_id": "anthropic/x", "api_base": "http://h/v1", "transport": "native"}, "native"),
    ],
)
def test_transport_resolution(fields: dict[str, Any], transport: str) -> None:
    assert ModelSpec(name="m", **fields).resolved_transport() == transport


def test_provider_and_wire_model() -> None:
    assert ModelSpec(name="m", model_id="claude-sonnet-4-5").provider == "anthropic"
    assert ModelSpec(name="m", model_id="my-local-model").provider == "openai"
    spec = ModelSpec(name="m", model_id="openrouter/openai/gpt-4o")
    assert (spec.provider, spec.wire_model) == ("openrouter", "openai/gpt-4o")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"model_id": ""}, "model id"),
        ({"timeout_s": 0}, "timeout_s"),
        ({"retries": -1}, "retries"),
        ({"concurrency": 0}, "concurrency"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"input_cost": -1.0}, "input_cost"),
        ({"transport": "grpc"}, "transport"),
        ({"api_base": "localhost:8080"}, "api_base"),
    ],
)
def test_bad_model_specs_are_config_errors(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(DspxConfigError, match=message) as caught:
        ModelSpec(name="bad", **{"model_id": "openai/x", **fields})
    assert "model 'bad'" in str(caught.value)


@pytest.mark.parametrize(
    "fields",
    [{"messages": []}, {"messages": "hi"}, {"messages": [{"content": "x"}]}, {"stop": "END"}],
)
def test_bad_requests_are_config_errors(fields: dict[str, Any]) -> None:
    with pytest.raises(DspxConfigError):
        LMRequest(**{"messages": MESSAGES, **fields})


def test_unset_parameters_are_not_sent() -> None:
    assert request_params(MODEL, LMRequest(messages=MESSAGES)) == {}


def test_wrapped_response_formats_pass_through() -> None:
    request = LMRequest(messages=MESSAGES, response_format={"type": "json_object"})
    assert request_params(MODEL, request)["response_format"] == {"type": "json_object"}


def test_non_json_request_is_a_config_error() -> None:
    request = LMRequest(messages=[{"role": "user", "content": object()}])
    with pytest.raises(DspxConfigError, match="JSON"):
        encode_body(MODEL, request, {})


SETTINGS = st.fixed_dictionaries(
    {},
    optional={
        "temperature": st.floats(0, 2, allow_nan=False),
        "max_tokens": st.integers(1, 10_000),
        "seed": st.integers(0, 2**31),
        "stop": st.lists(st.text(min_size=1, max_size=5), min_size=1, max_size=3),
    },
)


def _key(model: ModelSpec, request: LMRequest) -> str:
    return cache_key(
        model, model.api_base, encode_body(model, request, request_params(model, request))
    )


@given(settings=SETTINGS, text=st.text())
def test_cache_key_is_a_function_of_the_request(settings: dict[str, Any], text: str) -> None:
    messages = [{"role": "user", "content": text}]
    first = LMRequest(messages=messages, **settings)
    again = LMRequest(messages=[dict(m) for m in messages], **settings)
    assert _key(MODEL, first) == _key(MODEL, again)


@given(settings=SETTINGS, other=SETTINGS, text=st.text(), other_text=st.text())
def test_different_requests_have_different_cache_keys(
    settings: dict[str, Any], other: dict[str, Any], text: str, other_text: str
) -> None:
    first = LMRequest(messages=[{"role": "user", "content": text}], **settings)
    second = LMRequest(messages=[{"role": "user", "content": other_text}], **other)
    same_call = request_params(MODEL, first) == request_params(MODEL, second) and text == other_text
    assert (_key(MODEL, first) == _key(MODEL, second)) == same_call


def test_cache_key_covers_model_and_endpoint_but_not_the_key_env() -> None:
    request = LMRequest(messages=MESSAGES)
    other_model = ModelSpec(name="m", model_id="openai/gpt-4o", api_base=MODEL.api_base)
    other_base = ModelSpec(name="m", model_id=MODEL.model_id, api_base="http://127.0.0.1:2/v1")
    keyed = ModelSpec(name="n", model_id=MODEL.model_id, api_base=MODEL.api_base, api_key_env="K")
    assert len({_key(MODEL, request), _key(other_model, request), _key(other_base, request)}) == 3
    assert _key(keyed, request) == _key(MODEL, request)


@given(seconds=st.floats(0, 1e6, allow_nan=False))
def test_retry_after_seconds_round_trip(seconds: float) -> None:
    assert parse_retry_after(repr(seconds)) == seconds


@given(ahead=st.integers(0, 10_000))
def test_retry_after_http_date(ahead: int) -> None:
    now = 1_800_000_000.0
    header = email.utils.formatdate(now + ahead, usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(ahead)


@given(value=st.text())
def test_retry_after_is_never_negative(value: str) -> None:
    parsed = parse_retry_after(value)
    assert parsed is None or parsed >= 0


@given(attempt=st.integers(1, 50), seed=st.integers(), retry_after=st.none() | st.floats(0, 1e4))
def test_backoff_bounds(attempt: int, seed: int, retry_after: float | None) -> None:
    policy = RetryPolicy(base_s=0.5, max_s=30.0, max_retry_after_s=60.0)
    delay = policy.delay(attempt, retry_after, random.Random(seed))
    if retry_after is not None:
        assert delay == min(retry_after, 60.0)
    else:
        ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling


@given(status=st.integers(100, 599))
def test_retryable_statuses(status: int) -> None:
    assert is_retryable_status(status) == (status in (408, 409, 429) or status >= 500)


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"choices": []},
        {"choices": [{"message": "text"}]},
        {"choices": [{"message": {"content": 42}}]},
        {"choices": [{"message": {"content": "x"}, "finish_reason": 3}]},
        {"choices": [{"message": {"content": "x", "tool_calls": [{"function": {}}]}}]},
        {"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": "many"}},
        {"choices": [{"message": {"content": "x"}}], "usage": {"prompt_tokens": -1}},
        {"error": {"message": "overloaded"}},
    ],
)
def test_malformed_completions_are_retryable_provider_errors(data: Any) -> None:
    with pytest.raises(DspxProviderError) as caught:
        parse_completion(data, MODEL)
    assert caught.value.retryable


def test_content_parts_and_missing_usage() -> None:
    data = {
        "choices": [
            {"message": {"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}}
        ]
    }
    text, calls, usage, finish = parse_completion(data, MODEL)
    assert (text, calls, usage.total_tokens, finish) == ("ab", (), 0, None)
