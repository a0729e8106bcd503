"""`dspxc`, the command line.

Contract: `main()` never lets a traceback escape for user errors; it returns
the exit codes of TOOLCHAIN.md (0 ok, 1 errors found / program failed,
2 usage or I/O error). Each command lives in its own module exposing
`NAME`, `HELP`, `add_arguments(parser)` and `run(args) -> int`; the modules are
imported only when their command runs, so `dspxc --version` and
`dspxc check` stay fast.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import sys
from collections.abc import Sequence

from dspx_lang import __version__

# (command, module, one-line help). Order is the order shown in --help.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("check", "dspx_lang.cli.check_cmd", "parse and run every static check; print diagnostics"),
    ("compile", "dspx_lang.cli.compile_cmd", "check, then write a typed Python module and the IR"),
    ("fmt", "dspx_lang.cli.fmt_cmd", "format files canonically (comments kept)"),
    ("estimate", "dspx_lang.cli.estimate_cmd", "tokens, cost and latency before any call"),
    ("eval", "dspx_lang.cli.eval_cmd", "evaluate a program on a dataset; objectives and errors"),
    ("local", "dspx_lang.cli.local_cmd", "fetch, start and stop a local model server (no API key)"),
    ("lsp", "dspx_lang.cli.lsp_cmd", "run the language server on stdio"),
    ("optimize", "dspx_lang.cli.optimize_cmd", "search a program's variables; write the artifact"),
    ("prompt", "dspx_lang.cli.prompt_cmd", "print the exact messages a program would send"),
    ("run", "dspx_lang.cli.run_cmd", "run one call of a program; print outputs and usage"),
    ("test", "dspx_lang.cli.test_cmd", "run a file's test blocks against their programs"),
)

EPILOG = """\
examples:
  dspxc check examples/*.dspx            report diagnostics (exit 1 on errors)
  dspxc check --format json qa.dspx      diagnostics as LSP-style JSON
  dspxc fmt --check examples/*.dspx      exit 1 if a file is not formatted

Run `dspxc COMMAND --help` for the options of one command.
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dspxc",
        description="The dspx compiler: check, compile, estimate, run, evaluate and "
        "optimize .dspx programs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"dspxc {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, _module, help_text in COMMANDS:
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_list if not a.startswith("-")), None)
    known = {name: (module, help_text) for name, module, help_text in COMMANDS}
    if command is None or command not in known:
        parser = build_parser()
        if command is None and not args_list:
            parser.print_help()
            return 2
        try:
            parser.parse_args(args_list)
        except SystemExit as exc:
            return int(exc.code or 0)
        return 2
    # A short-lived process building large ASTs: collect cycles rarely (as mypy does).
    gc.set_threshold(100_000, 50, 100)
    module_name, help_text = known[command]
    module = importlib.import_module(module_name)
    sub_parser = argparse.ArgumentParser(
        prog=f"dspxc {command}",
        description=getattr(module, "DESCRIPTION", help_text),
        epilog=getattr(module, "EPILOG", None),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    module.add_arguments(sub_parser)
    rest = list(args_list)
    rest.remove(command)
    try:
        args = sub_parser.parse_args(rest)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        result: int = module.run(args)
    except KeyboardInterrupt:
        print("dspxc: interrupted", file=sys.stderr)
        return 130
    return result
