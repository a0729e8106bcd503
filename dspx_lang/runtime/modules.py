"""The module kinds of LANGUAGE.md §4, run for one step: predict, cot, pot, react.

Contract:
- `run_step(plan, inputs, ...)` returns the step's outputs (signature outputs, plus
  `reasoning` for cot/react and `code` for pot) and the calls it made, or raises a
  `DspxError` naming the program and step (and the field, for output errors).
- Unparseable or invalid answers are retried once with the error shown to the LM (the
  failed answer and the error are appended to the conversation); then `DspxOutputError`.
- pot: the code runs in the sandbox (`arun_python`) with the step inputs as globals; a
  failure (exception, limit, missing or invalid output) is shown to the LM and the code
  rewritten, for at most `max_iters` attempts in all.
- react: at most `max_iters` tool turns, then the outputs are extracted. With native function
  calling the conversation carries the tool calls and their results; otherwise each turn is
  a text-protocol call (`react_turn_spec`) over the trajectory so far, and a last
  `react_extract_spec` call writes the outputs.
- Every call goes through the program's `LMClient`; each is reported to `on_call` as it
  finishes (the program's history).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dspx_lang.prompts import (
    FINISH_TOOL,
    PromptSpec,
    format_trajectory,
    lm_outputs,
    pot_retry_message,
    react_extract_spec,
    react_stop_message,
    react_turn_spec,
    render_messages,
    retry_message,
)
from dspx_lang.runtime.coerce import (
    CoercionError,
    choice_coercer,
    json_object_coercer,
    strip_fences,
)
from dspx_lang.runtime.errors import DspxError, DspxOutputError
from dspx_lang.runtime.lm import LMClient, LMRequest, LMResponse
from dspx_lang.runtime.parsing import OutputField, OutputParseError, parse_outputs
from dspx_lang.runtime.plan import StepPlan
from dspx_lang.runtime.results import CallRecord
from dspx_lang.runtime.sandbox import arun_python

__all__ = ["PARSE_RETRIES", "run_step"]

PARSE_RETRIES = 1
Messages = list[dict[str, Any]]


async def run_step(
    plan: StepPlan,
    inputs: Mapping[str, Any],
    *,
    client: LMClient,
    program: str,
    on_call: Callable[[CallRecord], None],
) -> tuple[dict[str, Any], list[CallRecord]]:
    run = _StepRun(plan, inputs, client, program, on_call)
    module = plan.settings.module
    if module == "pot":
        outputs = await run.pot()
    elif module == "react":
        outputs = await (run.react_native() if plan.native_tools else run.react_text())
    else:
        outputs = await run.predict(
            plan.spec, render_messages(plan.spec, inputs, plan.demos, **run.native), plan.lm_fields
        )
    return outputs, run.calls


class _StepRun:
    def __init__(
        self,
        plan: StepPlan,
        inputs: Mapping[str, Any],
        client: LMClient,
        program: str,
        on_call: Callable[[CallRecord], None],
    ) -> None:
        self.plan = plan
        self.inputs = inputs
        self.client = client
        self.program = program
        self.on_call = on_call
        self.calls: list[CallRecord] = []
        self.native = {"native_structured": plan.native_structured}

    async def call(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        tools: bool = False,
        tool_choice: str | None = None,
        structured: bool = True,
    ) -> LMResponse:
        plan = self.plan
        request = LMRequest(
            messages=messages,
            temperature=plan.settings.temperature,
            max_tokens=plan.settings.max_tokens,
            response_format=plan.response_format if structured else None,
            tools=plan.tool_schemas if tools else None,
            tool_choice=tool_choice,
        )
        try:
            response = await self.client.acomplete(plan.model, request)
        except DspxError as exc:
            raise exc.with_context(program=self.program, step=plan.step.name) from None
        record = CallRecord(
            program=self.program,
            step=plan.step.name,
            model=plan.model.name,
            messages=tuple(messages),
            text=response.text,
            tool_calls=tuple(
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in response.tool_calls
            ),
            prompt_tokens=response.usage.prompt_tokens,
            completion_tokens=response.usage.completion_tokens,
            cost_usd=response.cost_usd,
            latency_s=response.latency_s,
            cached=response.cached,
        )
        self.calls.append(record)
        self.on_call(record)
        return response

    def output_error(self, error: OutputParseError, raw: str, attempts: int) -> DspxOutputError:
        tries = "once" if attempts == 1 else f"{attempts} times"
        return DspxOutputError(
            f"the LM's answer could not be used ({error}); asked {tries}. Look at "
            "`program.history` for the raw answers; a clearer signature, another adapter or a "
            "stronger model may help",
            raw=raw,
            program=self.program,
            step=self.plan.step.name,
            field=error.field,
        )

    async def predict(
        self,
        spec: PromptSpec,
        messages: Messages,
        fields: Sequence[OutputField],
        *,
        tools: bool = False,
        tool_choice: str | None = None,
    ) -> dict[str, Any]:
        """Call, parse, and retry with the error shown; the workhorse of every module."""
        for attempt in range(1, PARSE_RETRIES + 2):
            response = await self.call(messages, tools=tools, tool_choice=tool_choice)
            try:
                return parse_outputs(spec.adapter, response.text, fields)
            except OutputParseError as exc:
                if attempt > PARSE_RETRIES:
                    raise self.output_error(exc, response.text, attempt) from None
                messages = [
                    *messages,
                    {"role": "assistant", "content": response.text},
                    retry_message(spec, str(exc)),
                ]
        raise AssertionError("unreachable")

    # ------------------------------------------------------------------------ pot

    async def pot(self) -> dict[str, Any]:
        plan, spec = self.plan, self.plan.spec
        messages: Messages = list(render_messages(spec, self.inputs, plan.demos, **self.native))
        names = [name for name, _ in plan.output_fields]
        error = ""
        raw = ""
        for _ in range(max(1, plan.settings.max_iters)):
            response = await self.call(messages)
            raw = response.text
            try:
                code = strip_fences(parse_outputs(spec.adapter, raw, plan.lm_fields)["code"])
            except OutputParseError as exc:
                error = str(exc)
                messages = [*messages, _assistant(raw), retry_message(spec, error)]
                continue
            result = await arun_python(code, inputs=dict(self.inputs), outputs=names)
            if result.ok and result.outputs is not None:
                try:
                    values = {
                        name: coerce(result.outputs.get(name), False, name)
                        for name, coerce in plan.output_fields
                    }
                    return {**values, "code": code}
                except CoercionError as exc:
                    error = f"the code ran, but output {exc}"
            else:
                error = f"{result.status}: {result.error or 'no details'}"
                if result.stdout:
                    error += f"\nprinted output:\n{result.stdout}"
            messages = [*messages, _assistant(raw), pot_retry_message(spec, error)]
        raise DspxOutputError(
            f"pot: no working code after {plan.settings.max_iters} attempt(s); the last "
            f"problem: {error}",
            raw=raw,
            program=self.program,
            step=plan.step.name,
        )

    # ---------------------------------------------------------------------- react

    async def react_native(self) -> dict[str, Any]:
        plan, spec = self.plan, self.plan.spec
        messages: Messages = list(
            render_messages(spec, self.inputs, plan.demos, native_tools=True, **self.native)
        )
        for _ in range(max(1, plan.settings.max_iters)):
            response = await self.call(messages, tools=True)
            if not response.tool_calls:
                try:
                    return parse_outputs(spec.adapter, response.text, plan.lm_fields)
                except OutputParseError as exc:
                    messages = [*messages, _assistant(response.text), retry_message(spec, str(exc))]
                    continue
            messages.append(
                {
                    "role": "assistant",
                    "content": response.text or None,
                    "tool_calls": [
                        {
                            "id": c.id,
                            "type": "function",
                            "function": {"name": c.name, "arguments": c.arguments},
                        }
                        for c in response.tool_calls
                    ],
                }
            )
            for tool_call in response.tool_calls:
                messages.append(
                    {
                        "role": "tool",
                        "tool_call_id": tool_call.id,
                        "content": await self.observe(tool_call.name, tool_call.arguments),
                    }
                )
        messages = [*messages, react_stop_message(spec)]
        return await self.predict(spec, messages, plan.lm_fields, tools=True, tool_choice="none")

    async def react_text(self) -> dict[str, Any]:
        plan, spec = self.plan, self.plan.spec
        turn_spec = react_turn_spec(spec)
        tool_names = (*plan.tools, FINISH_TOOL)
        turn_fields: tuple[OutputField, ...] = (
            ("next_thought", plan.lm_fields[0][1]),
            ("next_tool_name", choice_coercer(tool_names)),
            ("next_tool_args", json_object_coercer()),
        )
        trajectory: list[tuple[str, str, str, str]] = []
        for _ in range(max(1, plan.settings.max_iters)):
            inputs = {**self.inputs, "trajectory": format_trajectory(trajectory)}
            messages = render_messages(turn_spec, inputs)
            try:
                turn = await self.predict(turn_spec, messages, turn_fields)
            except DspxOutputError:
                break  # an unreadable turn ends the loop; the extraction still runs
            tool = turn["next_tool_name"]
            if tool == FINISH_TOOL:
                break
            arguments = json.dumps(turn["next_tool_args"], ensure_ascii=False)
            observation = await self.observe(tool, turn["next_tool_args"])
            trajectory.append((turn["next_thought"], tool, arguments, observation))
        extract = react_extract_spec(spec)
        inputs = {**self.inputs, "trajectory": format_trajectory(trajectory)}
        messages = render_messages(extract, inputs, plan.demos, **self.native)
        fields = tuple(
            (name, coerce) for name, coerce in plan.lm_fields if name in _names(lm_outputs(extract))
        )
        return await self.predict(extract, messages, fields)

    async def observe(self, name: str, arguments: Any) -> str:
        tool = self.plan.tools.get(name)
        if tool is None:
            return f"error: there is no tool '{name}'; the tools are {', '.join(self.plan.tools)}"
        return await tool.acall(arguments)


def _assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def _names(fields: Sequence[Any]) -> set[str]:
    return {f.name for f in fields}
