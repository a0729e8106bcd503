"""Fixtures of the opt-in slow tests: the real local model server.

Contract:
- Every test under tests/slow is skipped unless `DSPX_SLOW=1`; the skip reason says
  what the run would need and what is missing on this machine.
- With `DSPX_SLOW=1`, a missing model (`dspxc local fetch`) or a missing `[local]`
  extra FAILS the test: the run asked for the real thing.
- `local_server` (session scope) starts llama-cpp-python's server once, on a free
  port of 127.0.0.1 with the fetched model, and stops it when the session ends;
  it yields a `dspx_lang.local.ServerInfo`. Set `DSPX_LOCAL_BASE_URL` (e.g.
  http://127.0.0.1:8080/v1) to use a server that is already running instead, and
  `DSPX_LOCAL_THREADS` to change its thread count (default: the CPUs, at most 8).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator

import pytest

from dspx_lang import local

SLOW = os.environ.get("DSPX_SLOW") == "1"


def _missing() -> list[str]:
    missing = []
    for check in (local.require_model, local.require_server_extra):
        try:
            check()
        except local.LocalModelError as exc:
            missing.append(str(exc))
    return missing


def _skip_unless_slow() -> None:
    if not SLOW:
        missing = _missing()
        state = "; ".join(missing) if missing else "the model and the [local] extra are present"
        pytest.skip(f"slow test: set DSPX_SLOW=1 to run it ({state})")


@pytest.fixture(autouse=True)
def _slow_gate() -> None:
    _skip_unless_slow()


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[local.ServerInfo]:
    """The running server; `base_url` for HTTP, `f"openai/{served_as}"` for litellm,
    `local.model_declaration(base_url)` for a .dspx file."""
    spec = local.QWEN_CODER_05B
    external = os.environ.get("DSPX_LOCAL_BASE_URL")
    if external:
        if not local.server_answers(external):
            pytest.fail(f"DSPX_LOCAL_BASE_URL={external} does not answer", pytrace=False)
        url = urllib.parse.urlsplit(external)
        host, port = url.hostname, url.port
        if host is None or port is None:
            pytest.fail(f"DSPX_LOCAL_BASE_URL needs a host and a port: {external}", False)
        yield local.ServerInfo(0, port, "", spec.served_as, "", 0, 4096, 0.0, host)
        return
    _skip_unless_slow()
    missing = _missing()
    if missing:
        pytest.fail("DSPX_SLOW=1 but the local model cannot run: " + "; ".join(missing), False)
    log = tmp_path_factory.mktemp("local-server") / "server.log"
    threads = int(os.environ.get("DSPX_LOCAL_THREADS") or min(os.cpu_count() or 2, 8))
    server = local.LocalServer(port=local.free_port(), threads=threads, ctx=4096, log=log)
    info = server.start()
    try:
        yield info
    finally:
        server.stop()
