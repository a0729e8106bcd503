"""Evaluating a configured program on examples: `aevaluate_program`.

Contract:
- `concurrency` examples are in flight at once (each model's own `concurrency` limit still
  holds inside the LM client). Examples start in index order; results are streamed to
  `out` (JSONL, see `eval_results`) and handed to `on_result` as each example finishes
  (the results resumed from `out` first).
- Errors are accounted, never raised per example: `DspxOutputError` -> `output_error`
  (scored 0), `DspxProviderError`/`DspxSandboxError` -> `infra_error` (not scored),
  a failing Python metric -> `metric_error`, a refused call -> `stopped`. A
  `DspxConfigError` (a missing API key, a bad model...) would fail every example alike: the
  evaluation stops and raises it, keeping the results written so far. Any other exception
  is a bug and is raised the same way.
- `spend`: a `SpendHook` asked before every LM call and told after it (`metering`). When it
  refuses, the evaluation stops cleanly: no new example starts, examples in flight finish
  unless their next call is refused too, and the result has `stopped=True` and the reason.
- Cancelling the awaiting task cancels the examples in flight (their LM calls included),
  closes the results file (every finished example is in it) and re-raises.
- `resume=True` keeps the finished examples of `out` (checked against these examples: the
  same index must hold the same inputs and expected values) and runs only the others.
- Nothing here imports the compiler: objectives and budgets come from the IR.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Literal

from dspx_lang.ir import schema as ir
from dspx_lang.runtime.errors import (
    DspxConfigError,
    DspxOutputError,
    DspxProviderError,
    DspxSandboxError,
)
from dspx_lang.runtime.eval_results import (
    EvaluationResult,
    ExampleResult,
    ResultsFile,
    Status,
    json_data,
    quality_score,
    summarize,
)
from dspx_lang.runtime.examples import DspxDataError, Example, require_expected
from dspx_lang.runtime.metering import (
    CallTally,
    EvaluationStopped,
    MeteredClient,
    SpendHook,
    current_tally,
)
from dspx_lang.runtime.metrics import MetricError, Objective, Scorer, objectives_of
from dspx_lang.runtime.results import Prediction

if TYPE_CHECKING:
    from dspx_lang.runtime.program import Program

__all__ = ["OnResult", "aevaluate_program", "default_objectives", "fingerprint"]

OnResult = Callable[[ExampleResult], object]
"""Called with each finished example (an awaitable it returns is awaited)."""


def default_objectives(
    program: ir.ProgramDecl, examples: Sequence[Example]
) -> tuple[ir.ObjectiveDecl, ...]:
    """The program's objectives; without any, `exact_match` of every output the examples
    have expected values for."""
    if program.objectives:
        return program.objectives
    present = {name for e in examples for name in e.expected}
    return tuple(
        ir.ObjectiveDecl(direction="maximize", metric="exact_match", field=f.name, weight=1.0)
        for f in program.outputs
        if f.name in present
    )


def fingerprint(program: Program) -> str:
    """What makes two evaluations comparable: configuration, rendered prompts, model ids."""
    state = {
        "program": program.name,
        "config": program.config,
        "prompts": program.render(),
        "models": {name: spec.model_id for name, spec in program.models().items()},
    }
    text = json.dumps(state, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


async def aevaluate_program(
    program: Program,
    examples: Sequence[Example],
    *,
    concurrency: int = 16,
    objectives: Sequence[ir.ObjectiveDecl] | None = None,
    budgets: Sequence[ir.BudgetDecl] | None = None,
    on_result: OnResult | None = None,
    spend: SpendHook | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
) -> EvaluationResult:
    """Run `program` on `examples` and score it (see the module docstring).

    `objectives`/`budgets` default to the program's (`default_objectives` when it declares
    none)."""
    if concurrency < 1:
        raise DspxConfigError(f"concurrency must be >= 1, not {concurrency}")
    if len({e.index for e in examples}) != len(examples):
        raise DspxDataError("two examples have the same index; each needs its own")
    started = time.perf_counter()
    decl = program.decl
    resolved = objectives_of(
        objectives if objectives is not None else default_objectives(decl, examples)
    )
    scorer = Scorer(program.package, decl, resolved)
    if scorer.fields:
        names = ", ".join(o.name for o in scorer.quality if o.field is not None)
        require_expected(examples, scorer.fields, names)
    limits: list[tuple[Literal["cost", "latency", "tokens"], float]] = [
        (b.metric, b.limit) for b in (budgets if budgets is not None else decl.budgets)
    ]
    done: dict[int, ExampleResult] = {}
    results_file: ResultsFile | None = None
    if out is not None:
        header = {
            "program": program.name,
            "fingerprint": fingerprint(program),
            "objectives": [o.name for o in resolved],
        }
        results_file, kept = ResultsFile.open(out, header, resume=resume)
        done = _matching(kept, examples, results_file)
    resumed = len(done)
    run = _Run(program.with_client(MeteredClient(program.client, spend)), scorer, resolved)
    todo = iter([e for e in examples if e.index not in done])

    async def finish(result: ExampleResult) -> None:
        done[result.index] = result
        if results_file is not None and result.status != "stopped":
            results_file.write(result)
        if on_result is not None:
            await _call(on_result, result)

    try:
        if on_result is not None:
            for result in sorted(done.values(), key=lambda r: r.index):
                await _call(on_result, result)
        await _drive(run, todo, concurrency, finish)
    finally:
        if results_file is not None:
            results_file.close()
    return summarize(
        program=program.name,
        config=program.config,
        objectives=resolved,
        budgets=limits,
        results=list(done.values()),
        total=len(examples),
        wall_s=time.perf_counter() - started,
        stop_reason=run.stop_reason,
        resumed=resumed,
    )


async def _call(on_result: OnResult, result: ExampleResult) -> None:
    reply = on_result(result)
    if inspect.isawaitable(reply):
        await reply


def _matching(
    kept: Sequence[ExampleResult], examples: Sequence[Example], results_file: ResultsFile
) -> dict[int, ExampleResult]:
    """The kept results of examples still asked for, after checking they are the same ones."""
    by_index = {e.index: e for e in examples}
    matched: dict[int, ExampleResult] = {}
    for result in kept:
        example = by_index.get(result.index)
        if example is None:
            continue
        if json_data(result.inputs) != json_data(example.inputs) or json_data(
            result.expected
        ) != json_data(example.expected):
            results_file.close()
            raise DspxDataError(
                f"{results_file.path}: example {result.index} has other inputs or expected "
                "values than the data given now; resume with the same data, or rerun without "
                "--resume"
            )
        matched[result.index] = result
    return matched


async def _drive(
    run: _Run,
    todo: Iterator[Example],
    concurrency: int,
    finish: Callable[[ExampleResult], Any],
) -> None:
    """`concurrency` workers pull examples from `todo` until it is empty or the run stops;
    the first exception a worker raises cancels the others and is raised."""

    async def worker() -> None:
        tally_var = current_tally()
        for example in todo:
            if run.stop_reason is not None:
                return
            tally = CallTally()
            token = tally_var.set(tally)
            try:
                result = await run.one(example, tally)
            finally:
                tally_var.reset(token)
            await finish(result)

    workers = [asyncio.ensure_future(worker()) for _ in range(concurrency)]
    try:
        finished, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
    except BaseException:
        await _cancel(workers)
        raise
    for task in finished:
        if not task.cancelled() and task.exception() is not None:
            await _cancel(workers)
            task.result()


async def _cancel(tasks: Sequence[asyncio.Future[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class _Run:
    """Runs and scores one example at a time; shared by the workers."""

    def __init__(self, program: Program, scorer: Scorer, objectives: Sequence[Objective]) -> None:
        self.program = program
        self.scorer = scorer
        self.objectives = objectives
        self.stop_reason: str | None = None

    async def one(self, example: Example, tally: CallTally) -> ExampleResult:
        started = time.perf_counter()
        prediction: Prediction | None = None
        status: Status = "ok"
        error: Exception | None = None
        try:
            prediction = await self.program.arun(example.inputs)
        except DspxOutputError as exc:
            status, error = "output_error", exc
        except (DspxProviderError, DspxSandboxError) as exc:
            status, error = "infra_error", exc
        except EvaluationStopped as exc:
            status, error = "stopped", exc
            if self.stop_reason is None:
                self.stop_reason = exc.message
        latency = time.perf_counter() - started
        scores: dict[str, float] = {}
        if prediction is not None:
            try:
                scores = await self.scorer.score(example, prediction.outputs, prediction)
            except MetricError as exc:
                status, error = "metric_error", exc
        elif status == "output_error":
            scores = self.scorer.zeros()
        return ExampleResult(
            index=example.index,
            inputs=example.inputs,
            expected=example.expected,
            status=status,
            outputs=None if prediction is None else dict(prediction.outputs),
            scores=scores,
            score=quality_score(scores, self.objectives) if scores else None,
            error_type=None if error is None else type(error).__name__,
            error=None if error is None else str(error),
            latency_s=latency,
            cost_usd=tally.cost_usd if tally.cost_known else None,
            prompt_tokens=tally.prompt_tokens,
            completion_tokens=tally.completion_tokens,
            calls=tally.calls,
            cache_hits=tally.cache_hits,
            prediction=prediction,
            example=example,
        )
