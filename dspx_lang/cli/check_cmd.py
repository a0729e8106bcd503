"""`dspxc check FILE...`: parse and run every static check; print diagnostics."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from dspx_lang.cli.common import add_output_flags, expand, fail, use_color

DESCRIPTION = "Parse FILEs (and what they import) and run every static check."
EPILOG = """\
exit codes: 0 clean or warnings only, 1 errors (or warnings with --werror), 2 usage or I/O error

examples:
  dspxc check examples/qa.dspx
  dspxc check examples/                 every .dspx under a directory
  dspxc check --format json qa.dspx     machine-readable diagnostics
  dspxc check --werror examples/        fail on warnings too (CI)
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help=".dspx files or directories")
    parser.add_argument("--werror", action="store_true", help="treat warnings as errors")
    add_output_flags(parser)


def run(args: argparse.Namespace) -> int:
    from dspx_lang.diagnostics import Diagnostic, Severity
    from dspx_lang.diagnostics.render import TextRenderer, summary, to_json
    from dspx_lang.source import SourceFile

    if TYPE_CHECKING:
        from dspx_lang.driver import Session

    from dspx_lang.cli import check_cache

    session: Session | None = None
    seen: set[tuple[str, int, int, str, str]] = set()
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    io_error = False
    files = expand(args.files)
    for path in files:
        found = check_cache.lookup(path)
        if found is None:
            from dspx_lang.driver import Session

            session = session or Session()
            try:
                compilation = session.check(path)
            except OSError as exc:
                fail(f"cannot read '{path}': {exc.strerror or exc}")
                io_error = True
                continue
            found = compilation.diagnostics
            sources.update(compilation.sources)
            check_cache.store(path, *compilation.dependencies(), found)
        for d in found:
            key = (d.file, d.span.start, d.span.end, d.code, d.message)
            if key not in seen:
                seen.add(key)
                diagnostics.append(d)
    for d in diagnostics:
        for name in (d.file, *(r.file for r in d.related)):
            if name not in sources:
                try:
                    sources[name] = SourceFile.read(name)
                except OSError:
                    continue
    if args.format == "json":
        print(to_json(diagnostics, sources))
    else:
        renderer = TextRenderer(sources, color=use_color())
        for d in diagnostics:
            print(renderer.render(d))
            print()
        if not args.quiet:
            print(summary(diagnostics, len(files)))
    if io_error:
        return 2
    failing = {Severity.ERROR, Severity.WARNING} if args.werror else {Severity.ERROR}
    return 1 if any(d.severity in failing for d in diagnostics) else 0
