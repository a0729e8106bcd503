"""Running a file's `test` blocks (`dspxc test`).

Contract: `arun_tests(package, programs)` runs each selected test's program on its inputs
(tests run concurrently; each program's own concurrency limits apply) and checks every
`expect` against the inputs and outputs. A test passes when the program ran and every
expectation is true; a program error or an expectation that cannot be evaluated is a
failure with its message, never an exception out of here.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dspx_lang.ir import schema as ir
from dspx_lang.runtime.errors import DspxError
from dspx_lang.runtime.expr import EvalError, evaluate, names
from dspx_lang.runtime.program import Program

__all__ = ["TestOutcome", "arun_tests", "select_tests"]


@dataclass(frozen=True)
class TestOutcome:
    __test__ = False  # not a pytest test class

    name: str
    program: str
    passed: bool
    failures: tuple[str, ...] = ()
    error: str | None = None
    outputs: Mapping[str, Any] = field(default_factory=dict)
    latency_s: float = 0.0
    cost_usd: float | None = None


def select_tests(package: ir.Package, pattern: str | None) -> list[ir.TestDecl]:
    """The tests whose name contains `pattern` (all when None), in file order."""
    return [t for t in package.tests.values() if pattern is None or pattern in t.name]


async def arun_tests(
    tests: list[ir.TestDecl], programs: Mapping[str, Program]
) -> list[TestOutcome]:
    return list(await asyncio.gather(*(_run(t, programs[t.program]) for t in tests)))


async def _run(test: ir.TestDecl, program: Program) -> TestOutcome:
    try:
        prediction = await program.arun(test.inputs)
    except DspxError as exc:
        return TestOutcome(test.name, test.program, False, error=str(exc))
    env = {**test.inputs, **prediction.outputs}
    failures = [
        failure for expect in test.expects if (failure := _check(expect, env, test)) is not None
    ]
    return TestOutcome(
        name=test.name,
        program=test.program,
        passed=not failures,
        failures=tuple(failures),
        outputs=dict(prediction.outputs),
        latency_s=prediction.latency_s,
        cost_usd=prediction.cost_usd if prediction.cost_known else None,
    )


def _check(expect: ir.Expect, env: Mapping[str, Any], test: ir.TestDecl) -> str | None:
    where = f"{test.file.rsplit('/', 1)[-1]}:{expect.line}"
    try:
        if evaluate(expect.expr, env) is True:
            return None
        problem = ""
    except EvalError as exc:
        problem = f" (cannot evaluate: {exc})"
    values = ", ".join(f"{n} = {_show(env.get(n))}" for n in names(expect.expr))
    return f"expect {expect.text} ({where}) failed{problem}: {values}"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."
