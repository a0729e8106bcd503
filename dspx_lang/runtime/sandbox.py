"""Run LM-written Python (the `pot` module) in an isolated, limited child process.

`run_python(code, inputs=..., outputs=...)` binds the JSON `inputs` as globals,
runs `code`, and returns the JSON values of the `outputs` globals together with
the (truncated) printed output. `arun_python` is the asyncio twin.

Contract:
- Nothing the snippet does raises here: every outcome is a `SandboxResult` whose
  `status` is `ok`, `error` (exception, syntax error, missing or non-JSON
  output), `timeout` (wall clock or CPU time), `memory` or `blocked` (a refused
  operation, named in `error`). Only bad arguments from the caller raise
  `SandboxInputError`.
- Layers, each applied where the OS allows it (`SandboxResult.isolation` lists
  the ones in force): a fresh `python -I -S` interpreter; a scratch directory as
  its working directory, deleted afterwards; an environment with nothing but
  PATH, HOME, TMPDIR and the locale; rlimits on CPU time, address space, file
  size, open files and processes; a wall-clock timeout that kills the whole
  process group; a new network namespace; dropping root to `nobody`; and an
  audit hook that refuses files outside the scratch directory (the stdlib may
  be read), sockets, processes, signals and ctypes. The audit hook is a
  tripwire that reports, not a security boundary: see docs/sandbox.md.
- No state survives a run; calls may run concurrently from threads or tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import keyword
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Literal, TypeAlias

from dspx_lang.runtime._sandbox_child import PRELOAD
from dspx_lang.runtime.errors import DspxSandboxError

__all__ = [
    "AVAILABLE_MODULES",
    "JSONValue",
    "SandboxInputError",
    "SandboxLimits",
    "SandboxResult",
    "SandboxStatus",
    "arun_python",
    "run_python",
]

JSONValue: TypeAlias = bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"] | None
SandboxStatus: TypeAlias = Literal["ok", "error", "timeout", "memory", "blocked"]

MiB = 1024 * 1024
# Stdlib modules the snippet can always import, even where the stdlib is not
# readable by the unprivileged uid; tell the LM about these (pot's prompt).
AVAILABLE_MODULES: tuple[str, ...] = PRELOAD
CHILD_SCRIPT = Path(__file__).with_name("_sandbox_child.py")
NOBODY = 65534  # uid/gid of `nobody` on Linux; the child runs as it when we are root


class SandboxInputError(DspxSandboxError, ValueError):
    """The caller passed something the sandbox cannot run (bad names, non-JSON inputs)."""


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Resource limits of one run. `processes` counts every process of the child's
    user (RLIMIT_NPROC), so the default 0 means: no new process or thread."""

    wall_seconds: float = 10.0
    cpu_seconds: int = 5
    memory_bytes: int = 512 * MiB
    file_size_bytes: int = 16 * MiB
    open_files: int = 64
    processes: int = 0
    stdout_bytes: int = 8000
    isolate_network: bool = True
    drop_privileges: bool = True
    # Off only to test the OS-level layers on their own.
    audit_hook: bool = True

    def __post_init__(self) -> None:
        for name in ("wall_seconds", "cpu_seconds", "memory_bytes", "file_size_bytes"):
            if not getattr(self, name) > 0:
                raise SandboxInputError(f"SandboxLimits.{name} must be positive")
        if self.open_files < 16:
            raise SandboxInputError("SandboxLimits.open_files must be at least 16")
        if self.processes < 0 or self.stdout_bytes < 0:
            raise SandboxInputError("SandboxLimits.processes and stdout_bytes must be >= 0")


@dataclass(frozen=True, slots=True)
class SandboxResult:
    """What one run did. `error` is a short tail fit to show the LM."""

    status: SandboxStatus
    outputs: dict[str, JSONValue] | None
    stdout: str
    error: str | None
    stdout_truncated: bool = False
    isolation: tuple[str, ...] = field(default=())
    duration_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def run_python(
    code: str,
    *,
    inputs: Mapping[str, JSONValue],
    outputs: Sequence[str],
    limits: SandboxLimits = SandboxLimits(),
) -> SandboxResult:
    """Run `code` in a fresh sandboxed interpreter and collect `outputs`."""
    run = _Run.prepare(code, inputs, outputs, limits)
    try:
        started = time.monotonic()
        try:
            proc = subprocess.Popen(run.command, **run.popen_kwargs())
        except OSError as exc:
            raise DspxSandboxError(f"could not start the sandbox interpreter: {exc}") from exc
        run.close_child_ends()
        timed_out = False
        try:
            proc.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            if proc.returncode is None:
                _kill_group(proc.pid)
                proc.kill()
                proc.wait()
        return run.result(proc.returncode, timed_out, time.monotonic() - started)
    finally:
        run.cleanup()


async def arun_python(
    code: str,
    *,
    inputs: Mapping[str, JSONValue],
    outputs: Sequence[str],
    limits: SandboxLimits = SandboxLimits(),
) -> SandboxResult:
    """`run_python` for asyncio: the child is awaited, never blocking the loop.
    Cancelling the task kills the child and removes its directory."""
    run = _Run.prepare(code, inputs, outputs, limits)
    try:
        started = time.monotonic()
        try:
            proc = await asyncio.create_subprocess_exec(*run.command, **run.popen_kwargs())
        except OSError as exc:
            raise DspxSandboxError(f"could not start the sandbox interpreter: {exc}") from exc
        run.close_child_ends()
        timed_out = False
        try:
            await asyncio.wait_for(proc.wait(), timeout=limits.wall_seconds)
        except TimeoutError:
            timed_out = True
        finally:
            if proc.returncode is None:
                _kill_group(proc.pid)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await asyncio.shield(proc.wait())
        assert proc.returncode is not None
        return run.result(proc.returncode, timed_out, time.monotonic() - started)
    finally:
        run.cleanup()


def _kill_group(pgid: int) -> None:
    # The child leads its own session, so this also reaches anything it started.
    # Called only before the child is reaped, while its pid cannot be reused.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise SandboxInputError(f"{what} name {name!r} is not a Python identifier")
    if name.startswith("__"):
        raise SandboxInputError(f"{what} name {name!r} must not start with '__'")
    return name


@dataclass
class _Run:
    """The files of one run: base dir (0711) with the scratch dir and the I/O files."""

    base: Path
    limits: SandboxLimits
    stdin: BinaryIO
    stdout: BinaryIO
    result_fd: int

    @classmethod
    def prepare(
        cls,
        code: str,
        inputs: Mapping[str, JSONValue],
        outputs: Sequence[str],
        limits: SandboxLimits,
    ) -> _Run:
        if not isinstance(code, str):
            raise SandboxInputError(f"code must be a string, not {type(code).__name__}")
        if isinstance(outputs, str):
            raise SandboxInputError("outputs must be a list of names, not one string")
        names = [_check_name(n, "output") for n in outputs]
        bound = {_check_name(k, "input"): v for k, v in inputs.items()}
        try:
            encoded_inputs = json.loads(json.dumps(bound, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise SandboxInputError(f"inputs must be JSON values: {exc}") from exc
        uid = NOBODY if limits.drop_privileges and os.geteuid() == 0 else None
        payload = {
            "code": code,
            "inputs": encoded_inputs,
            "outputs": names,
            "isolate_network": limits.isolate_network,
            "audit": limits.audit_hook,
            "uid": uid,
            "gid": None if uid is None else NOBODY,
            "rlimits": {
                "RLIMIT_CPU": limits.cpu_seconds,
                "RLIMIT_AS": limits.memory_bytes,
                "RLIMIT_FSIZE": limits.file_size_bytes,
                "RLIMIT_NOFILE": limits.open_files,
                "RLIMIT_NPROC": limits.processes,
                "RLIMIT_CORE": 0,
            },
        }
        try:
            base = Path(tempfile.mkdtemp(prefix="dspx-pot-"))
        except OSError as exc:
            raise DspxSandboxError(f"could not create the sandbox directory: {exc}") from exc
        try:
            # Others may traverse (the unprivileged child reaches its cwd) but not list.
            base.chmod(0o711)
            scratch = base / "scratch"
            scratch.mkdir(mode=0o700)
            if uid is not None:
                os.chown(scratch, uid, NOBODY)
            (base / "payload.json").write_text(json.dumps(payload), encoding="utf-8")
            stdin = open(base / "payload.json", "rb")  # noqa: SIM115 - closed in close_child_ends
            stdout = open(base / "stdout", "wb")  # noqa: SIM115 - closed in close_child_ends
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
            result_fd = os.open(base / "result.json", flags, 0o600)
        except OSError as exc:
            shutil.rmtree(base, ignore_errors=True)
            raise DspxSandboxError(f"could not prepare the sandbox directory: {exc}") from exc
        return cls(base, limits, stdin, stdout, result_fd)

    @property
    def command(self) -> list[str]:
        if not sys.executable:
            raise DspxSandboxError(
                "no Python interpreter to run the sandbox (sys.executable is empty)"
            )
        script = str(CHILD_SCRIPT)
        return [sys.executable, "-I", "-S", "-B", "-X", "utf8", script, str(self.result_fd)]

    def popen_kwargs(self) -> dict[str, Any]:
        scratch = str(self.base / "scratch")
        env = {
            "PATH": os.defpath,
            "HOME": scratch,
            "TMPDIR": scratch,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
        }
        return {
            "stdin": self.stdin,
            "stdout": self.stdout,
            "stderr": subprocess.STDOUT,
            "cwd": scratch,
            "env": env,
            "start_new_session": True,
            "close_fds": True,
            "pass_fds": (self.result_fd,),
        }

    def close_child_ends(self) -> None:
        for handle in (self.stdin, self.stdout):
            if not handle.closed:
                handle.close()
        if self.result_fd >= 0:
            os.close(self.result_fd)
            self.result_fd = -1

    def result(self, returncode: int, timed_out: bool, duration: float) -> SandboxResult:
        stdout, truncated = self._read_stdout()
        record = self._read_record()
        limits = self.limits
        isolation: tuple[str, ...] = tuple(record["isolation"]) if record else ()

        def made(status: SandboxStatus, error: str | None, outs: Any = None) -> SandboxResult:
            return SandboxResult(status, outs, stdout, error, truncated, isolation, duration)

        if timed_out:
            return made("timeout", f"wall-clock limit of {limits.wall_seconds:g} s exceeded")
        if record is not None:
            return made(record["status"], record["error"], record["outputs"])
        if returncode == -signal.SIGXCPU:
            return made("timeout", f"CPU time limit of {limits.cpu_seconds} s exceeded")
        if returncode < 0:
            name = signal.Signals(-returncode).name
            hint = (
                " (after ignoring SIGXCPU at the CPU limit, or by the system's OOM killer)"
                if returncode == -signal.SIGKILL
                else ""
            )
            return made("error", f"the interpreter was killed by {name}{hint}")
        return made("error", f"the process exited with code {returncode} without a result")

    def _read_record(self) -> dict[str, Any] | None:
        try:
            data = (self.base / "result.json").read_bytes()
            record = json.loads(data) if data else None
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and "status" in record else None

    def _read_stdout(self) -> tuple[str, bool]:
        path = self.base / "stdout"
        cap = self.limits.stdout_bytes
        size = path.stat().st_size
        with path.open("rb") as handle:
            if size <= cap:
                return handle.read().decode("utf-8", "replace"), False
            head = handle.read(cap // 2)
            handle.seek(size - (cap - cap // 2))
            tail = handle.read()
        marker = f"\n... [{size - len(head) - len(tail)} bytes of output omitted] ...\n"
        return head.decode("utf-8", "replace") + marker + tail.decode("utf-8", "replace"), True

    def cleanup(self) -> None:
        self.close_child_ends()

        def make_writable(func: Any, path: str, _exc: Any) -> None:
            # The snippet may have removed its own write permission on what it made.
            try:
                os.chmod(os.path.dirname(path), 0o700)
                func(path)
            except OSError:
                pass

        shutil.rmtree(self.base, onerror=make_writable)
