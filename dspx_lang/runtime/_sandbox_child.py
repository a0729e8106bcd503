"""Child side of the `pot` sandbox: run one untrusted snippet and report it as JSON.

Only `dspx_lang.runtime.sandbox` runs this file, as a script
(`python -I -S -B -X utf8 _sandbox_child.py RESULT_FD`) with the JSON payload on
stdin and the scratch directory as its working directory. It uses the stdlib
only and is never imported by dspx itself.

Contract:
- Layers are applied in this order, before any untrusted code runs: a new
  network namespace (when the kernel allows it), rlimits, dropping root to an
  unprivileged uid (when the parent asks), then an audit hook.
- The first audited operation the hook refuses ends the process at once with a
  `blocked` result naming the operation; `try/except` in the snippet cannot hide it.
- At most one JSON object is written to RESULT_FD: `status` (`ok`, `error`,
  `memory` or `blocked`), `outputs` (the requested globals, JSON values) or
  `null`, `error` (a short traceback tail) or `null`, and `isolation` (the
  layers in force). Nothing is written if the process is killed.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime
import decimal
import errno
import fractions
import json
import linecache
import os
import resource
import signal
import sys
import traceback
from collections.abc import Callable
from types import FrameType
from typing import Any

SNIPPET = "<pot>"
ERROR_LINES = 12
ERROR_CHARS = 2000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000
# The interpreter must not import these: they call C code or start processes
# without raising an audit event of their own.
DENIED_IMPORTS = {
    "ctypes": "calling C code (ctypes)",
    "_ctypes": "calling C code (ctypes)",
    "_posixsubprocess": "starting processes (subprocess)",
    "_xxsubinterpreters": "creating interpreters",
    "_testcapi": "calling C test hooks",
    "_testinternalcapi": "calling C test hooks",
}
DENIED_EVENTS = {
    "socket": "network access",
    "subprocess.Popen": "starting processes",
    "os.system": "starting processes",
    "os.exec": "starting processes",
    "os.posix_spawn": "starting processes",
    "os.spawn": "starting processes",
    "os.fork": "starting processes",
    "os.forkpty": "starting processes",
    "os.kill": "sending signals",
    "os.killpg": "sending signals",
    "signal.pthread_kill": "sending signals",
    "ctypes": "calling C code (ctypes)",
    "resource.setrlimit": "changing resource limits",
    "resource.prlimit": "changing resource limits",
    "sys.addaudithook": "adding audit hooks",
    "gc.get_objects": "inspecting interpreter objects",
    "gc.get_referrers": "inspecting interpreter objects",
    "gc.get_referents": "inspecting interpreter objects",
    "sqlite3.enable_load_extension": "loading SQLite extensions",
    "sqlite3.load_extension": "loading SQLite extensions",
}
# Events whose path arguments (by position) must lie inside the scratch directory.
WRITE_EVENTS = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.truncate": (0,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.utime": (0,),
    "os.chflags": (0,),
    "os.lchflags": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "os.rename": (0, 1),
    "os.link": (0, 1),
    "os.symlink": (1,),
    "os.chdir": (0,),
    "shutil.rmtree": (0,),
    "dbm.open": (0,),
}
READ_EVENTS = {"os.listdir": (0,), "os.scandir": (0,), "os.getxattr": (0,), "os.listxattr": (0,)}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_TRUNC
# Imported before privileges are dropped, because the stdlib may not be
# readable by the unprivileged uid (e.g. an interpreter under /root).
PRELOAD = (
    "array",
    "base64",
    "bisect",
    "calendar",
    "cmath",
    "collections",
    "copy",
    "csv",
    "dataclasses",
    "datetime",
    "decimal",
    "difflib",
    "encodings.idna",
    "enum",
    "fractions",
    "functools",
    "glob",
    "hashlib",
    "heapq",
    "html",
    "io",
    "itertools",
    "json",
    "math",
    "numbers",
    "operator",
    "pathlib",
    "pprint",
    "random",
    "re",
    "shutil",
    "socket",
    "statistics",
    "string",
    "struct",
    "subprocess",
    "tempfile",
    "textwrap",
    "threading",
    "time",
    "typing",
    "unicodedata",
    "urllib.parse",
    "zoneinfo",
)


def main() -> None:
    result_fd = int(sys.argv[1])
    payload = json.loads(sys.stdin.buffer.read())
    isolation = ["subprocess", "scratch-dir", "scrubbed-env"]
    reporter = _Reporter(result_fd, isolation)
    try:
        _isolate(payload, isolation)
    except (OSError, ValueError, ImportError, MemoryError) as exc:
        # Fail closed: no untrusted code runs without every layer asked for.
        message = f"the sandbox could not be set up: {exc!r} (are the limits too small?)"
        reporter.finish("error", None, message)
        return
    if payload.get("audit", True):
        isolation.append("audit-hook")
        sys.addaudithook(_make_hook(os.path.realpath(os.getcwd()), reporter))
    reporter.finish(*_run(payload["code"], payload["inputs"], payload["outputs"]))


def _isolate(payload: dict[str, Any], isolation: list[str]) -> None:
    if payload["isolate_network"] and _enter_network_namespace():
        isolation.append("network-namespace")
    _apply_rlimits(payload["rlimits"])
    isolation.append("rlimits")
    uid = payload.get("uid")
    if uid is not None:
        for name in PRELOAD:
            __import__(name)
        os.setgroups([])
        os.setgid(int(payload["gid"]))
        os.setuid(int(uid))
        isolation.append(f"uid:{uid}")
    _purge_unaudited()


def _enter_network_namespace() -> bool:
    """Enter a new network namespace (nothing but a down loopback); False if not permitted."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    # Unprivileged users need a user namespace to own the network namespace.
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    return bool(libc.unshare(flags) == 0)


def _purge_unaudited() -> None:
    # The snippet must import these itself (and meet the hook) rather than reuse
    # ours: ctypes calls C, _posixsubprocess forks without an audit event.
    for name in list(sys.modules):
        if name in ("ctypes", "_posixsubprocess") or name.startswith(("ctypes.", "_ctypes")):
            del sys.modules[name]
    subprocess_module = sys.modules.get("subprocess")
    if subprocess_module is not None:
        vars(subprocess_module).pop("_posixsubprocess", None)


def _apply_rlimits(limits: dict[str, int]) -> None:
    for name, value in limits.items():
        kind = getattr(resource, name)
        _, hard = resource.getrlimit(kind)
        soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
        # CPU: SIGXCPU at the soft limit, SIGKILL a second later if it is ignored.
        new_hard = (
            soft + 1
            if name == "RLIMIT_CPU" and (hard == resource.RLIM_INFINITY or soft < hard)
            else soft
        )
        resource.setrlimit(kind, (soft, new_hard))
    # Past the file-size limit a write fails with EFBIG instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


class _Reporter:
    """Writes the single result object to the result descriptor."""

    def __init__(self, fd: int, isolation: list[str]) -> None:
        self.fd = fd
        self.isolation = isolation

    def finish(self, status: str, outputs: dict[str, Any] | None, error: str | None) -> None:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        record = {"status": status, "outputs": outputs, "error": error, "isolation": self.isolation}
        data = json.dumps(record).encode()
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            message = f"the outputs could not be reported ({exc.strerror}); are they too large?"
            short = {
                "status": "error",
                "outputs": None,
                "error": message,
                "isolation": self.isolation,
            }
            os.write(self.fd, json.dumps(short).encode())


def _make_hook(scratch: str, reporter: _Reporter) -> Callable[[str, tuple[Any, ...]], None]:
    # This file is readable so that a traceback through it can still be printed.
    readable = [scratch, *sys.path, "/usr/share/zoneinfo", __file__]
    read_roots = tuple(os.path.realpath(p) for p in readable if p)
    busy = [False]

    def block(what: str, detail: str) -> None:
        busy[0] = True
        line = _snippet_line()
        where = f" at line {line}" if line else ""
        reporter.finish("blocked", None, f"blocked: {what}: {detail}{where}")
        os._exit(3)

    def check_path(path: Any, write: bool, event: str, extra: str = "") -> None:
        if isinstance(path, int):
            if path > 2:
                block("opening inherited file descriptors", f"{event}({path})")
            return
        raw = os.fsdecode(path) if isinstance(path, bytes) else os.fspath(path)
        full = os.path.realpath(os.path.join(os.getcwd(), raw))
        roots = (scratch,) if write else read_roots
        if not any(full == r or full.startswith(r + os.sep) for r in roots):
            verb = "writing" if write else "reading"
            block(f"{verb} outside the scratch directory", f"{event}({raw!r}{extra})")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if busy[0]:
            return
        busy[0] = True
        try:
            if event == "open":
                path, mode, flags = args
                write = bool(flags & WRITE_FLAGS) or any(c in (mode or "") for c in "wax+")
                check_path(path, write, "open", f", {mode!r}" if mode and write else "")
            elif event == "import":
                reason = DENIED_IMPORTS.get(args[0])
                if reason:
                    block(reason, f"import {args[0]}")
            elif event in WRITE_EVENTS or event in READ_EVENTS:
                positions = WRITE_EVENTS.get(event) or READ_EVENTS[event]
                for i in positions:
                    arg = args[i] if i < len(args) else None
                    check_path("." if arg is None else arg, event in WRITE_EVENTS, event)
            elif event == "sqlite3.connect" and args[0] not in (":memory:", ""):
                check_path(args[0], True, event)
            else:
                reason = DENIED_EVENTS.get(event) or DENIED_EVENTS.get(event.partition(".")[0])
                if reason:
                    block(reason, f"{event}{_short(args)}")
        finally:
            busy[0] = False

    return hook


def _short(args: tuple[Any, ...]) -> str:
    # A socket's own repr says nothing the event name does not.
    text = repr(tuple(a for a in args if type(a).__name__ != "socket"))
    return text if len(text) <= 120 else text[:117] + "..."


def _snippet_line() -> int | None:
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_filename == SNIPPET:
            return frame.f_lineno
        frame = frame.f_back
    return None


def _run(
    code: str, inputs: dict[str, Any], outputs: list[str]
) -> tuple[str, dict[str, Any] | None, str | None]:
    # Tracebacks then quote the snippet's own lines back to the LM.
    linecache.cache[SNIPPET] = (len(code), None, code.splitlines(True), SNIPPET)
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins}
    namespace.update(inputs)
    try:
        exec(compile(code, SNIPPET, "exec"), namespace)
    except MemoryError as exc:
        return "memory", None, _tail(exc) or "MemoryError"
    except SystemExit as exc:
        if exc.code not in (None, 0):
            return "error", None, f"the code called exit({exc.code!r})"
    except BaseException as exc:
        return "error", None, _tail(exc)
    values: dict[str, Any] = {}
    for name in outputs:
        if name not in namespace:
            return "error", None, f"the code did not assign the output `{name}`"
        try:
            encoded = json.dumps(namespace[name], default=_to_json, allow_nan=False)
        except (TypeError, ValueError) as exc:
            return "error", None, f"output `{name}` is not a JSON value: {exc}"
        values[name] = json.loads(encoded)
    return "ok", values, None


def _to_json(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        try:
            return sorted(value)
        except TypeError:
            return sorted(value, key=repr)
    if isinstance(value, fractions.Fraction):
        return float(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


def _tail(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != SNIPPET:
        tb = tb.tb_next
    lines = "".join(traceback.format_exception(type(exc), exc, tb)).rstrip().splitlines()
    text = "\n".join(lines[-ERROR_LINES:])
    if isinstance(exc, OSError) and exc.errno == errno.EFBIG:
        text += "\n(the output or file size limit was reached)"
    return text if len(text) <= ERROR_CHARS else "..." + text[-ERROR_CHARS:]


if __name__ == "__main__":
    main()
