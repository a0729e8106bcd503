"""`dspxc test FILE [-k NAME]`: run the file's `test` blocks against their programs.

Contract: every selected test runs (concurrently); a table shows PASS/FAIL per test with
latency and cost, then each failure's expectation and the values it saw. Exit codes: 0 all
passed, 1 any failed (or none matched -k, or the file has errors), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from dspx_lang.cli.common import fail, use_color
from dspx_lang.runtime.loop import run as run_loop

if TYPE_CHECKING:
    from dspx_lang.runtime.testing import TestOutcome

DESCRIPTION = "Run the test blocks of a .dspx file; exit 1 if any fails."
EPILOG = """\
exit codes: 0 all passed, 1 a test failed or none matched, 2 usage error

examples:
  dspxc test examples/qa.dspx
  dspxc test examples/intent.dspx -k weather
  dspxc test examples/qa.dspx --format json       one JSON object per test
  dspxc test examples/math.dspx --set method=pot --api-base mini=http://127.0.0.1:8080/v1
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the .dspx file")
    parser.add_argument("-k", dest="select", metavar="NAME", help="only tests whose name has NAME")
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="set a variable of every tested program (repeatable)",
    )
    parser.add_argument(
        "--api-base",
        dest="api_bases",
        action="append",
        default=[],
        metavar="MODEL=URL",
        help="send a model's calls to this OpenAI-compatible endpoint (repeatable)",
    )
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: one object per test"
    )


def run(args: argparse.Namespace) -> int:
    from dspx_lang.cli.run_cmd import CommandError, configure, load_package
    from dspx_lang.runtime.errors import DspxError
    from dspx_lang.runtime.lm import LMClient
    from dspx_lang.runtime.program import Program
    from dspx_lang.runtime.testing import arun_tests, select_tests

    try:
        package = load_package(args.file)
    except CommandError as exc:
        return exc.report()
    tests = select_tests(package, args.select)
    if not tests:
        where = f" matching -k {args.select!r}" if args.select else ""
        print(f"no tests{where} in {args.file}")
        return 1 if args.select else 0
    client = LMClient()
    try:
        programs = {
            name: configure(Program(package, name, client=client), args)
            for name in sorted({t.program for t in tests})
        }
        outcomes = run_loop(arun_tests(tests, programs))
    except CommandError as exc:
        return exc.report()
    except DspxError as exc:
        fail(str(exc))
        return 1
    finally:
        client.close()
    failed = [o for o in outcomes if not o.passed]
    if args.format == "json":
        print(json.dumps([_data(o) for o in outcomes], indent=2, ensure_ascii=False))
        return 1 if failed else 0
    color = use_color()
    width = max(len(f"{o.name} ({o.program})") for o in outcomes)
    for o in outcomes:
        status = "PASS" if o.passed else "FAIL"
        if color:
            status = f"\033[1;{32 if o.passed else 31}m{status}\033[0m"
        cost = "cost unknown" if o.cost_usd is None else f"${o.cost_usd:.6f}"
        print(f"{status}  {f'{o.name} ({o.program})':<{width}}  {o.latency_s:7.3f}s  {cost}")
    for o in failed:
        print(f"\n{o.name} ({o.program}):")
        if o.error:
            print(f"  error: {o.error}")
        for failure in o.failures:
            print(f"  {failure}")
    passed = len(outcomes) - len(failed)
    print(f"\n{len(outcomes)} test(s): {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


def _data(outcome: TestOutcome) -> dict[str, Any]:
    return {
        "name": outcome.name,
        "program": outcome.program,
        "passed": outcome.passed,
        "failures": list(outcome.failures),
        "error": outcome.error,
        "outputs": dict(outcome.outputs),
        "latency_s": round(outcome.latency_s, 4),
        "cost_usd": outcome.cost_usd,
    }
