"""The on-disk response cache: hits make no request, any change misses, secrets never stored."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fixtures.lm_plugin import FAST_RETRY
from fixtures.lm_server import FakeLMServer, Reply

import dspx_lang
from dspx_lang.runtime.errors import DspxProviderError
from dspx_lang.runtime.lm import LMClient, LMRequest, ModelSpec

TRANSPORTS = ["native", "litellm"]
MakeModel = Callable[..., ModelSpec]
BASE: dict[str, Any] = {"messages": [{"role": "user", "content": "cache me"}]}


@contextmanager
def env(name: str, value: str) -> Iterator[None]:
    previous = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_second_identical_call_is_a_cache_hit_without_http(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    model = lm_model(transport=transport)
    lm_server.script(Reply.text("stored", usage=(10, 2)))
    first = lm_client.complete(model, LMRequest(**BASE))
    second = lm_client.complete(model, LMRequest(**BASE))
    assert len(lm_server.chat_requests) == 1
    assert (first.cached, second.cached) == (False, True)
    assert second.text == "stored"
    assert second.cost_usd == 0.0
    assert first.cost_usd is not None
    assert first.cost_usd > 0
    assert second.attempts == 0
    assert second.usage == first.usage
    assert second.transport == transport
    assert lm_client.stats().cache_hits == 1


@pytest.mark.parametrize(
    "change",
    [
        {"temperature": 0.7},
        {"max_tokens": 5},
        {"seed": 1},
        {"stop": ["\n"]},
        {"response_format": {"type": "object", "properties": {}}},
        {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
        {"messages": [{"role": "user", "content": "cache me!"}]},
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "cache me"}]},
    ],
)
def test_any_different_setting_misses(
    change: dict[str, Any], lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    model = lm_model()
    lm_client.complete(model, LMRequest(**BASE))
    response = lm_client.complete(model, LMRequest(**{**BASE, **change}))
    assert response.cached is False
    assert len(lm_server.chat_requests) == 2


def test_other_model_id_endpoint_or_model_default_misses(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    request = LMRequest(**BASE)
    lm_client.complete(lm_model(), request)
    lm_client.complete(lm_model(model_id="openai/gpt-4o"), request)
    lm_client.complete(lm_model(api_base=lm_server.url + "/v1/"), request)
    lm_client.complete(lm_model(temperature=0.5), request)
    assert len(lm_server.chat_requests) == 3
    # The trailing slash is the same endpoint; the other two are different requests.
    assert lm_client.stats().cache_hits == 1


def test_same_request_on_the_other_transport_is_served_from_cache(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_client.complete(lm_model(transport="native"), LMRequest(**BASE))
    again = lm_client.complete(lm_model(transport="litellm"), LMRequest(**BASE))
    assert again.cached is True
    assert again.transport == "native"
    assert len(lm_server.chat_requests) == 1


def test_cache_persists_across_clients(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_cache_dir: Path
) -> None:
    with LMClient(cache_dir=lm_cache_dir) as first:
        first.complete(lm_model(), LMRequest(**BASE))
    with LMClient() as second:  # DSPX_CACHE_DIR points at lm_cache_dir
        assert second.complete(lm_model(), LMRequest(**BASE)).cached is True
        assert second.cache_path == lm_cache_dir / "lm-cache.sqlite3"
    assert len(lm_server.chat_requests) == 1


def test_dspx_cache_0_disables_the_cache(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_cache_dir: Path
) -> None:
    with env("DSPX_CACHE", "0"), LMClient() as client:
        assert client.cache_path is None
        responses = [client.complete(lm_model(), LMRequest(**BASE)) for _ in range(2)]
    assert [r.cached for r in responses] == [False, False]
    assert len(lm_server.chat_requests) == 2
    assert list(lm_cache_dir.iterdir()) == []


def test_per_call_cache_false_bypasses_reads_and_writes(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_client.complete(lm_model(), LMRequest(**BASE), cache=False)
    assert lm_client.complete(lm_model(), LMRequest(**BASE)).cached is False
    assert lm_client.complete(lm_model(), LMRequest(**BASE), cache=False).cached is False
    assert len(lm_server.chat_requests) == 3


def test_failures_are_not_cached(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_client: LMClient
) -> None:
    lm_server.script(Reply.error(400, "bad"))
    with pytest.raises(DspxProviderError):
        lm_client.complete(lm_model(), LMRequest(**BASE))
    assert lm_client.complete(lm_model(), LMRequest(**BASE)).text == "echo: cache me"
    assert len(lm_server.chat_requests) == 2


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_secret_in_cache_files_or_errors(
    transport: str, lm_server: FakeLMServer, lm_model: MakeModel, lm_cache_dir: Path
) -> None:
    secret = "sk-dspx-test-" + os.urandom(12).hex()
    # A careless provider echoes the Authorization header in its error message.
    lm_server.respond_with(
        lambda request: (
            Reply.error(401, f"bad key: {request.headers.get('Authorization')}")
            if "fail" in request.body.decode()
            else "fine"
        )
    )
    model = lm_model(transport=transport, api_key_env="DSPX_TEST_SECRET_KEY")
    with env("DSPX_TEST_SECRET_KEY", secret), LMClient(retry=FAST_RETRY) as client:
        client.complete(model, LMRequest(**BASE))
        client.complete(model, LMRequest(**BASE))
        with pytest.raises(DspxProviderError) as caught:
            client.complete(model, LMRequest(messages=[{"role": "user", "content": "fail"}]))
        err = caught.value
        assert "DSPX_TEST_SECRET_KEY" in str(err)  # it names the variable to fix...
        for text in (str(err), repr(err), err.message, str(err.args)):
            assert secret not in text  # ...never its value.
    assert lm_server.chat_requests[0].headers["Authorization"] == f"Bearer {secret}"
    files = [p for p in lm_cache_dir.rglob("*") if p.is_file()]
    assert any(p.name.startswith("lm-cache.sqlite3") for p in files)
    for path in files:
        assert secret.encode() not in path.read_bytes(), path


def test_cache_is_shared_by_concurrent_processes(
    lm_server: FakeLMServer, lm_model: MakeModel, lm_cache_dir: Path
) -> None:
    root = Path(dspx_lang.__file__).parent.parent
    worker = textwrap.dedent(
        """
        import sys
        from dspx_lang.runtime.lm import LMClient, LMRequest, ModelSpec
        base, tag = sys.argv[1], sys.argv[2]
        model = ModelSpec(name="w", model_id="openai/gpt-4o-mini", api_base=base)
        with LMClient() as client:
            for i in range(15):
                msg = [{"role": "user", "content": f"{tag}-{i}"}]
                client.complete(model, LMRequest(messages=msg))
        """
    )
    environment = {**os.environ, "PYTHONPATH": str(root), "DSPX_CACHE_DIR": str(lm_cache_dir)}
    workers = [
        subprocess.Popen([sys.executable, "-c", worker, lm_server.base_url, tag], env=environment)
        for tag in ("a", "b", "c")
    ]
    assert [w.wait(120) for w in workers] == [0, 0, 0]
    assert len(lm_server.chat_requests) == 45
    with LMClient() as client:
        for tag in ("a", "b", "c"):
            for i in range(15):
                msg = [{"role": "user", "content": f"{tag}-{i}"}]
                assert client.complete(lm_model(), LMRequest(messages=msg)).cached
    assert len(lm_server.chat_requests) == 45


def test_unusable_cache_dir_warns_once_and_calls_go_on(
    lm_server: FakeLMServer, lm_model: MakeModel, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with LMClient(cache_dir=blocker / "cache") as client:
        with pytest.warns(RuntimeWarning, match="DSPX_CACHE_DIR"):
            first = client.complete(lm_model(), LMRequest(**BASE))
        second = client.complete(lm_model(), LMRequest(**BASE))
    assert (first.text, second.cached) == ("echo: cache me", False)
    assert len(lm_server.chat_requests) == 2
