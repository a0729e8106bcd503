"""`dspxc lsp`: run the dspx language server on stdio (for editors).

The server lives in the `dspx_lsp` package; it is found by name when the
command runs, so the compiler never imports it (or pygls) otherwise.
"""

from __future__ import annotations

import argparse
import importlib

from dspx_lang.cli.common import fail

DESCRIPTION = "Run the dspx language server, speaking LSP over stdin/stdout."
EPILOG = """\
Editors start this for you (the VS Code extension runs `dspxc lsp`). To try it by hand:
  dspxc lsp            then type LSP messages on stdin; logs go to stderr
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--stdio",
        action="store_true",
        help="accepted for editors that pass it (stdio is the default)",
    )


def run(args: argparse.Namespace) -> int:
    try:
        server = importlib.import_module("dspx_lsp.server")
    except ImportError as exc:
        fail(f"the language server is not installed ({exc}); reinstall dspx with its dependencies")
        return 2
    server.serve()
    return 0
