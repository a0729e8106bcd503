"""The `pot` sandbox: real child interpreters, real escape attempts.

Every escape attempt must be stopped AND reported (status and a message naming it),
and its effect must be absent afterwards (no file written, no connection accepted,
no process killed, no secret in the result). The `audit_hook=False` tests check the
OS layers on their own, where this machine provides them.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dspx_lang.runtime.errors import DspxSandboxError
from dspx_lang.runtime.sandbox import (
    AVAILABLE_MODULES,
    SandboxInputError,
    SandboxLimits,
    SandboxResult,
    arun_python,
    run_python,
)

FAST = SandboxLimits(cpu_seconds=2, wall_seconds=5)
WALLS_ONLY = SandboxLimits(cpu_seconds=2, wall_seconds=5, audit_hook=False)
ROOT = os.geteuid() == 0


def run(code: str, limits: SandboxLimits = FAST, **inputs: object) -> SandboxResult:
    return run_python(code, inputs=inputs, outputs=["y"], limits=limits)  # type: ignore[arg-type]


def netns_permitted() -> bool:
    """Whether this kernel lets a fresh process enter a new network namespace."""
    flags = 0x40000000 if ROOT else 0x50000000  # CLONE_NEWNET (| CLONE_NEWUSER)
    probe = f"import ctypes, sys; sys.exit(ctypes.CDLL(None).unshare({flags}) != 0)"
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, int]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.setblocking(False)
    yield server, server.getsockname()[1]
    server.close()


def assert_no_connection(server: socket.socket) -> None:
    with pytest.raises(BlockingIOError):
        server.accept()


@pytest.fixture
def victim() -> Iterator[subprocess.Popen[bytes]]:
    """A process of ours that the snippet will try to kill."""
    proc = subprocess.Popen(["sleep", "60"])
    yield proc
    proc.kill()
    proc.wait()


# --- happy paths -------------------------------------------------------------------------


def test_arithmetic_on_inputs() -> None:
    result = run("y = x * 2 + 1\nprint('done ✓')", x=20)
    assert result.status == "ok"
    assert result.outputs == {"y": 41}
    assert result.stdout == "done ✓\n"
    assert result.error is None


def test_stdlib_modules() -> None:
    code = """
import math, re, json, datetime, fractions, statistics, collections
y = {
    "sqrt": math.sqrt(16),
    "digits": re.findall(r"\\d", "a1b22"),
    "json": json.loads('{"k": [1, 2]}'),
    "weekday": datetime.date(2024, 2, 29).strftime("%A"),
    "third": str(fractions.Fraction(1, 3) + fractions.Fraction(1, 6)),
    "median": statistics.median([3, 1, 2]),
    "counts": collections.Counter("abca").most_common(1),
}
"""
    result = run(code)
    assert result.status == "ok", result.error
    assert result.outputs == {
        "y": {
            "sqrt": 4.0,
            "digits": ["1", "2", "2"],
            "json": {"k": [1, 2]},
            "weekday": "Thursday",
            "third": "1/2",
            "median": 2,
            "counts": [["a", 2]],
        }
    }


def test_every_advertised_module_imports() -> None:
    code = "import importlib\ny = [importlib.import_module(m).__name__ for m in names]"
    result = run(code, names=list(AVAILABLE_MODULES))
    assert result.status == "ok", result.error
    assert result.outputs == {"y": list(AVAILABLE_MODULES)}


def test_python_values_become_json() -> None:
    code = """
import datetime, decimal, fractions
y = [(1, 2), {3, 1, 2}, fractions.Fraction(1, 4), decimal.Decimal("1.10"),
     datetime.date(2020, 1, 2), {"nested": [None, True, 1.5]}]
"""
    result = run(code)
    assert result.status == "ok", result.error
    assert result.outputs == {
        "y": [[1, 2], [1, 2, 3], 0.25, "1.10", "2020-01-02", {"nested": [None, True, 1.5]}]
    }


def test_several_outputs() -> None:
    result = run_python("a = 1\nb = [a, 'two']", inputs={}, outputs=["a", "b"], limits=FAST)
    assert result.outputs == {"a": 1, "b": [1, "two"]}


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=JSON_VALUES)
def test_json_inputs_round_trip(value: object) -> None:
    result = run("y = x", x=value)
    assert result.status == "ok", result.error
    assert result.outputs == {"y": value}


def test_scratch_dir_is_usable_and_removed_afterwards() -> None:
    code = """
import os
with open("notes.txt", "w") as f:
    f.write("kept for the run")
y = [os.getcwd(), open("notes.txt").read(), os.environ["HOME"] == os.getcwd()]
"""
    result = run(code)
    assert result.status == "ok", result.error
    assert result.outputs is not None
    cwd, text, home_is_cwd = result.outputs["y"]  # type: ignore[misc]
    assert text == "kept for the run"
    assert home_is_cwd is True
    assert not Path(str(cwd)).exists()


async def test_async_runs_concurrently_and_correctly() -> None:
    results = await asyncio.gather(
        *(arun_python("y = x ** 2", inputs={"x": i}, outputs=["y"], limits=FAST) for i in range(4))
    )
    assert [r.outputs for r in results] == [{"y": i**2} for i in range(4)]


def test_exit_zero_still_collects_outputs_and_nonzero_is_an_error() -> None:
    assert run("import sys\ny = 5\nsys.exit(0)").outputs == {"y": 5}
    failed = run("import sys\ny = 5\nsys.exit(3)")
    assert failed.status == "error"
    assert "exit(3)" in (failed.error or "")


# --- errors fed back to the LM -------------------------------------------------------------


def test_syntax_error_is_reported_with_its_line() -> None:
    result = run("y = 1\nz = (")
    assert result.status == "error"
    assert "SyntaxError" in (result.error or "")
    assert "line 2" in (result.error or "")


def test_exception_tail_quotes_the_snippet_not_the_sandbox() -> None:
    result = run("def f(a):\n    return 1 / a\ny = f(0)")
    assert result.status == "error"
    error = result.error or ""
    assert "ZeroDivisionError" in error
    assert "return 1 / a" in error
    assert "_sandbox_child" not in error


def test_missing_and_non_json_outputs_are_errors() -> None:
    missing = run("z = 1")
    assert missing.status == "error"
    assert "`y`" in (missing.error or "")
    for code in ("y = object()", "y = float('nan')"):
        bad = run(code)
        assert bad.status == "error"
        assert "not a JSON value" in (bad.error or "")


@pytest.mark.parametrize(
    ("inputs", "outputs", "needle"),
    [
        ({"x": object()}, ["y"], "JSON"),
        ({"not a name": 1}, ["y"], "identifier"),
        ({"x": 1}, ["class"], "identifier"),
        ({"__builtins__": 1}, ["y"], "__"),
        ({"x": 1}, "y", "list of names"),
    ],
)
def test_bad_arguments_raise_a_typed_error(inputs: dict, outputs: object, needle: str) -> None:
    with pytest.raises(SandboxInputError, match=needle) as caught:
        run_python("y = 1", inputs=inputs, outputs=outputs)  # type: ignore[arg-type]
    assert isinstance(caught.value, DspxSandboxError)


def test_limits_too_small_to_start_fail_closed() -> None:
    result = run("y = 1", SandboxLimits(memory_bytes=1024 * 1024))
    assert result.status == "error"
    assert "could not be set up" in (result.error or "")
    assert result.outputs is None


def test_bad_limits_raise_a_typed_error() -> None:
    with pytest.raises(SandboxInputError, match="wall_seconds"):
        SandboxLimits(wall_seconds=0)


# --- escape attempts: blocked and reported --------------------------------------------------


def test_write_outside_scratch_is_blocked(tmp_path: Path) -> None:
    target = tmp_path / "pwned.txt"
    result = run(f"open({str(target)!r}, 'w').write('x')\ny = 1")
    assert result.status == "blocked"
    assert "writing outside the scratch directory" in (result.error or "")
    assert str(target) in (result.error or "")
    assert not target.exists()


def test_blocked_write_cannot_be_hidden_by_except(tmp_path: Path) -> None:
    target = tmp_path / "pwned.txt"
    code = f"try:\n    open({str(target)!r}, 'a')\nexcept BaseException:\n    pass\ny = 1"
    result = run(code)
    assert result.status == "blocked"
    assert result.outputs is None
    assert not target.exists()


def test_reading_a_private_key_is_blocked(tmp_path: Path) -> None:
    key = tmp_path / ".ssh" / "id_rsa"
    key.parent.mkdir()
    key.write_text("SECRET-KEY-MATERIAL")
    key.chmod(0o600)
    result = run(f"y = open({str(key)!r}).read()\nprint(y)")
    assert result.status == "blocked"
    assert "reading outside the scratch directory" in (result.error or "")
    assert "SECRET-KEY-MATERIAL" not in result.stdout + (result.error or "")


def test_environment_secrets_are_not_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fake-0123456789")
    result = run("import os\ny = sorted(os.environ)\nprint(os.environ.get('OPENAI_API_KEY'))")
    assert result.status == "ok", result.error
    assert result.outputs == {"y": ["HOME", "LANG", "LC_ALL", "PATH", "TMPDIR"]}
    assert "sk-fake" not in result.stdout
    # Nor through the parent's /proc entry.
    stolen = run("import os\ny = open(f'/proc/{os.getppid()}/environ').read()")
    assert stolen.status == "blocked"
    assert "sk-fake" not in (stolen.error or "")


def test_socket_to_loopback_is_blocked(listener: tuple[socket.socket, int]) -> None:
    server, port = listener
    result = run(f"import socket\ns = socket.create_connection(('127.0.0.1', {port}))\ny = 1")
    assert result.status == "blocked"
    assert "network access" in (result.error or "")
    assert_no_connection(server)


@pytest.mark.parametrize(
    "spawn",
    [
        "import subprocess\nsubprocess.run(['touch', MARKER])",
        "import os\nos.system('touch ' + MARKER)",
        "import os\nos.posix_spawn('/usr/bin/touch', ['touch', MARKER], {})",
        "import os\nos.execv('/usr/bin/touch', ['touch', MARKER])",
    ],
)
def test_spawning_processes_is_blocked(tmp_path: Path, spawn: str) -> None:
    marker = tmp_path / "spawned"
    result = run(spawn.replace("MARKER", repr(str(marker))))
    assert result.status == "blocked"
    assert "starting processes" in (result.error or "")
    assert not marker.exists()


def test_fork_bomb_is_blocked() -> None:
    result = run("import os\nwhile True:\n    os.fork()")
    assert result.status == "blocked"
    assert "os.fork" in (result.error or "")
    assert "line 3" in (result.error or "")


def test_killing_the_parent_is_blocked() -> None:
    result = run("import os\nos.kill(os.getppid(), 9)")
    assert result.status == "blocked"
    assert "sending signals" in (result.error or "")


def test_killing_another_process_is_blocked(victim: subprocess.Popen[bytes]) -> None:
    result = run(f"import os, signal\nos.kill({victim.pid}, signal.SIGKILL)")
    assert result.status == "blocked"
    assert victim.poll() is None


def test_ctypes_is_blocked() -> None:
    result = run("import ctypes\ny = ctypes.CDLL(None).getpid()")
    assert result.status == "blocked"
    assert "ctypes" in (result.error or "")


def test_infinite_loop_hits_the_cpu_limit() -> None:
    result = run("while True:\n    pass")
    assert result.status == "timeout"
    assert "CPU time" in (result.error or "")


def test_sleeping_forever_hits_the_wall_clock_limit() -> None:
    limits = SandboxLimits(cpu_seconds=2, wall_seconds=1)
    result = run("import time\ntime.sleep(3600)", limits)
    assert result.status == "timeout"
    assert "wall-clock" in (result.error or "")


def test_ten_gigabytes_hit_the_memory_limit() -> None:
    result = run("y = bytearray(10 * 1024 ** 3)")
    assert result.status == "memory"
    assert "MemoryError" in (result.error or "")


def test_huge_output_is_truncated() -> None:
    limits = SandboxLimits(cpu_seconds=2, wall_seconds=5, stdout_bytes=1000)
    result = run("print('x' * 5_000_000)\ny = 1", limits)
    assert result.status == "ok"
    assert result.stdout_truncated
    assert len(result.stdout) < 1200
    assert "bytes of output omitted" in result.stdout


def test_endless_output_hits_the_file_size_limit() -> None:
    limits = SandboxLimits(cpu_seconds=5, wall_seconds=10, file_size_bytes=1024 * 1024)
    result = run("while True:\n    print('y' * 100_000)", limits)
    assert result.status == "error"
    assert "size limit" in (result.error or "")


async def test_cancelling_an_async_run_kills_the_child_and_cleans_up() -> None:
    marker = f"running-{os.getpid()}-{id(object())}"
    code = f"import os, time\nopen({marker!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)"
    limits = SandboxLimits(cpu_seconds=2, wall_seconds=60)
    task = asyncio.create_task(arun_python(code, inputs={}, outputs=[], limits=limits))
    found: list[Path] = []
    for _ in range(200):
        found = list(Path(tempfile.gettempdir()).glob(f"dspx-pot-*/scratch/{marker}"))
        if found and found[0].read_text():
            break
        await asyncio.sleep(0.05)
    assert found, "the snippet never started"
    pid = int(found[0].read_text())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not found[0].parents[1].exists()


def test_isolation_layers_are_reported() -> None:
    result = run("y = 1")
    assert {"subprocess", "scratch-dir", "scrubbed-env", "rlimits", "audit-hook"} <= set(
        result.isolation
    )
    assert ("uid:65534" in result.isolation) == ROOT
    assert ("network-namespace" in result.isolation) == netns_permitted()


# --- the OS layers alone (audit hook off) -----------------------------------------------


@pytest.mark.skipif(
    not netns_permitted(), reason="this kernel/container forbids unshare(CLONE_NEWNET)"
)
def test_network_namespace_alone_stops_loopback(listener: tuple[socket.socket, int]) -> None:
    server, port = listener
    result = run(f"import socket\nsocket.create_connection(('127.0.0.1', {port}), 2)", WALLS_ONLY)
    assert result.status == "error"
    assert "network-namespace" in result.isolation
    assert "audit-hook" not in result.isolation
    assert "OSError" in (result.error or "") or "unreachable" in (result.error or "")
    assert_no_connection(server)


@pytest.mark.skipif(not ROOT, reason="dropping privileges applies only when running as root")
def test_unprivileged_uid_alone_protects_files_and_processes(
    tmp_path: Path, victim: subprocess.Popen[bytes]
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("SECRET")
    secret.chmod(0o600)
    read = run(f"y = open({str(secret)!r}).read()", WALLS_ONLY)
    assert read.status == "error"
    assert "PermissionError" in (read.error or "")
    written = run(f"open({str(tmp_path / 'pwned')!r}, 'w')", WALLS_ONLY)
    assert written.status == "error"
    assert not (tmp_path / "pwned").exists()
    killed = run(f"import os\nos.kill({victim.pid}, 9)", WALLS_ONLY)
    assert killed.status == "error"
    assert "PermissionError" in (killed.error or "")
    assert victim.poll() is None


@pytest.mark.skipif(
    ROOT and not SandboxLimits().drop_privileges, reason="root without a uid drop has no NPROC"
)
def test_process_limit_alone_stops_fork() -> None:
    # Bounded, so that a missing limit cannot turn into a real fork bomb.
    code = "import os\nfor _ in range(20):\n    if os.fork() == 0:\n        os._exit(0)"
    result = run(code, WALLS_ONLY)
    assert result.status == "error"
    assert "BlockingIOError" in (result.error or "")
