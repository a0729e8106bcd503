"""`dspxc fmt FILE... [--check]`: canonical formatting, comments kept."""

from __future__ import annotations

import argparse
import difflib
import sys

from dspx_lang.cli.common import expand, fail, use_color

DESCRIPTION = "Rewrite FILEs in the canonical layout (comments kept; idempotent)."
EPILOG = """\
A file with syntax errors is never touched: its E001 diagnostics are printed instead.

exit codes: 0 done (or nothing to change), 1 --check found files to change or a file has
syntax errors, 2 usage or I/O error

examples:
  dspxc fmt examples/                   format every .dspx in place
  dspxc fmt --check examples/           CI: exit 1 if anything would change
  dspxc fmt --diff qa.dspx              show what would change, write nothing
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help=".dspx files or directories")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a file would change"
    )
    parser.add_argument("--diff", action="store_true", help="print a diff; write nothing")


def run(args: argparse.Namespace) -> int:
    from dspx_lang.diagnostics.render import TextRenderer
    from dspx_lang.source import SourceFile
    from dspx_lang.syntax import parse
    from dspx_lang.syntax.format import format_module

    status = 0
    changed = 0
    files = expand(args.files)
    for path in files:
        try:
            source = SourceFile.read(path)
        except OSError as exc:
            fail(f"cannot read '{path}': {exc.strerror or exc}")
            status = 2
            continue
        result = parse(source)
        if result.diagnostics:
            renderer = TextRenderer({path: source}, color=use_color())
            for d in result.diagnostics:
                print(renderer.render(d), file=sys.stderr)
            fail(f"'{path}' has syntax errors; not formatted (fix them first)")
            status = max(status, 1)
            continue
        formatted = format_module(source, result.module)
        if formatted == source.text:
            continue
        changed += 1
        if args.diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    source.text.splitlines(True), formatted.splitlines(True), path, path
                )
            )
        if args.check or args.diff:
            print(f"would reformat {path}")
            status = max(status, 1) if args.check else status
            continue
        try:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                handle.write(formatted)
        except OSError as exc:
            fail(f"cannot write '{path}': {exc.strerror or exc}")
            status = 2
            continue
        print(f"reformatted {path}")
    unchanged = len(files) - changed
    if args.check or args.diff:
        if not changed:
            print(f"{unchanged} file{'s' if unchanged != 1 else ''} already formatted")
    else:
        print(f"{changed} file{'s' if changed != 1 else ''} reformatted, {unchanged} unchanged")
    return status
