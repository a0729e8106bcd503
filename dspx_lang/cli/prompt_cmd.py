"""`dspxc prompt FILE --program P [--step S] [--set var=value]...`: the exact messages.

Contract: renders, with the runtime's own renderer and no LM call, the messages each step's
first call would send under the given configuration. Inputs not given with --input, and
step inputs that come from other steps, show as `{placeholders}`. Exit codes: 0, 1 file
errors or an invalid configuration, 2 usage error.
"""

from __future__ import annotations

import argparse
import json

from dspx_lang.cli.common import fail

DESCRIPTION = "Print the exact chat messages a program's calls would send; calls nothing."
EPILOG = """\
examples:
  dspxc prompt examples/qa.dspx --program qa
  dspxc prompt examples/qa.dspx --set reasoning=predict --set demos=0
  dspxc prompt examples/count.dspx --step total --set counter=cot
  dspxc prompt examples/intent.dspx --input '{"utterance": "play jazz"}' --format json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from dspx_lang.cli.run_cmd import add_program_arguments

    add_program_arguments(parser)
    parser.add_argument("--step", "-s", metavar="S", help="only this step")
    parser.add_argument("--input", "-i", metavar="JSON", help="inputs as a JSON object, or @FILE")
    parser.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: step -> messages"
    )


def run(args: argparse.Namespace) -> int:
    from dspx_lang.cli.run_cmd import (
        CommandError,
        configure,
        load_package,
        parse_inputs,
        pick_program,
    )
    from dspx_lang.runtime.errors import DspxError
    from dspx_lang.runtime.program import Program

    try:
        inputs = parse_inputs(args.input) if args.input else {}
        package = load_package(args.file)
        program = configure(Program(package, pick_program(package, args.program)), args)
        rendered = program.render(inputs, step=args.step)
        plans = {name: program.describe_step(name) for name in rendered}
    except CommandError as exc:
        return exc.report()
    except DspxError as exc:
        fail(str(exc))
        return 1
    if args.format == "json":
        print(json.dumps(rendered, indent=2, ensure_ascii=False))
        return 0
    for step, messages in rendered.items():
        print(f"=== step {step}: {plans[step]} ===")
        for message in messages:
            print(f"--- {message['role']} ---")
            print(message["content"])
        print()
    return 0
