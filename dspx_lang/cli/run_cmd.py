"""`dspxc run FILE --program P --input JSON [--set var=value]...`: run one call.

Contract: prints the outputs as JSON, then the call's usage, cost and latency. Exit codes:
0 ok, 1 the program failed (or the file has errors), 2 usage error (bad JSON, bad --set).
The helpers here (`load_program`, `parse_assignments`) are shared by `prompt` and `test`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from dspx_lang.cli.common import fail

if TYPE_CHECKING:
    from dspx_lang.ir.schema import Package
    from dspx_lang.runtime.program import Program

DESCRIPTION = "Run one call of a program and print its outputs, usage, cost and latency."
EPILOG = """\
exit codes: 0 ok, 1 the program failed or the file has errors, 2 usage error

examples:
  dspxc run examples/qa.dspx --program qa \\
      --input '{"question": "Who wrote Hamlet?", "context": ["Hamlet is by Shakespeare."]}'
  dspxc run examples/qa.dspx --input @question.json --set reasoning=predict --set demos=0
  dspxc run examples/intent.dspx --input '{"utterance": "play jazz"}' \\
      --api-base local=http://127.0.0.1:8080/v1
  dspxc run examples/intent.dspx --opt examples/intent.classify.opt.json \\
      --input '{"utterance": "play jazz"}'             # the optimizer's choice applied

--set takes JSON values, or bare words for names (`--set model=local`). The endpoint of a
model can also be set with the environment variable DSPX_API_BASE_<MODEL>.
"""


def add_program_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="the .dspx file")
    parser.add_argument(
        "--program", "-p", metavar="P", help="the program (optional when the file has one)"
    )
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="VAR=VALUE",
        help="set a variable (repeatable)",
    )
    parser.add_argument(
        "--api-base",
        dest="api_bases",
        action="append",
        default=[],
        metavar="MODEL=URL",
        help="send a model's calls to this OpenAI-compatible endpoint (repeatable)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_program_arguments(parser)
    parser.add_argument(
        "--input", "-i", required=True, metavar="JSON", help="inputs as a JSON object, or @FILE"
    )
    parser.add_argument(
        "--opt", metavar="ARTIFACT", help="apply an optimizer artifact (before --set)"
    )
    parser.add_argument("--no-cache", action="store_true", help="do not use the response cache")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: one object"
    )


class CommandError(Exception):
    """Stop the command with exit code `code`, after printing `message` (if any) as an error."""

    def __init__(self, message: str | None, code: int = 2) -> None:
        super().__init__(message or "")
        self.message = message
        self.code = code

    def report(self) -> int:
        if self.message:
            fail(self.message)
        return self.code


def parse_assignments(items: list[str], what: str) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"{what} needs NAME=VALUE, got {item!r}")
        try:
            values[name.strip()] = json.loads(text)
        except ValueError:
            values[name.strip()] = text  # a bare word: a name such as `predict` or `mini`
    return values


def parse_inputs(text: str) -> dict[str, Any]:
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
        except OSError as exc:
            raise CommandError(f"cannot read inputs from {text[1:]}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CommandError(f"--input is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise CommandError('--input must be a JSON object such as \'{"question": "..."}\'')
    return data


def load_package(path: str) -> Package:
    """The IR of `path`; prints the file's errors and raises CommandError (exit 1) on errors."""
    from dspx_lang.cli.common import use_color
    from dspx_lang.codegen.build import DspxCompileError, checked_package

    try:
        return checked_package(path, color=use_color())
    except OSError as exc:
        raise CommandError(f"cannot read '{path}': {exc.strerror or exc}") from None
    except DspxCompileError as exc:
        print(exc.message, file=sys.stderr)
        raise CommandError(f"{path} has errors; nothing was run", 1) from None


def configure(program: Program, args: argparse.Namespace) -> Program:
    """Apply --set and --api-base (DspxConfigError when a value does not fit)."""
    sets = parse_assignments(args.sets, "--set")
    for model, url in parse_assignments(args.api_bases, "--api-base").items():
        program = program.with_model(model, api_base=str(url))
    return program.configure(**sets) if sets else program


def load_optimized(program: Program, artifact: str | None) -> Program:
    """Apply `--opt ARTIFACT` (CommandError, exit 2, when it cannot be read or no longer
    fits the program)."""
    if not artifact:
        return program
    from dspx_lang.runtime.errors import DspxConfigError

    try:
        return program.load_optimized(artifact)
    except DspxConfigError as exc:
        raise CommandError(f"--opt: {exc.message}") from None


def pick_program(package: Package, name: str | None) -> str:
    if name is not None:
        if name not in package.programs:
            known = ", ".join(package.programs) or "none"
            raise CommandError(f"no program '{name}' (the programs: {known})")
        return name
    if len(package.programs) != 1:
        known = ", ".join(package.programs) or "none"
        raise CommandError(f"the file holds the programs {known}: choose one with --program")
    return next(iter(package.programs))


def run(args: argparse.Namespace) -> int:
    from dspx_lang.runtime.errors import DspxError
    from dspx_lang.runtime.lm import LMClient
    from dspx_lang.runtime.program import Program

    try:
        inputs = parse_inputs(args.input)
        package = load_package(args.file)
        name = pick_program(package, args.program)
    except CommandError as exc:
        return exc.report()
    client = LMClient(cache=False) if args.no_cache else LMClient()
    try:
        program = configure(load_optimized(Program(package, name, client=client), args.opt), args)
        prediction = program.run(inputs)
    except CommandError as exc:
        return exc.report()
    except DspxError as exc:
        fail(str(exc))
        return 1
    finally:
        client.close()
    if args.format == "json":
        print(json.dumps({"outputs": dict(prediction.outputs), "usage": prediction.usage()}))
        return 0
    print(json.dumps(dict(prediction.outputs), indent=2, ensure_ascii=False))
    usage = prediction.usage()
    cost = "unknown" if usage["cost_usd"] is None else f"${usage['cost_usd']:.6f}"
    cached = f" ({usage['cache_hits']} from cache)" if usage["cache_hits"] else ""
    print(
        f"usage: {usage['calls']} call(s){cached}, {usage['prompt_tokens']} prompt + "
        f"{usage['completion_tokens']} completion tokens, cost {cost}, "
        f"latency {usage['latency_s']:.3f}s"
    )
    return 0
