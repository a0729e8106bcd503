"""`dspxc compile FILE... -o DIR`: check, then write the typed module and the IR of each file.

Contract: nothing is written unless every file compiles without errors (warnings do not
stop it, unless --werror); diagnostics print as `dspxc check` prints them. Exit codes: 0
written, 1 errors, 2 usage or I/O error.
"""

from __future__ import annotations

import argparse

from dspx_lang.cli.common import add_output_flags, expand, fail, use_color

DESCRIPTION = (
    "Check FILEs, then write DIR/<stem>.py (a typed Python module) and DIR/<stem>.ir.json "
    "(the IR the runtime executes) for each."
)
EPILOG = """\
exit codes: 0 written, 1 errors (nothing written), 2 usage or I/O error

examples:
  dspxc compile examples/qa.dspx -o out          writes out/qa.py and out/qa.ir.json
  dspxc compile examples/ -o out                 every .dspx under a directory
  python -c "from out.qa import qa; print(qa(question='...', context=['...']))"

Point a compiled program at another endpoint without recompiling: set
DSPX_API_BASE_<MODEL> (e.g. DSPX_API_BASE_MINI=http://127.0.0.1:8080/v1), or call
program.with_model("mini", api_base=...).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE", help=".dspx files or directories")
    parser.add_argument(
        "-o", "--output", required=True, metavar="DIR", help="directory for the outputs"
    )
    parser.add_argument("--werror", action="store_true", help="treat warnings as errors")
    add_output_flags(parser)


def run(args: argparse.Namespace) -> int:
    from dspx_lang.codegen.build import CompileResult, compile_source, write_outputs
    from dspx_lang.diagnostics import Diagnostic, Severity
    from dspx_lang.diagnostics.render import TextRenderer, summary, to_json
    from dspx_lang.driver import Session
    from dspx_lang.source import SourceFile

    session = Session()
    results: list[CompileResult] = []
    diagnostics: list[Diagnostic] = []
    sources: dict[str, SourceFile] = {}
    seen: set[tuple[str, int, int, str, str]] = set()
    files = expand(args.files)
    for path in files:
        try:
            result = compile_source(path, session=session)
        except OSError as exc:
            fail(f"cannot read '{path}': {exc.strerror or exc}")
            return 2
        results.append(result)
        sources.update(result.compilation.sources)
        for d in result.compilation.diagnostics:
            key = (d.file, d.span.start, d.span.end, d.code, d.message)
            if key not in seen:
                seen.add(key)
                diagnostics.append(d)
    if args.format == "json":
        print(to_json(diagnostics, sources))
    else:
        renderer = TextRenderer(sources, color=use_color())
        for d in diagnostics:
            print(renderer.render(d))
            print()
    failing = {Severity.ERROR, Severity.WARNING} if args.werror else {Severity.ERROR}
    if any(d.severity in failing for d in diagnostics) or not all(r.ok for r in results):
        if args.format == "text":
            print(summary(diagnostics, len(files)))
            print("nothing written")
        return 1
    written: list[str] = []
    stems: dict[str, str] = {}
    for result in results:
        stem = result.compilation.root.rsplit("/", 1)[-1].removesuffix(".dspx")
        if stem in stems:
            fail(f"{result.compilation.root} and {stems[stem]} would both write {stem}.py")
            return 2
        stems[stem] = result.compilation.root
    try:
        for result in results:
            written.extend(str(p) for p in write_outputs(result, args.output))
    except OSError as exc:
        fail(f"cannot write to '{args.output}': {exc.strerror or exc}")
        return 2
    if args.format == "text" and not args.quiet:
        print(f"wrote {', '.join(written)}")
    return 0
