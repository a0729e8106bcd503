"""Evaluation end to end over real HTTP: objective values, error accounting, streaming,
resume, the spend hook, cancellation and secrets."""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from eval_kit import COST, ROWS, USAGE, answer, answer_by_utterance, build, user_text, write_intent
from fixtures.lm_plugin import FAST_RETRY
from fixtures.lm_server import FakeLMServer, RecordedRequest, Reply

from dspx_lang.codegen.build import compile_source, write_outputs
from dspx_lang.runtime.errors import DspxConfigError
from dspx_lang.runtime.eval_results import ExampleResult
from dspx_lang.runtime.examples import DspxDataError
from dspx_lang.runtime.lm import LMClient, LMResponse
from dspx_lang.runtime.metering import PendingCall, SpendLimit
from dspx_lang.runtime.report import render_report

SCRIPT = {utterance: reply for utterance, _, reply in ROWS}
ROWS_DATA = [{"utterance": u, "intent": label} for u, label, _ in ROWS]


@pytest.fixture
def client() -> Iterator[LMClient]:
    """No cache: every example that runs makes its requests (resume tests count them)."""
    with LMClient(cache=False, retry=FAST_RETRY) as lm:
        yield lm


def requested(server: FakeLMServer) -> list[str]:
    return [user_text(r) for r in server.chat_requests]


def about(texts: list[str], utterance: str) -> int:
    return sum(utterance in t for t in texts)


# ------------------------------------------------------------------------- objective values


async def test_objective_values_are_means_over_scored_examples(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    result = await program.aevaluate(ROWS_DATA, concurrency=3)
    assert result.value("exact_match(intent)") == pytest.approx(3 / 5)
    assert result.value("cost") == pytest.approx(COST)
    assert result.tokens == sum(USAGE)
    assert result.score == pytest.approx(3 / 5)
    assert [o.weight for o in result.objectives] == pytest.approx([0.8, 0.2])
    assert (result.correct, result.wrong, result.scored) == (3, 2, 5)
    assert result.spent_usd == pytest.approx(5 * COST)
    assert [b.within for b in result.budgets] == [True]
    assert [r.index for r in result.results] == [0, 1, 2, 3, 4]
    assert [r.scores["exact_match(intent)"] for r in result.results] == [1, 1, 0, 1, 0]


async def test_infra_failures_are_counted_and_never_scored(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance({**SCRIPT, "play some jazz": "500"}))
    program = build(write_intent(tmp_path, lm_server.base_url, retries=2), client)
    result = await program.aevaluate(ROWS_DATA)
    failed = result.results[1]
    assert failed.status == "infra_error"
    assert failed.scores == {}
    assert failed.error_type == "DspxProviderError"
    assert "HTTP 500" in (failed.error or "")
    assert about(requested(lm_server), "play some jazz") == 3  # retried twice, then given up
    assert result.count("infra_error") == 1
    assert result.value("exact_match(intent)") == pytest.approx(2 / 4)
    assert result.objectives[0].count == 4


async def test_output_failures_score_zero(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance({**SCRIPT, "will it rain today": "junk"}))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    result = await program.aevaluate(ROWS_DATA)
    failed = result.results[0]
    assert failed.status == "output_error"
    assert failed.error_type == "DspxOutputError"
    assert failed.scores == {"exact_match(intent)": 0.0}
    assert failed.calls == 2  # the answer, then the retry with the error shown
    assert failed.cost_usd == pytest.approx(2 * COST)
    assert result.value("exact_match(intent)") == pytest.approx(2 / 5)
    assert (result.count("output_error"), result.correct, result.wrong) == (1, 2, 2)


async def test_budgets_are_checked_against_measured_means(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(lambda request: Reply(content=answer("weather"), usage=(300, 50)))
    objectives = "objective maximize exact_match(intent)\nbudget tokens <= 200\nbudget cost <= $1"
    program = build(write_intent(tmp_path, lm_server.base_url, objectives=objectives), client)
    result = await program.aevaluate(ROWS_DATA)
    assert [(b.metric, b.measured, b.within) for b in result.budgets] == [
        ("tokens", 350.0, False),
        ("cost", pytest.approx((300 * 0.5 + 50 * 2.0) / 1e6), True),
    ]
    assert result.within_budget is False


async def test_an_unknown_price_is_unknown_not_zero(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    path = write_intent(tmp_path, lm_server.base_url)
    text = path.read_text().replace('"openai/gpt-4o-mini"', '"openai/fixture-unpriced"')
    path.write_text(text.replace("  input_cost: 0.5\n  output_cost: 2.0\n", ""))
    text = path.read_text().replace("budget tokens <= 10000", "budget cost <= $1")
    path.write_text(text)
    result = await build(path, client).aevaluate(ROWS_DATA)
    assert result.value("cost") is None
    assert result.cost_usd is None
    assert not result.spent_known
    assert [b.within for b in result.budgets] == [None]
    assert result.within_budget is None
    assert result.value("exact_match(intent)") == pytest.approx(3 / 5)


async def test_without_objectives_each_output_is_exact_matched(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    program = build(write_intent(tmp_path, lm_server.base_url, objectives=""), client)
    result = await program.aevaluate(ROWS_DATA)
    assert [(o.name, o.weight) for o in result.objectives] == [("exact_match(intent)", 1.0)]
    assert result.value("exact_match(intent)") == pytest.approx(0.6)


def test_a_declared_dataset_is_read_with_its_mapping(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    by_name = program.evaluate("dev", limit=4)  # the sync twin; `dev` maps intent <- label
    by_path = program.evaluate(tmp_path / "dev.jsonl", limit=4)
    assert by_name.total == by_path.total == 4
    assert by_name.value("exact_match(intent)") == by_path.value("exact_match(intent)") == 0.75


def test_a_compiled_module_evaluates_too(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    result = compile_source(write_intent(tmp_path, lm_server.base_url))
    write_outputs(result, tmp_path / "gen")
    spec = importlib.util.spec_from_file_location("eval_intent_gen", tmp_path / "gen" / "intent.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    classify = module.classify.with_client(client)
    evaluated = classify.evaluate(ROWS_DATA, concurrency=2)  # as in TOOLCHAIN.md
    assert evaluated.value("exact_match(intent)") == pytest.approx(3 / 5)


# --------------------------------------------------------------------------- Python metrics


async def test_python_metrics_are_found_next_to_the_file(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    objectives = (
        'objective maximize metric("scoring:is_weather") weight 3\n'
        'objective maximize metric("scoring:half")'
    )
    program = build(write_intent(tmp_path, lm_server.base_url, objectives=objectives), client)
    result = await program.aevaluate(ROWS_DATA)
    assert result.value('metric("scoring:is_weather")') == pytest.approx(2 / 5)
    assert result.value('metric("scoring:half")') == 0.5
    assert result.score == pytest.approx(0.75 * 2 / 5 + 0.25 * 0.5)


async def test_a_failing_metric_is_counted_for_its_example(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    rows = [*ROWS_DATA, {"utterance": "break the metric", "intent": "music"}]
    objectives = 'objective maximize metric("scoring:broken")'
    program = build(write_intent(tmp_path, lm_server.base_url, objectives=objectives), client)
    result = await program.aevaluate(rows)
    broken = result.results[-1]
    assert broken.status == "metric_error"
    assert "ValueError: metric bug" in (broken.error or "")
    assert result.count("metric_error") == 1
    assert result.value('metric("scoring:broken")') == 1.0
    assert result.objectives[0].count == 5


async def test_a_metric_must_return_a_number(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    objectives = 'objective maximize metric("scoring:not_a_number")'
    program = build(write_intent(tmp_path, lm_server.base_url, objectives=objectives), client)
    result = await program.aevaluate(ROWS_DATA[:1])
    assert result.results[0].status == "metric_error"
    assert "returned 'yes' (str)" in (result.results[0].error or "")
    assert result.value('metric("scoring:not_a_number")') is None


async def test_a_missing_metric_fails_before_any_call(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    objectives = 'objective maximize metric("scoring:nowhere")'
    program = build(write_intent(tmp_path, lm_server.base_url, objectives=objectives), client)
    with pytest.raises(DspxConfigError, match=r"has no 'nowhere'"):
        await program.aevaluate(ROWS_DATA)
    assert lm_server.chat_requests == []


# ------------------------------------------------------------------- concurrency, streaming


async def test_concurrency_bounds_the_examples_in_flight(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance({}))
    lm_server.delay_s = 0.05
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    rows = [{"utterance": f"request {i}", "intent": "weather"} for i in range(16)]
    result = await program.aevaluate(rows, concurrency=4)
    assert result.scored == 16
    assert lm_server.max_in_flight == 4


async def test_results_stream_to_the_file_as_examples_finish(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    out = tmp_path / "runs" / "results.jsonl"
    seen: list[tuple[int, int]] = []

    def on_result(result: ExampleResult) -> None:
        lines = out.read_text().splitlines()
        seen.append((result.index, json.loads(lines[-1])["index"]))

    result = await program.aevaluate(ROWS_DATA, concurrency=2, out=out, on_result=on_result)
    header, *lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert header["kind"] == "evaluation"
    assert header["program"] == "classify"
    assert header["objectives"] == ["exact_match(intent)", "cost"]
    assert all(index == last for index, last in seen)  # written before the callback ran
    assert sorted(line["index"] for line in lines) == [0, 1, 2, 3, 4]
    first = next(line for line in lines if line["index"] == 2)
    assert first["inputs"] == {"utterance": "book a table for two"}
    assert first["expected"] == {"intent": "booking"}
    assert first["outputs"] == {"intent": "music"}
    assert first["scores"] == {"exact_match(intent)": 0.0}
    assert first["status"] == "ok"
    assert first["cost_usd"] == pytest.approx(COST)
    assert (first["prompt_tokens"], first["completion_tokens"]) == USAGE
    assert result.results[2] == ExampleResult.from_json(first)


# ------------------------------------------------------------------------------------ resume


async def test_resume_runs_only_the_unfinished_examples(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance({**SCRIPT, "put on the radio": "500"}))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    out = tmp_path / "results.jsonl"
    first = await program.aevaluate(ROWS_DATA, limit=3, out=out)
    first_requests = len(lm_server.chat_requests)
    assert first.total == 3
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    result = await program.aevaluate(ROWS_DATA, out=out, resume=True)
    redone = requested(lm_server)[first_requests:]
    assert [about(redone, u) for u, _, _ in ROWS] == [0, 0, 0, 1, 1]
    assert result.resumed == 3
    assert result.value("exact_match(intent)") == pytest.approx(3 / 5)
    assert result.results[:3] == first.results


async def test_resume_runs_infra_failures_again(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance({**SCRIPT, "play some jazz": "500"}))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    out = tmp_path / "results.jsonl"
    assert (await program.aevaluate(ROWS_DATA, out=out)).count("infra_error") == 1
    lm_server.reset()
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    result = await program.aevaluate(ROWS_DATA, out=out, resume=True)
    assert requested(lm_server)
    assert all("play some jazz" in t for t in requested(lm_server))
    assert (result.resumed, result.count("infra_error"), result.scored) == (4, 0, 5)


async def test_resume_drops_a_line_cut_short(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    out = tmp_path / "results.jsonl"
    await program.aevaluate(ROWS_DATA, limit=2, out=out)
    with out.open("a") as handle:
        handle.write('{"kind": "example", "index": 2, "sta')  # a run killed mid-write
    result = await program.aevaluate(ROWS_DATA, out=out, resume=True)
    assert result.resumed == 2
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["index"] for line in lines[1:]) == [0, 1, 2, 3, 4]


async def test_resume_of_a_file_cut_in_its_header_starts_over(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    out = tmp_path / "results.jsonl"
    out.write_text('{"kind": "evaluation", "vers')
    result = await program.aevaluate(ROWS_DATA, out=out, resume=True)
    assert (result.resumed, result.scored) == (0, 5)
    header, *lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert header["kind"] == "evaluation"
    assert len(lines) == 5


async def test_resume_refuses_another_configuration(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    out = tmp_path / "results.jsonl"
    await program.aevaluate(ROWS_DATA, limit=2, out=out)
    before = out.read_text()
    with pytest.raises(DspxDataError, match=r"differs in: fingerprint"):
        await program.configure(demos=1).aevaluate(ROWS_DATA, out=out, resume=True)
    changed = [dict(ROWS_DATA[0], utterance="something else"), *ROWS_DATA[1:]]
    with pytest.raises(DspxDataError, match=r"example 0 has other inputs"):
        await program.aevaluate(changed, out=out, resume=True)
    assert out.read_text() == before


# ------------------------------------------------------------------ spend hook, cancellation


class CountingHook:
    """Allows `allowed` calls, then refuses; records what it was told."""

    def __init__(self, allowed: int) -> None:
        self.allowed = allowed
        self.asked: list[PendingCall] = []
        self.settled: list[LMResponse | None] = []

    async def authorize(self, call: PendingCall) -> object:
        self.asked.append(call)
        if len(self.asked) > self.allowed:
            raise RuntimeError("the wallet is empty")
        return len(self.asked)

    def settle(self, ticket: object, response: LMResponse | None) -> None:
        self.settled.append(response)


async def test_a_spend_hook_stops_the_evaluation_cleanly(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    hook = CountingHook(allowed=3)
    result = await program.aevaluate(ROWS_DATA, concurrency=1, spend=hook)
    assert len(lm_server.chat_requests) == 3
    assert [r.status for r in result.results] == ["ok", "ok", "ok", "stopped"]
    assert result.stopped
    assert "the wallet is empty" in (result.stop_reason or "")
    assert (result.not_run, result.scored) == (1, 3)
    assert [r is not None and r.cost_usd for r in hook.settled] == [pytest.approx(COST)] * 3
    assert all(c.cost_bound_usd is not None and c.cost_bound_usd > COST for c in hook.asked)


async def test_a_spend_limit_of_zero_sends_nothing(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    result = await program.aevaluate(ROWS_DATA, concurrency=2, spend=SpendLimit(0.0))
    assert lm_server.chat_requests == []
    assert result.stopped
    assert result.scored == 0
    assert "spend limit $0" in (result.stop_reason or "")


async def test_cancelling_keeps_the_finished_examples(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    fast = {"will it rain today", "play some jazz"}

    def respond(request: RecordedRequest) -> Reply:
        text = user_text(request)
        slow = not any(u in text for u in fast)
        return Reply(content=answer("weather"), delay_s=60.0 if slow else 0.0)

    lm_server.respond_with(respond)
    program = build(write_intent(tmp_path, lm_server.base_url, timeout="120s"), client)
    out = tmp_path / "results.jsonl"
    finished: list[int] = []
    task = asyncio.ensure_future(
        program.aevaluate(
            ROWS_DATA, concurrency=5, out=out, on_result=lambda r: finished.append(r.index)
        )
    )
    for _ in range(400):
        if len(finished) == 2 and lm_server.in_flight == 3:
            break
        await asyncio.sleep(0.025)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(line["index"] for line in lines[1:]) == [0, 1]
    for _ in range(400):  # the held requests are abandoned by the client
        if lm_server.in_flight == 0:
            break
        await asyncio.sleep(0.025)
    assert lm_server.in_flight == 0


async def test_concurrent_evaluations_keep_their_own_accounts(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    def respond(request: RecordedRequest) -> Reply:
        big = "big" in user_text(request)
        return Reply(content=answer("weather"), usage=(200, 20) if big else USAGE)

    lm_server.respond_with(respond)
    lm_server.delay_s = 0.01
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    small = [{"utterance": f"small {i}", "intent": "weather"} for i in range(20)]
    big = [{"utterance": f"big {i}", "intent": "weather"} for i in range(20)]
    hooks = CountingHook(allowed=100), CountingHook(allowed=100)
    first, second = await asyncio.gather(
        program.aevaluate(small, concurrency=4, spend=hooks[0]),
        program.configure(demos=1).aevaluate(big, concurrency=4, spend=hooks[1]),
    )
    assert (first.tokens, second.tokens) == (110, 220)
    assert first.spent_usd == pytest.approx(20 * COST)
    assert second.spent_usd == pytest.approx(20 * (200 * 0.5 + 20 * 2.0) / 1e6)
    assert [len(h.settled) for h in hooks] == [20, 20]
    assert all("small" in user_text_of(c) for c in hooks[0].asked)
    assert all("big" in user_text_of(c) for c in hooks[1].asked)


def user_text_of(call: PendingCall) -> str:
    return "\n".join(str(m.get("content", "")) for m in call.request.messages)


# --------------------------------------------------------------------------- multi-step, secrets

TWO_STEPS = """
program twice {
  in utterance: string
  out intent: Intent
  out again: Intent

  step a = predict Classify(utterance) { model: fx }
  step b = predict Classify(utterance) { model: fx }

  return { intent: a.intent, again: b.intent }
  objective maximize exact_match(intent)
}
"""


async def test_every_step_counts_in_its_example(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient
) -> None:
    lm_server.respond_with(answer_by_utterance(SCRIPT))
    path = write_intent(tmp_path, lm_server.base_url)
    path.write_text(path.read_text() + TWO_STEPS)
    result = await build(path, client, "twice").aevaluate(ROWS_DATA, concurrency=5)
    assert [r.calls for r in result.results] == [2] * 5
    assert result.tokens == 2 * sum(USAGE)
    assert result.spent_usd == pytest.approx(10 * COST)


async def test_api_keys_never_reach_results_or_reports(
    tmp_path: Path, lm_server: FakeLMServer, client: LMClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-evaltest-0123456789abcdefSECRET"
    monkeypatch.setenv("OPENAI_API_KEY", secret)

    def leak(request: RecordedRequest) -> Reply:
        return Reply.error(500, f"bad key {request.headers.get('Authorization')} for {secret}")

    lm_server.respond_with(leak)
    program = build(write_intent(tmp_path, lm_server.base_url), client)
    out = tmp_path / "results.jsonl"
    result = await program.aevaluate(ROWS_DATA[:2], out=out)
    assert lm_server.chat_requests[0].headers["Authorization"] == f"Bearer {secret}"
    assert result.count("infra_error") == 2
    written = out.read_text() + render_report(result)
    assert "bad key" in written
    assert secret not in written
    assert "0123456789abcdef" not in written
