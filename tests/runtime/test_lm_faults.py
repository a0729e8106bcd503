"""Provider failures on both transports: what is retried, how long it waits, what is raised."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from fixtures.lm_server import FakeLMServer, Reply

from dspx_lang.runtime.errors import DspxProviderError, DspxRateLimitError, DspxTimeoutError
from dspx_lang.runtime.lm import LMClient, LMRequest, ModelSpec

TRANSPORTS = ["native", "litellm"]
MakeModel = Callable[..., ModelSpec]
ASK = LMRequest(messages=[{"role": "user", "content": "hello"}])


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_429_is_retried_after_the_servers_retry_after(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(Reply.rate_limit(retry_after=1), Reply.text("finally"))
    response = lm_client.complete(lm_model(transport=transport), ASK)
    assert (response.text, response.attempts) == ("finally", 2)
    first, second = lm_server.chat_requests
    # The client's own backoff here is milliseconds: only Retry-After explains a 1 s gap.
    assert second.received_at - first.received_at >= 0.95


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_persistent_429_raises_rate_limit_error_with_attempts(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(*[Reply.rate_limit(retry_after=0)] * 3)
    with pytest.raises(DspxRateLimitError) as caught:
        lm_client.complete(lm_model(transport=transport, retries=2), ASK)
    assert (caught.value.status, caught.value.attempts, caught.value.retry_after_s) == (429, 3, 0)
    assert caught.value.retryable
    assert len(lm_server.chat_requests) == 3


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("status", [500, 502, 503])
def test_5xx_is_retried_then_raised_with_attempts(
    transport: str,
    status: int,
    lm_server: FakeLMServer,
    lm_model: MakeModel,
    lm_client: LMClient,
) -> None:
    lm_server.script(*[Reply.error(status, "upstream broke")] * 4)
    with pytest.raises(DspxProviderError) as caught:
        lm_client.complete(lm_model(transport=transport, retries=3), ASK)
    err = caught.value
    assert (err.status, err.attempts, err.retryable) == (status, 4, True)
    assert "upstream broke" in str(err)
    assert "4 attempts" in str(err)
    assert len(lm_server.chat_requests) == 4


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_5xx_then_success_recovers(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(Reply.error(503), Reply.error(500), Reply.text("ok now"))
    response = lm_client.complete(lm_model(transport=transport, retries=2), ASK)
    assert (response.text, response.attempts) == ("ok now", 3)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("case", [(400, "rejected"), (401, "API key"), (404, "model id")])
def test_client_errors_fail_at_once(
    transport: str,
    case: tuple[int, str],
    lm_server: FakeLMServer,
    lm_model: MakeModel,
    lm_client: LMClient,
) -> None:
    status, hint = case
    lm_server.script(Reply.error(status, "nope"))
    with pytest.raises(DspxProviderError) as caught:
        lm_client.complete(lm_model(transport=transport, retries=3), ASK)
    err = caught.value
    assert (err.status, err.attempts, err.retryable) == (status, 1, False)
    assert hint in str(err)
    assert len(lm_server.chat_requests) == 1


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_held_open_response_times_out_and_is_retried(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(Reply.hold(), Reply.text("second try"))
    model = lm_model(transport=transport, timeout_s=0.5, retries=1)
    # The outer bound only keeps a hang from stalling the suite; the client must end first.
    response = await asyncio.wait_for(lm_client.acomplete(model, ASK), 60)
    assert (response.text, response.attempts) == ("second try", 2)
    assert len(lm_server.chat_requests) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_always_held_raises_timeout_error(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(Reply.hold(), Reply.hold())
    model = lm_model(transport=transport, timeout_s=0.3, retries=1)
    with pytest.raises(DspxTimeoutError) as caught:
        await asyncio.wait_for(lm_client.acomplete(model, ASK), 60)
    assert (caught.value.attempts, caught.value.retryable) == (2, True)
    assert len(lm_server.chat_requests) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("fault", [Reply.reset(), Reply.truncated()])
def test_reset_and_truncated_responses_are_retried(
    transport: str, fault: Reply, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(fault, Reply.text("clean"))
    response = lm_client.complete(lm_model(transport=transport), ASK)
    assert (response.text, response.attempts) == ("clean", 2)


# litellm's pydantic models warn about the wrong types before it raises; that is its noise.
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("fault", [Reply.invalid_json(), Reply.wrong_types()])
def test_malformed_responses_are_typed_provider_errors(
    transport: str, fault: Reply, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(fault, fault)
    with pytest.raises(DspxProviderError) as caught:
        lm_client.complete(lm_model(transport=transport, retries=1), ASK)
    assert caught.value.attempts == 2
    assert caught.value.model == "openai/gpt-4o-mini"
    assert "fixture" in str(caught.value)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_random_faults_are_absorbed_by_retries(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.inject_faults(0.3, seed=7)
    model = lm_model(transport=transport, retries=8)
    texts = [
        lm_client.complete(model, LMRequest(messages=[{"role": "user", "content": f"n{i}"}]))
        for i in range(20)
    ]
    assert [t.text for t in texts] == [f"echo: n{i}" for i in range(20)]
    # Some faults were injected (seeded), so there were more requests than calls.
    assert len(lm_server.chat_requests) > 20
    assert lm_client.stats().requests == len(lm_server.chat_requests)


def test_connection_refused_is_retried_then_raised(lm_client: LMClient) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    model = ModelSpec(
        name="nowhere", model_id="openai/x", api_base=f"http://127.0.0.1:{port}/v1", retries=2
    )
    with pytest.raises(DspxProviderError, match="connection failed") as caught:
        lm_client.complete(model, ASK)
    assert (caught.value.attempts, caught.value.retryable) == (3, True)
